// A fake CUDA driver and a fake NVRTC, as tables of C function pointers, so that the driver layer's
// error paths and bookkeeping can be tested on machines without a GPU.
//
// The entries are non-capturing closures (they must convert to `@convention(c)`); what they do is
// steered by the static state in `Fake`, which every test resets. Tests that use it run in the one
// serialised suite `FakeDriverTests`.

import CCUDA
@testable import CUDADriver
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A C string that lives as long as the process: a string literal's bytes (they end in NUL).
func cString(_ literal: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(literal.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// Behaviour and call counts of the fake driver and the fake NVRTC.
enum Fake {
    /// Calls the fakes count.
    enum Call: Int, CaseIterable {
        case cuInit, primaryCtxRetain, primaryCtxRelease, memAlloc, memFree, moduleLoad, moduleUnload
        case moduleGetFunction, launch, streamCreate, streamDestroy, eventCreate, eventDestroy
        case createProgram, compileProgram, destroyProgram, getCUBIN
        case memAllocAsync, memFreeAsync, poolCreate, poolDestroy, poolSetAttribute, poolGetAttribute
    }

    /// Every call that takes a stream, with the stream it was given, in order.
    nonisolated(unsafe) static var streamCalls: [(call: String, stream: CUstream?)] = []
    /// Every call that makes the host wait for the device (or, as `cuMemAlloc`/`cuMemFree` can,
    /// synchronises it), in order.
    nonisolated(unsafe) static var hostWaits: [String] = []
    /// Whether streams are capturing a graph (cuStreamIsCapturing says so, cuEventQuery refuses).
    nonisolated(unsafe) static var capturing = false
    /// Whether events report their work as not done yet.
    nonisolated(unsafe) static var eventsPending = false
    /// The flags of every cuStreamWaitEvent.
    nonisolated(unsafe) static var waitFlags: [UInt32] = []

    static func onStream(_ call: String, _ stream: CUstream?) { streamCalls.append((call, stream)) }
    static func hostWait(_ call: String) { hostWaits.append(call) }

    private static let counts = Mutex<[Int]>(Array(repeating: 0, count: Call.allCases.count))

    static func record(_ call: Call) { counts.withLock { $0[call.rawValue] += 1 } }
    static func count(_ call: Call) -> Int { counts.withLock { $0[call.rawValue] } }

    // Results the fakes return (0 = success).
    nonisolated(unsafe) static var initResult: CUresult = 0
    nonisolated(unsafe) static var deviceCount: Int32 = 1
    nonisolated(unsafe) static var ctxSetCurrentResult: CUresult = 0
    nonisolated(unsafe) static var primaryCtxRetainGivesContext = true
    nonisolated(unsafe) static var memAllocResult: CUresult = 0
    nonisolated(unsafe) static var streamCreateResult: CUresult = 0
    nonisolated(unsafe) static var createProgramResult: nvrtcResult = 0
    nonisolated(unsafe) static var compileResult: nvrtcResult = 0
    /// What `CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED` reads as (nil: the attribute is unknown).
    nonisolated(unsafe) static var poolsSupported: Int32? = 1
    nonisolated(unsafe) static var memAllocAsyncResult: CUresult = 0
    nonisolated(unsafe) static var poolCreateResult: CUresult = 0
    /// What `cuMemPoolCreate` was last given: allocation type, location type and id.
    nonisolated(unsafe) static var poolProperties: (allocType: Int32, locationType: Int32, id: Int32)? = nil
    nonisolated(unsafe) static var poolSetAttributeResult: CUresult = 0
    nonisolated(unsafe) static var poolGetAttributeResult: CUresult = 0

    // The fake pool DNLS creates: its release threshold, bytes in use and their high-water mark.
    nonisolated(unsafe) static var poolReleaseThreshold: UInt64 = 0
    nonisolated(unsafe) static var poolUsed: UInt64 = 0
    nonisolated(unsafe) static var poolUsedHigh: UInt64 = 0
    nonisolated(unsafe) static var poolSizes: [CUdeviceptr: Int] = [:]
    nonisolated(unsafe) static var asyncStreams: [CUstream?] = []

    // What the fakes were given.
    nonisolated(unsafe) static var lastAllocationBytes = -1
    nonisolated(unsafe) static var freedAddresses: [CUdeviceptr] = []
    nonisolated(unsafe) static var compileOptions: [String] = []
    nonisolated(unsafe) static var programNames: [String] = []
    nonisolated(unsafe) static var loadedImages: [String] = []
    nonisolated(unsafe) static var launchGrid: [UInt32] = []
    nonisolated(unsafe) static var launchSharedBytes: UInt32 = 0
    /// The first parameter of the last launch, `launchParameterBytes` of it.
    nonisolated(unsafe) static var launchParameter: [UInt8] = []
    /// Bytes of the first launch parameter to record (its struct's size).
    nonisolated(unsafe) static var launchParameterBytes = 0

    /// "Device memory": one host block handed out by a bump allocator, so copies really move bytes.
    static let memorySize = 1 << 20
    nonisolated(unsafe) static let memory = UnsafeMutableRawPointer.allocate(byteCount: memorySize, alignment: 256)
    nonisolated(unsafe) static var memoryUsed = 0
    static var memoryBase: CUdeviceptr { CUdeviceptr(UInt(bitPattern: memory)) }

    /// The fake context, module, function, stream and event handles (never dereferenced).
    nonisolated(unsafe) static let context = OpaquePointer(bitPattern: 0xC0_0000)!
    nonisolated(unsafe) static let module = OpaquePointer(bitPattern: 0x30_0000)!
    nonisolated(unsafe) static let function = OpaquePointer(bitPattern: 0xF0_0000)!
    /// Entry points by name: each gets `function` plus 16 × its number, so launches can be told apart.
    nonisolated(unsafe) static var functionNames: [String] = []
    /// The name of every kernel launched, in order.
    nonisolated(unsafe) static var launchedNames: [String] = []
    static func functionHandle(_ name: String) -> OpaquePointer {
        let index = functionNames.firstIndex(of: name) ?? { functionNames.append(name); return functionNames.count - 1 }()
        return OpaquePointer(bitPattern: 0xF0_0000 + 16 * index)!
    }
    nonisolated(unsafe) static let stream = OpaquePointer(bitPattern: 0x50_0000)!
    nonisolated(unsafe) static let event = OpaquePointer(bitPattern: 0xE0_0000)!
    nonisolated(unsafe) static let program = OpaquePointer(bitPattern: 0x90_0000)!
    nonisolated(unsafe) static let pool = OpaquePointer(bitPattern: 0x70_0000)!

    /// Everything back to a working GPU with nothing called yet.
    static func reset() {
        counts.withLock { $0 = Array(repeating: 0, count: Call.allCases.count) }
        launchedNames = []
        initResult = 0
        deviceCount = 1
        ctxSetCurrentResult = 0
        primaryCtxRetainGivesContext = true
        memAllocResult = 0
        streamCreateResult = 0
        createProgramResult = 0
        compileResult = 0
        lastAllocationBytes = -1
        freedAddresses = []
        compileOptions = []
        programNames = []
        loadedImages = []
        launchGrid = []
        launchSharedBytes = 0
        launchParameterBytes = 0
        launchParameter = []
        memoryUsed = 0
        poolsSupported = 1
        memAllocAsyncResult = 0
        poolCreateResult = 0
        poolProperties = nil
        streamCalls = []
        hostWaits = []
        capturing = false
        eventsPending = false
        waitFlags = []
        poolSetAttributeResult = 0
        poolGetAttributeResult = 0
        poolReleaseThreshold = 0
        poolUsed = 0
        poolUsedHigh = 0
        poolSizes = [:]
        asyncStreams = []
    }

    /// The bump allocator behind both `cuMemAlloc` and `cuMemAllocFromPoolAsync`.
    static func bumpAllocate(_ bytes: Int) -> CUdeviceptr? {
        let start = (memoryUsed + 255) & ~255
        guard start + bytes <= memorySize else { return nil }
        memoryUsed = start + bytes
        return memoryBase + CUdeviceptr(start)
    }

    /// `driver` with the stream-ordered allocator and the memory pool entry points.
    static let pooledDriver: DriverFunctions = {
        var d = driver
        d.cuMemAllocFromPoolAsync = { pointer, bytes, pool, stream in
            Fake.record(.memAllocAsync)
            Fake.onStream("cuMemAllocFromPoolAsync", stream)
            guard pool == Fake.pool else { return 1 }
            Fake.lastAllocationBytes = bytes
            Fake.asyncStreams.append(stream)
            guard Fake.memAllocAsyncResult == 0 else { return Fake.memAllocAsyncResult }
            guard let address = Fake.bumpAllocate(bytes) else { return 2 }
            Fake.poolSizes[address] = bytes
            Fake.poolUsed += UInt64(bytes)
            Fake.poolUsedHigh = max(Fake.poolUsedHigh, Fake.poolUsed)
            pointer?.pointee = address
            return 0
        }
        d.cuMemFreeAsync = { pointer, stream in
            Fake.record(.memFreeAsync)
            Fake.onStream("cuMemFreeAsync", stream)
            Fake.asyncStreams.append(stream)
            Fake.freedAddresses.append(pointer)
            guard let bytes = Fake.poolSizes.removeValue(forKey: pointer) else { return 1 }
            Fake.poolUsed -= UInt64(bytes)
            return 0
        }
        d.cuMemPoolCreate = { pool, properties in
            Fake.record(.poolCreate)
            guard Fake.poolCreateResult == 0 else { return Fake.poolCreateResult }
            guard let p = properties?.pointee else { return 1 }
            Fake.poolProperties = (p.allocType, p.location.type, p.location.id)
            pool?.pointee = Fake.pool
            return 0
        }
        d.cuMemPoolDestroy = { pool in
            Fake.record(.poolDestroy)
            return pool == Fake.pool ? 0 : 1
        }
        d.cuMemPoolSetAttribute = { pool, attribute, value in
            Fake.record(.poolSetAttribute)
            guard Fake.poolSetAttributeResult == 0 else { return Fake.poolSetAttributeResult }
            guard pool == Fake.pool, let value else { return 1 }
            let v = value.load(as: UInt64.self)
            switch attribute {
            case Int32(DNLS_CU_MEMPOOL_ATTR_RELEASE_THRESHOLD): Fake.poolReleaseThreshold = v
            case Int32(DNLS_CU_MEMPOOL_ATTR_USED_MEM_HIGH):
                guard v == 0 else { return 1 }  // as the real driver: only a reset to 0
                Fake.poolUsedHigh = Fake.poolUsed
            default: return 1
            }
            return 0
        }
        d.cuStreamIsCapturing = { _, status in
            status?.pointee = Fake.capturing ? 1 : 0
            return 0
        }
        d.cuMemPoolGetAttribute = { pool, attribute, value in
            Fake.record(.poolGetAttribute)
            guard Fake.poolGetAttributeResult == 0 else { return Fake.poolGetAttributeResult }
            guard pool == Fake.pool, let value else { return 1 }
            switch attribute {
            case Int32(DNLS_CU_MEMPOOL_ATTR_RELEASE_THRESHOLD): value.storeBytes(of: Fake.poolReleaseThreshold, as: UInt64.self)
            case Int32(DNLS_CU_MEMPOOL_ATTR_USED_MEM_CURRENT): value.storeBytes(of: Fake.poolUsed, as: UInt64.self)
            case Int32(DNLS_CU_MEMPOOL_ATTR_USED_MEM_HIGH): value.storeBytes(of: Fake.poolUsedHigh, as: UInt64.self)
            default: return 1
            }
            return 0
        }
        return d
    }()

    /// A driver that works (one "Fake GPU", compute capability 9.0, 132 SMs, driver 13.0) unless
    /// the state above says otherwise. Error codes 2 and 100 have names and messages; any other
    /// code is unknown to it, as an unknown code is to the real `cuGetErrorName`.
    static let driver = DriverFunctions(
        cuInit: { _ in Fake.record(.cuInit); return Fake.initResult },
        cuDriverGetVersion: { version in version?.pointee = 13000; return 0 },
        cuDeviceGetCount: { count in count?.pointee = Fake.deviceCount; return 0 },
        cuDeviceGet: { device, ordinal in device?.pointee = ordinal; return 0 },
        cuDeviceGetName: { name, length, _ in
            guard let name, length > 0 else { return 1 }
            strncpy(name, cString("Fake GPU"), Int(length) - 1)
            name[Int(length) - 1] = 0
            return 0
        },
        cuDeviceGetAttribute: { value, attribute, _ in
            switch attribute {
            case Int32(DNLS_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR): value?.pointee = 9
            case Int32(DNLS_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR): value?.pointee = 0
            case Int32(DNLS_CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT): value?.pointee = 132
            case Int32(DNLS_CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN): value?.pointee = 232_448
            case Int32(DNLS_CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK): value?.pointee = 49_152
            case Int32(DNLS_CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK): value?.pointee = 1024
            case Int32(DNLS_CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED):
                guard let supported = Fake.poolsSupported else { return 1 }
                value?.pointee = supported
            default: return 1
            }
            return 0
        },
        cuDeviceTotalMem: { bytes, _ in bytes?.pointee = 80 << 30; return 0 },
        cuDevicePrimaryCtxRetain: { context, _ in
            Fake.record(.primaryCtxRetain)
            context?.pointee = Fake.primaryCtxRetainGivesContext ? Fake.context : nil
            return 0
        },
        cuDevicePrimaryCtxRelease: { _ in Fake.record(.primaryCtxRelease); return 0 },
        cuCtxSetCurrent: { _ in Fake.ctxSetCurrentResult },
        cuCtxSynchronize: { Fake.hostWait("cuCtxSynchronize"); return 0 },
        cuMemGetInfo: { free, total in free?.pointee = 1 << 30; total?.pointee = 2 << 30; return 0 },
        cuMemAlloc: { pointer, bytes in
            Fake.record(.memAlloc)
            Fake.hostWait("cuMemAlloc")
            Fake.lastAllocationBytes = bytes
            guard Fake.memAllocResult == 0 else { return Fake.memAllocResult }
            guard let address = Fake.bumpAllocate(bytes) else { return 2 }
            pointer?.pointee = address
            return 0
        },
        cuMemFree: { pointer in
            Fake.record(.memFree)
            Fake.hostWait("cuMemFree")
            Fake.freedAddresses.append(pointer)
            return 0
        },
        cuMemcpyHtoDAsync: { destination, source, bytes, stream in
            Fake.onStream("cuMemcpyHtoDAsync", stream)
            guard let source, let target = UnsafeMutableRawPointer(bitPattern: UInt(destination)) else { return 1 }
            target.copyMemory(from: source, byteCount: bytes)
            return 0
        },
        cuMemcpyDtoHAsync: { destination, source, bytes, stream in
            Fake.onStream("cuMemcpyDtoHAsync", stream)
            guard let destination, let from = UnsafeRawPointer(bitPattern: UInt(source)) else { return 1 }
            destination.copyMemory(from: from, byteCount: bytes)
            return 0
        },
        cuMemcpyDtoDAsync: { destination, source, bytes, stream in
            Fake.onStream("cuMemcpyDtoDAsync", stream)
            guard let target = UnsafeMutableRawPointer(bitPattern: UInt(destination)),
                  let from = UnsafeRawPointer(bitPattern: UInt(source)) else { return 1 }
            target.copyMemory(from: from, byteCount: bytes)
            return 0
        },
        cuMemsetD32Async: { destination, value, count, stream in
            Fake.onStream("cuMemsetD32Async", stream)
            guard let target = UnsafeMutableRawPointer(bitPattern: UInt(destination)) else { return 1 }
            let words = target.bindMemory(to: UInt32.self, capacity: count)
            for i in 0..<count { words[i] = value }
            return 0
        },
        cuModuleLoadData: { module, image in
            Fake.record(.moduleLoad)
            guard let image else { return 1 }
            Fake.loadedImages.append(String(cString: image.assumingMemoryBound(to: CChar.self)))
            module?.pointee = Fake.module
            return 0
        },
        cuModuleUnload: { _ in Fake.record(.moduleUnload); return 0 },
        cuModuleGetFunction: { function, _, name in
            Fake.record(.moduleGetFunction)
            guard let name, strcmp(name, cString("missing")) != 0 else { return 500 }
            function?.pointee = Fake.functionHandle(String(cString: name))
            return 0
        },
        cuFuncSetAttribute: { _, _, _ in 0 },
        cuLaunchKernel: { function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, stream, parameters, _ in
            Fake.record(.launch)
            if let function {
                let index = (Int(bitPattern: UnsafeRawPointer(function)) - 0xF0_0000) / 16
                Fake.launchedNames.append(Fake.functionNames.indices.contains(index) ? Fake.functionNames[index] : "?")
            }
            Fake.onStream("cuLaunchKernel", stream)
            Fake.launchGrid = [gridX, gridY, gridZ, blockX, blockY, blockZ]
            Fake.launchSharedBytes = sharedBytes
            if Fake.launchParameterBytes > 0, let first = parameters?[0] {
                Fake.launchParameter = Array(UnsafeRawBufferPointer(start: first, count: Fake.launchParameterBytes))
            }
            return 0
        },
        cuStreamCreate: { stream, _ in
            Fake.record(.streamCreate)
            guard Fake.streamCreateResult == 0 else { return Fake.streamCreateResult }
            stream?.pointee = Fake.stream
            return 0
        },
        cuStreamDestroy: { _ in Fake.record(.streamDestroy); return 0 },
        cuStreamSynchronize: { _ in Fake.hostWait("cuStreamSynchronize"); return 0 },
        cuStreamWaitEvent: { stream, _, flags in
            Fake.onStream("cuStreamWaitEvent", stream)
            Fake.waitFlags.append(flags)
            return 0
        },
        cuEventCreate: { event, _ in Fake.record(.eventCreate); event?.pointee = Fake.event; return 0 },
        cuEventDestroy: { _ in Fake.record(.eventDestroy); return 0 },
        cuEventRecord: { _, stream in Fake.onStream("cuEventRecord", stream); return 0 },
        cuEventSynchronize: { _ in Fake.hostWait("cuEventSynchronize"); return 0 },
        cuEventQuery: { _ in Fake.capturing ? 900 : (Fake.eventsPending ? 600 : 0) },  // 900: capture unsupported, 600: not ready
        cuEventElapsedTime: { milliseconds, _, _ in milliseconds?.pointee = 2.5; return 0 },
        cuGetErrorName: { code, name in
            switch code {
            case 2: name?.pointee = cString("CUDA_ERROR_OUT_OF_MEMORY")
            case 100: name?.pointee = cString("CUDA_ERROR_NO_DEVICE")
            case 500: name?.pointee = cString("CUDA_ERROR_NOT_FOUND")
            default: name?.pointee = nil; return 1
            }
            return 0
        },
        cuGetErrorString: { code, message in
            switch code {
            case 2: message?.pointee = cString("out of memory")
            case 100: message?.pointee = cString("no CUDA-capable device is detected")
            case 500: message?.pointee = cString("named symbol not found")
            default: message?.pointee = nil; return 1
            }
            return 0
        })

    /// The log the fake compiler writes when `compileResult` is not 0.
    static let compileLog: StaticString = "bad kernel"
    /// The "binary" the fake compiler produces (a C string, so the fake loader can read it back).
    static let cubin: StaticString = "FAKECUBIN"

    /// An NVRTC (version 13.0) that compiles anything to `cubin` unless the state says otherwise.
    static let nvrtc = NVRTCFunctions(
        nvrtcGetErrorString: { result in
            switch result {
            case 3: return cString("NVRTC_ERROR_INVALID_INPUT")
            case 6: return cString("NVRTC_ERROR_COMPILATION")
            default: return cString("NVRTC_ERROR_UNKNOWN")
            }
        },
        nvrtcVersion: { major, minor in major?.pointee = 13; minor?.pointee = 0; return 0 },
        nvrtcCreateProgram: { program, _, name, _, _, _ in
            Fake.record(.createProgram)
            guard Fake.createProgramResult == 0 else { return Fake.createProgramResult }
            Fake.programNames.append(name.map { String(cString: $0) } ?? "")
            program?.pointee = Fake.program
            return 0
        },
        nvrtcDestroyProgram: { program in
            Fake.record(.destroyProgram)
            program?.pointee = nil
            return 0
        },
        nvrtcCompileProgram: { _, count, options in
            Fake.record(.compileProgram)
            Fake.compileOptions = (0..<Int(count)).map { String(cString: options![$0]!) }
            return Fake.compileResult
        },
        nvrtcGetProgramLogSize: { _, size in size?.pointee = Fake.compileLog.utf8CodeUnitCount + 1; return 0 },
        nvrtcGetProgramLog: { _, log in
            guard let log else { return 3 }
            strcpy(log, cString(Fake.compileLog))
            return 0
        },
        nvrtcGetCUBINSize: { _, size in size?.pointee = Fake.cubin.utf8CodeUnitCount + 1; return 0 },
        nvrtcGetCUBIN: { _, binary in
            Fake.record(.getCUBIN)
            guard let binary else { return 3 }
            strcpy(binary, cString(Fake.cubin))
            return 0
        })
}
