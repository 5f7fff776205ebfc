import CCUDA
import Synchronization

/// A GPU and its primary context: the entry point of the driver layer.
///
/// Contexts are shared per device ordinal (``shared(ordinal:)``). Every call that touches the
/// device first makes the context current on the calling thread, so a context may be used from
/// any thread.
package final class CUDAContext: @unchecked Sendable {
    /// The driver's entry points.
    package let driver: DriverFunctions
    /// Device ordinal, as in `.cuda(n)`.
    package let ordinal: Int
    /// Marketing name of the GPU, e.g. "NVIDIA H100 80GB HBM3".
    package let name: String
    /// Compute capability, e.g. 9.0 for Hopper.
    package let computeCapability: (major: Int, minor: Int)
    /// Number of streaming multiprocessors.
    package let multiprocessors: Int
    /// Largest dynamic shared memory a block can opt in to, in bytes.
    package let maxSharedMemoryPerBlock: Int
    /// Driver version as reported by `cuDriverGetVersion` (e.g. 13000 for 13.0).
    package let driverVersion: Int
    /// Bytes of this context's live ``DeviceBuffer``s, and their high-water mark.
    package let allocations = AllocationCounter()
    let device: CUdevice
    let context: CUcontext
    /// The memory pool DNLS created on this device for its buffers (stream-ordered allocation),
    /// or `nil` when the device or driver has no memory pools and buffers use `cuMemAlloc`/`cuMemFree`.
    /// The device's default pool, which other libraries in the process may use, is never touched.
    let memoryPool: CUmemoryPool?

    private static let contexts = Mutex<[Int: CUDAContext]>([:])
    private static let loadedDriver = Mutex<Result<DriverFunctions, CUDAError>?>(nil)

    /// The context of GPU `ordinal`, created on first use with the system's driver.
    package static func shared(ordinal: Int) throws(CUDAError) -> CUDAContext {
        let result: Result<CUDAContext, CUDAError> = contexts.withLock { table in
            if let context = table[ordinal] { return .success(context) }
            do throws(CUDAError) {
                let context = try CUDAContext(ordinal: ordinal, driver: try systemDriver())
                table[ordinal] = context
                return .success(context)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// The system driver, loaded once.
    package static func systemDriver() throws(CUDAError) -> DriverFunctions {
        let result: Result<DriverFunctions, CUDAError> = loadedDriver.withLock { cached in
            if let cached { return cached }
            let loaded: Result<DriverFunctions, CUDAError>
            do throws(CUDAError) { loaded = .success(try DriverFunctions.load()) } catch { loaded = .failure(error) }
            cached = loaded
            return loaded
        }
        return try result.get()
    }

    /// Initialises the driver, selects GPU `ordinal` and retains its primary context.
    package init(ordinal: Int, driver: DriverFunctions) throws(CUDAError) {
        self.driver = driver
        self.ordinal = ordinal
        try driver.check(driver.cuInit(0), "cuInit")
        var count: Int32 = 0
        try driver.check(driver.cuDeviceGetCount(&count), "cuDeviceGetCount")
        guard ordinal >= 0, ordinal < Int(count) else { throw .noDevice(ordinal: ordinal, count: Int(count)) }
        var device: CUdevice = 0
        try driver.check(driver.cuDeviceGet(&device, Int32(ordinal)), "cuDeviceGet")
        self.device = device
        var nameBytes = [CChar](repeating: 0, count: 256)
        try driver.check(driver.cuDeviceGetName(&nameBytes, 256, device), "cuDeviceGetName")
        name = String(decoding: nameBytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        func attribute(_ a: Int32) throws(CUDAError) -> Int {
            var value: Int32 = 0
            try driver.check(driver.cuDeviceGetAttribute(&value, a, device), "cuDeviceGetAttribute(\(a))")
            return Int(value)
        }
        computeCapability = (try attribute(Int32(DNLS_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)),
                             try attribute(Int32(DNLS_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)))
        multiprocessors = try attribute(Int32(DNLS_CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT))
        maxSharedMemoryPerBlock = try attribute(Int32(DNLS_CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN))
        var version: Int32 = 0
        try driver.check(driver.cuDriverGetVersion(&version), "cuDriverGetVersion")
        driverVersion = Int(version)
        var context: CUcontext? = nil
        try driver.check(driver.cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain")
        guard let context else { throw .invalidArgument("cuDevicePrimaryCtxRetain returned no context") }
        // Until every stored property is set, deinit cannot run: release the context by hand on failure.
        do throws(CUDAError) {
            try driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent")
            memoryPool = try Self.ownMemoryPool(driver: driver, device: device, ordinal: ordinal)
        } catch {
            _ = driver.cuDevicePrimaryCtxRelease(device)
            throw error
        }
        self.context = context
    }

    /// A new memory pool on `device` that keeps freed memory for reuse, or `nil` when the device
    /// does not support pools or the driver lacks their entry points.
    static func ownMemoryPool(driver: DriverFunctions, device: CUdevice, ordinal: Int) throws(CUDAError) -> CUmemoryPool? {
        guard driver.hasMemoryPools, let create = driver.cuMemPoolCreate,
              let setAttribute = driver.cuMemPoolSetAttribute else { return nil }
        var supported: Int32 = 0
        // An old driver may not know the attribute: that means no pools, not a broken device.
        guard driver.cuDeviceGetAttribute(&supported, Int32(DNLS_CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED), device) == 0,
              supported != 0 else { return nil }
        var properties = DNLSMemPoolProps()
        properties.allocType = 1                            // CU_MEM_ALLOCATION_TYPE_PINNED
        properties.location.type = 1                        // CU_MEM_LOCATION_TYPE_DEVICE
        properties.location.id = Int32(ordinal)
        var pool: CUmemoryPool? = nil
        try driver.check(create(&pool, &properties), "cuMemPoolCreate")
        guard let pool else { throw .invalidArgument("cuMemPoolCreate returned no pool") }
        // A pool's default threshold (0) hands freed memory back to the OS at every
        // synchronisation; keeping it makes a freed buffer's memory reusable by the next allocation
        // at no cost. This is DNLS's own pool, so no other user of the device is affected.
        var threshold = UInt64.max
        do throws(CUDAError) {
            try driver.check(setAttribute(pool, Int32(DNLS_CU_MEMPOOL_ATTR_RELEASE_THRESHOLD), &threshold),
                             "cuMemPoolSetAttribute(CU_MEMPOOL_ATTR_RELEASE_THRESHOLD)")
        } catch {
            _ = driver.cuMemPoolDestroy?(pool)
            throw error
        }
        return pool
    }

    deinit {
        // A pool with allocations still outstanding is released once they are freed.
        if let memoryPool { _ = driver.cuMemPoolDestroy?(memoryPool) }
        _ = driver.cuDevicePrimaryCtxRelease(device)
    }

    /// Makes this context current on the calling thread.
    package func makeCurrent() throws(CUDAError) {
        try driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent")
    }

    /// Waits for all work on the device to finish.
    package func synchronize() throws(CUDAError) {
        try makeCurrent()
        try driver.check(driver.cuCtxSynchronize(), "cuCtxSynchronize")
    }

    /// Free and total device memory in bytes.
    package func memoryInfo() throws(CUDAError) -> (free: Int, total: Int) {
        try makeCurrent()
        var free = 0, total = 0
        try driver.check(driver.cuMemGetInfo(&free, &total), "cuMemGetInfo")
        return (free, total)
    }

    /// Whether buffers come from DNLS's own memory pool on this device (`cuMemAllocFromPoolAsync`)
    /// rather than `cuMemAlloc`.
    package var usesMemoryPool: Bool { memoryPool != nil }

    /// Device memory in use by allocations, in bytes: `current` now, `peak` the most since the last
    /// ``resetPeakMemoryInUse()`` (or since the context was created).
    ///
    /// With a memory pool these are the pool's `CU_MEMPOOL_ATTR_USED_MEM_CURRENT` and
    /// `USED_MEM_HIGH` (memory kept in the pool for reuse is not in use); otherwise the bytes of this
    /// context's live ``DeviceBuffer``s (``allocations``). Frees are stream-ordered: synchronise first
    /// for a figure that includes every free queued so far.
    package func memoryInUse() throws(CUDAError) -> (current: Int, peak: Int) {
        guard let pool = memoryPool, let getAttribute = driver.cuMemPoolGetAttribute else {
            return (allocations.current, allocations.peak)
        }
        try makeCurrent()
        var current: UInt64 = 0, peak: UInt64 = 0
        try driver.check(getAttribute(pool, Int32(DNLS_CU_MEMPOOL_ATTR_USED_MEM_CURRENT), &current),
                         "cuMemPoolGetAttribute(CU_MEMPOOL_ATTR_USED_MEM_CURRENT)")
        try driver.check(getAttribute(pool, Int32(DNLS_CU_MEMPOOL_ATTR_USED_MEM_HIGH), &peak),
                         "cuMemPoolGetAttribute(CU_MEMPOOL_ATTR_USED_MEM_HIGH)")
        return (Int(clamping: current), Int(clamping: peak))
    }

    /// Starts a new peak: from now on ``memoryInUse()``'s `peak` is the most in use since this call.
    package func resetPeakMemoryInUse() throws(CUDAError) {
        allocations.resetPeak()
        guard let pool = memoryPool, let setAttribute = driver.cuMemPoolSetAttribute else { return }
        try makeCurrent()
        // The driver accepts only 0 here, which resets the high-water mark to the current use.
        var zero: UInt64 = 0
        try driver.check(setAttribute(pool, Int32(DNLS_CU_MEMPOOL_ATTR_USED_MEM_HIGH), &zero),
                         "cuMemPoolSetAttribute(CU_MEMPOOL_ATTR_USED_MEM_HIGH)")
    }

    /// The architecture name NVRTC compiles for, e.g. `sm_90`.
    package var architecture: String { "sm_\(computeCapability.major)\(computeCapability.minor)" }
}

/// Live bytes of a context's ``DeviceBuffer``s and their high-water mark, updated atomically (any
/// thread may allocate or free).
package final class AllocationCounter: Sendable {
    private let live = Atomic<Int>(0)
    private let high = Atomic<Int>(0)

    /// Creates a counter at zero.
    package init() {}

    /// Bytes allocated and not yet freed.
    package var current: Int { live.load(ordering: .relaxed) }
    /// The most bytes live at once since creation or the last ``resetPeak()``.
    package var peak: Int { high.load(ordering: .relaxed) }

    /// Counts an allocation of `bytes`.
    package func allocated(_ bytes: Int) {
        let now = live.wrappingAdd(bytes, ordering: .relaxed).newValue
        var seen = high.load(ordering: .relaxed)
        while now > seen {
            let (exchanged, original) = high.compareExchange(expected: seen, desired: now, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
    }

    /// Counts a free of `bytes`.
    package func freed(_ bytes: Int) { live.wrappingSubtract(bytes, ordering: .relaxed) }

    /// Sets the high-water mark to the bytes live now.
    package func resetPeak() { high.store(live.load(ordering: .relaxed), ordering: .relaxed) }
}
