import CCUDA
import CDNLSKernels
@testable import CUDADriver
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The driver layer against the fake driver and NVRTC of `FakeDriver.swift`. Serialised: the
/// fakes' behaviour and counters are process-wide, and each test starts from `Fake.reset()`.
@Suite(.serialized)
struct FakeDriverTests {
    init() { Fake.reset() }

    // MARK: contexts

    @Test func cuInitFailureIsATypedErrorWithTheDriversWords() {
        Fake.initResult = 100
        #expect(throws: CUDAError.driver(call: "cuInit", code: 100, name: "CUDA_ERROR_NO_DEVICE",
                                         message: "no CUDA-capable device is detected")) {
            try CUDAContext(ordinal: 0, driver: Fake.driver)
        }
        #expect(Fake.count(.primaryCtxRetain) == 0)
    }

    @Test func anOrdinalPastTheDeviceCountIsNoDevice() {
        Fake.deviceCount = 1
        #expect(throws: CUDAError.noDevice(ordinal: 3, count: 1)) { try CUDAContext(ordinal: 3, driver: Fake.driver) }
        #expect(throws: CUDAError.noDevice(ordinal: 1, count: 1)) { try CUDAContext(ordinal: 1, driver: Fake.driver) }
        #expect(throws: CUDAError.noDevice(ordinal: -1, count: 1)) { try CUDAContext(ordinal: -1, driver: Fake.driver) }
        Fake.deviceCount = 0
        #expect(throws: CUDAError.noDevice(ordinal: 0, count: 0)) { try CUDAContext(ordinal: 0, driver: Fake.driver) }
        #expect(Fake.count(.primaryCtxRetain) == 0)
    }

    @Test func aWorkingDriverGivesTheDevicesProperties() throws {
        Fake.deviceCount = 2
        let context = try CUDAContext(ordinal: 1, driver: Fake.driver)
        #expect(context.ordinal == 1)
        #expect(context.device == 1)
        #expect(context.name == "Fake GPU")
        #expect(context.computeCapability.major == 9 && context.computeCapability.minor == 0)
        #expect(context.architecture == "sm_90")
        #expect(context.multiprocessors == 132)
        #expect(context.maxSharedMemoryPerBlock == 232_448)
        #expect(context.driverVersion == 13000)
        #expect(context.context == Fake.context)
        let memory = try context.memoryInfo()
        #expect(memory.free == 1 << 30 && memory.total == 2 << 30)
        try context.synchronize()
    }

    @Test func aContextReleasesItsPrimaryContextOnDeinit() throws {
        do {
            let context = try CUDAContext(ordinal: 0, driver: Fake.driver)
            #expect(context.name == "Fake GPU")
            #expect(Fake.count(.primaryCtxRetain) == 1)
        }
        #expect(Fake.count(.primaryCtxRelease) == 1)
    }

    /// A failure after the primary context was retained still releases it (the init throws after
    /// every stored property is set, so deinit runs). An error code the driver has no name for is
    /// reported under a made-up name rather than lost.
    @Test func makeCurrentFailingInInitReleasesTheContextAndNamesUnknownCodes() {
        Fake.ctxSetCurrentResult = 201
        #expect(throws: CUDAError.driver(call: "cuCtxSetCurrent", code: 201, name: "CUDA_ERROR_201",
                                         message: "unknown error")) {
            try CUDAContext(ordinal: 0, driver: Fake.driver)
        }
        #expect(Fake.count(.primaryCtxRetain) == 1)
        #expect(Fake.count(.primaryCtxRelease) == 1)
    }

    @Test func aRetainThatGivesNoContextIsAnError() {
        Fake.primaryCtxRetainGivesContext = false
        #expect(throws: CUDAError.invalidArgument("cuDevicePrimaryCtxRetain returned no context")) {
            try CUDAContext(ordinal: 0, driver: Fake.driver)
        }
    }

    // MARK: device buffers

    @Test func outOfMemoryIsItsOwnCaseWithTheBytesAndFreesNothing() throws {
        let context = try CUDAContext(ordinal: 0, driver: Fake.driver)
        Fake.memAllocResult = 2
        let error = #expect(throws: CUDAError.self) { _ = try DeviceBuffer(context: context, byteCount: 1024) }
        #expect(error == .outOfMemory(bytes: 1024))
        #expect(error?.description == "out of device memory allocating 1024 bytes")
        #expect(Fake.count(.memAlloc) == 1)
        #expect(Fake.count(.memFree) == 0)
    }

    @Test func aBufferFreesItselfOnDeinit() throws {
        let context = try CUDAContext(ordinal: 0, driver: Fake.driver)
        var address: CUdeviceptr = 0
        do {
            let buffer = try DeviceBuffer(context: context, byteCount: 64)
            address = buffer.address
            let byteCount = buffer.byteCount
            #expect(byteCount == 64)
            #expect(Fake.lastAllocationBytes == 64)
            #expect(Fake.count(.memFree) == 0)
        }
        #expect(Fake.count(.memFree) == 1)
        #expect(Fake.freedAddresses == [address])
        #expect(address != 0)
    }

    @Test func everyBufferIsFreedExactlyOnce() throws {
        let context = try CUDAContext(ordinal: 0, driver: Fake.driver)
        do {
            let a = try DeviceBuffer(context: context, byteCount: 16)
            let b = try DeviceBuffer(context: context, byteCount: 16)
            let c = consume a
            let (first, second) = (c.address, b.address)
            #expect(first != second)
        }
        #expect(Fake.count(.memAlloc) == 2)
        #expect(Fake.count(.memFree) == 2)
        #expect(Set(Fake.freedAddresses).count == 2)
    }

    @Test func sizesAreCheckedOnTheHost() throws {
        let context = try CUDAContext(ordinal: 0, driver: Fake.driver)
        #expect(throws: CUDAError.invalidArgument("negative allocation size -1")) {
            _ = try DeviceBuffer(context: context, byteCount: -1)
        }
        #expect(Fake.count(.memAlloc) == 0)
        // An empty buffer still gets an address (one byte).
        let empty = try DeviceBuffer(context: context, byteCount: 0)
        #expect(Fake.lastAllocationBytes == 1)
        let emptyAddress = empty.address
        #expect(emptyAddress != 0)
        let small = try DeviceBuffer(context: context, byteCount: 8)
        let host = UnsafeMutableRawBufferPointer.allocate(byteCount: 9, alignment: 8)
        defer { host.deallocate() }
        #expect(thrown { try small.upload(UnsafeRawBufferPointer(host), on: nil) } == .invalidArgument("upload of 9 bytes into 8"))
        #expect(thrown { try small.download(into: host, on: nil) } == .invalidArgument("download of 9 bytes from 8"))
        #expect(Fake.count(.memAlloc) == 2)
    }

    @Test func uploadDownloadCopyAndFillMoveTheBytes() throws {
        let context = try CUDAContext(ordinal: 0, driver: Fake.driver)
        let values: [Float] = [1, 2, 3, 4]
        let host = UnsafeMutableBufferPointer<Float>.allocate(capacity: 4)
        defer { host.deallocate() }
        let a = try DeviceBuffer(context: context, byteCount: 16)
        let b = try DeviceBuffer(context: context, byteCount: 16)
        _ = host.initialize(from: values)
        try a.upload(UnsafeRawBufferPointer(host), on: nil)
        try b.fill(pattern: Float.nan.bitPattern, on: nil)
        try b.download(into: UnsafeMutableRawBufferPointer(host), on: nil)
        #expect(host.allSatisfy { $0.isNaN })
        try b.copy(from: a, on: nil)
        try b.download(into: UnsafeMutableRawBufferPointer(host), on: nil)
        #expect(Array(host) == values)
    }

    @Test func aDeviceCallFailingAfterTheContextIsMadeIsReported() throws {
        let context = try CUDAContext(ordinal: 0, driver: Fake.driver)
        let buffer = try DeviceBuffer(context: context, byteCount: 16)
        Fake.ctxSetCurrentResult = 201
        let error = thrown { try buffer.fill(pattern: 0, on: nil) }
        #expect(error == .driver(call: "cuCtxSetCurrent", code: 201, name: "CUDA_ERROR_201", message: "unknown error"))
        Fake.ctxSetCurrentResult = 0
    }

    // MARK: streams and events

    @Test func streamsAndEventsAreDestroyedWithTheirLastReference() throws {
        let context = try CUDAContext(ordinal: 0, driver: Fake.driver)
        do {
            let stream = try CUDAStream(context: context)
            let start = try CUDAEvent(context: context)
            let end = try CUDAEvent(context: context)
            try start.record(on: stream)
            try end.record(on: stream)
            try stream.synchronize()
            #expect(try end.milliseconds(since: start) == 2.5)
        }
        #expect(Fake.count(.streamDestroy) == 1)
        #expect(Fake.count(.eventDestroy) == 2)
        Fake.streamCreateResult = 2
        #expect(throws: CUDAError.driver(call: "cuStreamCreate", code: 2, name: "CUDA_ERROR_OUT_OF_MEMORY", message: "out of memory")) {
            _ = try CUDAStream(context: context)
        }
        #expect(Fake.count(.streamDestroy) == 1)
    }

    // MARK: kernel cache

    @Test func aCompilationFailureCarriesTheLog() throws {
        let context = try CUDAContext(ordinal: 0, driver: Fake.driver)
        let cache = KernelCache(context: context, nvrtc: .success(Fake.nvrtc), directory: nil)
        Fake.compileResult = 6
        let error = #expect(throws: CUDAError.self) {
            _ = try cache.kernel("search", in: KernelSource(name: "broken", source: "__global__ void search() { oops }"))
        }
        #expect(error == .compilation(program: "broken", log: "bad kernel"))
        if case let .compilation(_, log)? = error { #expect(log.contains("bad kernel")) }
        #expect(error?.description.contains("bad kernel") == true)
        #expect(Fake.programNames == ["broken.cu"])
        #expect(Fake.count(.destroyProgram) == 1)
        #expect(Fake.count(.getCUBIN) == 0)
        #expect(Fake.count(.moduleLoad) == 0)
    }

    @Test func nvrtcFailuresAreTypedWithNVRTCsMessage() throws {
        let context = try CUDAContext(ordinal: 0, driver: Fake.driver)
        let cache = KernelCache(context: context, nvrtc: .success(Fake.nvrtc), directory: nil)
        Fake.createProgramResult = 3
        #expect(throws: CUDAError.nvrtc(call: "nvrtcCreateProgram", code: 3, message: "NVRTC_ERROR_INVALID_INPUT")) {
            _ = try cache.kernel("k", in: KernelSource(name: "k", source: ""))
        }
        #expect(Fake.count(.destroyProgram) == 0)
        #expect(throws: CUDAError.nvrtc(call: "x", code: 6, message: "NVRTC_ERROR_COMPILATION")) {
            try Fake.nvrtc.check(6, "x")
        }
        try Fake.nvrtc.check(0, "x")
    }

    @Test func withoutNVRTCACacheMissIsNVRTCsLoadError() throws {
        let context = try CUDAContext(ordinal: 0, driver: Fake.driver)
        let missing = CUDAError.libraryNotFound(library: "NVRTC (libnvrtc.so)", searched: ["nowhere/libnvrtc.so"])
        let cache = KernelCache(context: context, nvrtc: .failure(missing), directory: nil)
        #expect(throws: missing) { _ = try cache.kernel("k", in: KernelSource(name: "k", source: "")) }
    }

    @Test func optionsNameTheArchitectureAndSortTheConstants() throws {
        let context = try CUDAContext(ordinal: 0, driver: Fake.driver)
        let cache = KernelCache(context: context, nvrtc: .success(Fake.nvrtc), directory: nil)
        let source = KernelSource(name: "k", source: "", constants: ["PATCH": "7", "BLOCK": "128"])
        let expected = ["--gpu-architecture=sm_90", "-std=c++17", "-default-device", "-DBLOCK=128", "-DPATCH=7"]
        #expect(cache.options(source) == expected)
        _ = try cache.kernel("k", in: source)
        #expect(Fake.compileOptions == expected)
    }

    @Test func modulesAreCompiledLoadedAndUnloadedOnce() throws {
        let context = try CUDAContext(ordinal: 0, driver: Fake.driver)
        do {
            let cache = KernelCache(context: context, nvrtc: .success(Fake.nvrtc), directory: nil)
            let source = KernelSource(name: "search", source: "__global__ void search() {}", constants: ["K": "4"])
            let kernel = try cache.kernel("search", in: source)
            #expect(kernel.name == "search")
            #expect(kernel.function == Fake.functionHandle("search"))
            _ = try cache.kernel("search", in: source)
            #expect(Fake.count(.compileProgram) == 1)
            #expect(Fake.count(.moduleLoad) == 1)
            #expect(Fake.loadedImages == ["FAKECUBIN"])
            #expect(Fake.count(.destroyProgram) == 1)
            // Other constants are another module.
            _ = try cache.kernel("search", in: KernelSource(name: "search", source: source.source, constants: ["K": "8"]))
            #expect(Fake.count(.compileProgram) == 2)
            #expect(Fake.count(.moduleLoad) == 2)
            // A function the module lacks is the driver's error, named.
            #expect(throws: CUDAError.driver(call: "cuModuleGetFunction(missing)", code: 500, name: "CUDA_ERROR_NOT_FOUND",
                                             message: "named symbol not found")) {
                _ = try cache.kernel("missing", in: source)
            }
            #expect(Fake.count(.compileProgram) == 2)
        }
        #expect(Fake.count(.moduleUnload) == 2)
    }

    @Test func binariesOnDiskSpareNVRTC() throws {
        let context = try CUDAContext(ordinal: 0, driver: Fake.driver)
        var template = Array("/tmp/dnls-kernel-cache-XXXXXX".utf8CString)
        let root = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        let directory = root + "/nested/cache"
        defer {
            for entry in directoryEntries(directory) { unlink(directory + "/" + entry) }
            rmdir(directory)
            rmdir(root + "/nested")
            rmdir(root)
        }
        let source = KernelSource(name: "search", source: "__global__ void search() {}", constants: ["K": "4"])
        do {
            let cache = KernelCache(context: context, nvrtc: .success(Fake.nvrtc), directory: directory)
            _ = try cache.kernel("search", in: source)
        }
        #expect(Fake.count(.compileProgram) == 1)
        let files = directoryEntries(directory)
        #expect(files.count == 1)
        #expect(files.allSatisfy { $0.hasSuffix(".cubin") })

        // A second cache (a later process) finds the binary and needs no NVRTC.
        let missing = CUDAError.libraryNotFound(library: "NVRTC (libnvrtc.so)", searched: [])
        let later = KernelCache(context: context, nvrtc: .failure(missing), directory: directory)
        let kernel = try later.kernel("search", in: source)
        #expect(kernel.name == "search")
        #expect(Fake.count(.compileProgram) == 1)
        #expect(Fake.loadedImages == ["FAKECUBIN", "FAKECUBIN"])
        // ...but a source it has not seen still needs NVRTC.
        #expect(throws: missing) {
            _ = try later.kernel("search", in: KernelSource(name: "search", source: source.source, constants: ["K": "5"]))
        }
    }

    // MARK: kernels

    /// A kernel's one parameter is its C struct from the kernel header, passed by value: the driver
    /// sees exactly the struct's bytes, as C lays them out (padding included).
    @Test func launchPassesTheParameterStructsBytes() throws {
        let context = try CUDAContext(ordinal: 0, driver: Fake.driver)
        let cache = KernelCache(context: context, nvrtc: .success(Fake.nvrtc), directory: nil)
        let kernel = try cache.kernel("k", in: KernelSource(name: "k", source: ""))
        let fill = DNLSMathFill(out: 0xABC, value: 1.5, count: -2)
        Fake.launchParameterBytes = MemoryLayout<DNLSMathFill>.size
        try kernel.launch(grid: (2, 3, 1), block: (128, 1, 1), sharedBytes: 4096, parameters: fill)
        #expect(Fake.launchGrid == [2, 3, 1, 128, 1, 1])
        #expect(Fake.launchSharedBytes == 4096)
        #expect(MemoryLayout<DNLSMathFill>.size == 24)  // pointer, float, 4 bytes of padding, i64
        let bytes = Fake.launchParameter
        func field<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
            bytes[offset..<offset + MemoryLayout<T>.size].reversed().reduce(0) { $0 << 8 | T($1) }
        }
        #expect(field(0, UInt64.self) == 0xABC)
        #expect(field(8, UInt32.self) == Float(1.5).bitPattern)
        #expect(field(16, Int64.self) == -2)
        #expect(throws: CUDAError.self) { try kernel.launch(grid: (0, 1, 1), block: (1, 1, 1), parameters: fill) }
        #expect(throws: CUDAError.self) { try kernel.launch(grid: (1, 65536, 1), block: (1, 1, 1), parameters: fill) }
        #expect(Fake.count(.launch) == 1)
        try kernel.allowSharedMemory(bytes: 100_000)
    }
}

/// The error `body` throws, if any (a non-escaping closure, so it may borrow move-only values).
func thrown(_ body: () throws -> Void) -> CUDAError? {
    do { try body() } catch let error as CUDAError { return error } catch { Issue.record("unexpected \(error)") }
    return nil
}
