import CCUDA
import Synchronization

/// A GPU and its primary context: the entry point of the driver layer.
///
/// Contexts are shared per device ordinal (``shared(ordinal:)``). Every call that touches the
/// device first makes the context current on the calling thread, so a context may be used from
/// any thread.
public final class CUDAContext: @unchecked Sendable {
    /// The driver's entry points.
    public let driver: DriverFunctions
    /// Device ordinal, as in `.cuda(n)`.
    public let ordinal: Int
    /// Marketing name of the GPU, e.g. "NVIDIA H100 80GB HBM3".
    public let name: String
    /// Compute capability, e.g. 9.0 for Hopper.
    public let computeCapability: (major: Int, minor: Int)
    /// Number of streaming multiprocessors.
    public let multiprocessors: Int
    /// Largest dynamic shared memory a block can opt in to, in bytes.
    public let maxSharedMemoryPerBlock: Int
    /// Driver version as reported by `cuDriverGetVersion` (e.g. 13000 for 13.0).
    public let driverVersion: Int
    let device: CUdevice
    let context: CUcontext

    private static let contexts = Mutex<[Int: CUDAContext]>([:])
    private static let loadedDriver = Mutex<Result<DriverFunctions, CUDAError>?>(nil)

    /// The context of GPU `ordinal`, created on first use with the system's driver.
    public static func shared(ordinal: Int) throws(CUDAError) -> CUDAContext {
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
    public static func systemDriver() throws(CUDAError) -> DriverFunctions {
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
    public init(ordinal: Int, driver: DriverFunctions) throws(CUDAError) {
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
        self.context = context
        try makeCurrent()
    }

    deinit {
        _ = driver.cuDevicePrimaryCtxRelease(device)
    }

    /// Makes this context current on the calling thread.
    public func makeCurrent() throws(CUDAError) {
        try driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent")
    }

    /// Waits for all work on the device to finish.
    public func synchronize() throws(CUDAError) {
        try makeCurrent()
        try driver.check(driver.cuCtxSynchronize(), "cuCtxSynchronize")
    }

    /// Free and total device memory in bytes.
    public func memoryInfo() throws(CUDAError) -> (free: Int, total: Int) {
        try makeCurrent()
        var free = 0, total = 0
        try driver.check(driver.cuMemGetInfo(&free, &total), "cuMemGetInfo")
        return (free, total)
    }

    /// The architecture name NVRTC compiles for, e.g. `sm_90`.
    public var architecture: String { "sm_\(computeCapability.major)\(computeCapability.minor)" }
}
