import CUDADriver
import Synchronization

/// The CUDA context and kernel cache of one GPU, created on first use.
final class CUDARuntime: @unchecked Sendable {
    let context: CUDAContext
    let kernels: KernelCache

    private static let runtimes = Mutex<[Int: CUDARuntime]>([:])
    /// Geometry table blocks already on the device, by geometry, window and video shape: a call
    /// with the same configuration as an earlier one uploads nothing.
    private let geometryBlocks = Mutex<[GeometryBlockKey: ResidentTable]>([:])
    /// The device's record of the first input failure of a ``InputChecking/deferred`` call since
    /// it was last read, made on first use (``DeferredChecks``).
    let failureRecord = Mutex<ResidentTable?>(nil)
    /// The checks that deferred calls have recorded under, by identifier (``DeferredChecks``).
    let checkRegistry = Mutex(CheckRegistry())
    /// Kernel handles by name and specialisation constants (see ``kernel(_:constants:)``).
    private let handles = Mutex<[KernelKey: CUDAKernel]>([:])
    /// The device's total memory in bytes, asked once.
    private let totalMemory = Mutex<Int?>(nil)

    /// The device's total memory in bytes (one driver query, then remembered: operations check
    /// their results against it without a driver call).
    func deviceMemory() throws(DNLSError) -> Int {
        if let known = totalMemory.withLock({ $0 }) { return known }
        let total = try cuda(.cuda(context.ordinal)) { () throws(CUDAError) in try context.memoryInfo().total }
        totalMemory.withLock { $0 = total }
        return total
    }

    private init(context: CUDAContext, kernels: KernelCache? = nil) {
        self.context = context
        self.kernels = kernels ?? KernelCache(context: context)
    }

    /// Makes `.cuda(context.ordinal)` run on `context` and `kernels` (for tests on a fake driver
    /// table); a runtime already made for that ordinal is replaced.
    static func install(context: CUDAContext, kernels: KernelCache) {
        runtimes.withLock { $0[context.ordinal] = CUDARuntime(context: context, kernels: kernels) }
    }

    /// The runtime of `.cuda(ordinal)`, or a typed error naming what is missing and where it was
    /// looked for.
    static func shared(ordinal: Int) throws(DNLSError) -> CUDARuntime {
        let result: Result<CUDARuntime, DNLSError> = runtimes.withLock { table in
            if let runtime = table[ordinal] { return .success(runtime) }
            do throws(CUDAError) {
                let runtime = CUDARuntime(context: try CUDAContext.shared(ordinal: ordinal))
                table[ordinal] = runtime
                return .success(runtime)
            } catch {
                return .failure(DNLSError(error, device: .cuda(ordinal)))
            }
        }
        return try result.get()
    }

    /// The device copy of ``CUDAGeometryBlock/make(_:window:shape:)`` for these arguments, uploaded
    /// on first use and kept (at most 64 configurations; older ones are dropped past that), ready
    /// on the calling scope's stream.
    func geometryBlock(_ g: PatchGeometry, window: SearchWindow?, shape s: VideoShape) throws(DNLSError) -> Tensor<Int32> {
        let key = GeometryBlockKey(geometry: g, window: window, frames: s.frames, height: s.height, width: s.width)
        let device = Device.cuda(context.ordinal)
        if let block = geometryBlocks.withLock({ $0[key] }) { return try block.ready(on: device.currentStream) }
        let block = try ResidentTable(uploading: CUDAGeometryBlock.make(g, window: window, shape: s), to: self)
        geometryBlocks.withLock { table in
            if table.count >= 64 { table.removeAll() }
            table[key] = block
        }
        return block.tensor
    }

    /// The entry point `entry` of its family's module (``CUDAKernelModule``), specialised with
    /// `constants`.
    ///
    /// Handles are kept by entry and constants: a launch then skips the module cache, whose key is
    /// the module's whole text (hashing it costs about as much as a small kernel).
    func kernel(_ entry: CUDAKernelEntry, constants: CUDAKernelConstants = CUDAKernelConstants()) throws(DNLSError) -> CUDAKernel {
        // A key of an enum and integers, not strings: a launch's host cost is a few microseconds.
        let key = KernelKey(entry: entry, constants: constants)
        if let kernel = handles.withLock({ $0[key] }) { return kernel }
        do throws(CUDAError) {
            guard let module = CUDAKernelModule.declaring(entry.rawValue) else {
                throw .invalidArgument("no kernel family declares \(entry.rawValue)")
            }
            let source = KernelSource(name: module.name, source: module.source, constants: constants.definitions)
            let kernel = try kernels.kernel(entry.rawValue, in: source)
            handles.withLock { $0[key] = kernel }
            return kernel
        } catch {
            throw DNLSError(error, device: .cuda(context.ordinal))
        }
    }
}

extension DNLSError {
    /// Maps a driver-layer error to the public error type.
    init(_ error: CUDAError, device: Device) {
        switch error {
        case .libraryNotFound, .symbolMissing, .noDevice:
            self = .unavailable(what: "device \(device)", reason: error.description)
        case let .driver(call, code, _, _) where call == "cuInit" || code == 100:
            // The driver loaded but sees no usable GPU (CUDA_ERROR_NO_DEVICE, a driver too old for
            // the card, no permission on the device files, …): the device is unavailable here.
            self = .unavailable(what: "device \(device)", reason: error.description)
        case let .outOfMemory(bytes):
            self = .outOfMemory(device: device, bytes: bytes)
        default:
            self = .deviceFailure(device: device, reason: error.description)
        }
    }
}

/// Runs a driver-layer call, mapping its error.
@inline(__always)
func cuda<R>(_ device: Device, _ body: () throws(CUDAError) -> R) throws(DNLSError) -> R {
    do throws(CUDAError) { return try body() } catch { throw DNLSError(error, device: device) }
}

/// What a geometry block depends on.
private struct GeometryBlockKey: Hashable {
    let geometry: PatchGeometry, window: SearchWindow?, frames: Int, height: Int, width: Int
}

/// A kernel handle's entry point and the constants it was compiled with.
private struct KernelKey: Hashable {
    let entry: CUDAKernelEntry, constants: CUDAKernelConstants
}
