import CUDADriver
import Synchronization

/// The CUDA context and kernel cache of one GPU, created on first use.
final class CUDARuntime: @unchecked Sendable {
    let context: CUDAContext
    let kernels: KernelCache

    private static let runtimes = Mutex<[Int: CUDARuntime]>([:])
    /// Geometry table blocks already on the device, by geometry, window and video shape: a call
    /// with the same configuration as an earlier one uploads nothing.
    private let geometryBlocks = Mutex<[String: Tensor<Int32>]>([:])
    /// Kernel handles by name and specialisation constants (see ``kernel(_:constants:)``).
    private let handles = Mutex<[String: CUDAKernel]>([:])

    private init(context: CUDAContext) {
        self.context = context
        kernels = KernelCache(context: context)
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
    /// on first use and kept (at most 64 configurations; older ones are dropped past that).
    func geometryBlock(_ g: PatchGeometry, window: SearchWindow?, shape s: VideoShape) throws(DNLSError) -> Tensor<Int32> {
        let key = "\(g)|\(window.map { "\($0)" } ?? "-")|\(s.frames)x\(s.height)x\(s.width)"
        if let block = geometryBlocks.withLock({ $0[key] }) { return block }
        let values = CUDAGeometryBlock.make(g, window: window, shape: s)
        let block = try Tensor<Int32>(uncheckedShape: [values.count], scalars: values).to(.cuda(context.ordinal))
        geometryBlocks.withLock { table in
            if table.count >= 64 { table.removeAll() }
            table[key] = block
        }
        return block
    }

    /// The entry point `name` of its family's module (``CUDAKernelModule``), specialised with
    /// `constants`.
    ///
    /// Handles are kept by name and constants: a launch then skips the module cache, whose key is
    /// the module's whole text (hashing it costs about as much as a small kernel).
    func kernel(_ name: String, constants: [String: String] = [:]) throws(DNLSError) -> CUDAKernel {
        // Kernels that do not depend on the search's constants share the module built with defaults.
        let constants = ["KMAX": "1", "WHOLE": "0"].merging(constants) { $1 }
        let key = name + "|" + constants.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        if let kernel = handles.withLock({ $0[key] }) { return kernel }
        do throws(CUDAError) {
            guard let module = CUDAKernelModule.declaring(name) else {
                throw .invalidArgument("no kernel family declares \(name)")
            }
            let kernel = try kernels.kernel(name, in: KernelSource(name: module.name, source: module.source, constants: constants))
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

extension Device {
    /// Checks that operations can run here: for `.cuda(n)` the driver must load, GPU `n` must
    /// exist and NVRTC must compile the kernels. The error names what is missing and where it was
    /// looked for. `.cpu` is always available.
    public func checkAvailable() throws(DNLSError) {
        guard case let .cuda(ordinal) = self else { return }
        _ = try CUDARuntime.shared(ordinal: ordinal).kernel("extract_patches", constants: ["KMAX": "1", "WHOLE": "0"])
    }

    /// A one-line description of the GPU (name, compute capability, driver version), or `nil`
    /// for the CPU or a GPU that cannot be opened.
    public var gpuDescription: String? {
        guard case let .cuda(ordinal) = self, let runtime = try? CUDARuntime.shared(ordinal: ordinal) else { return nil }
        let c = runtime.context
        return "\(c.name), compute capability \(c.computeCapability.major).\(c.computeCapability.minor), "
            + "\(c.multiprocessors) SMs, driver \(c.driverVersion / 1000).\(c.driverVersion % 1000 / 10)"
    }
}

extension Device {
    /// Waits until all work queued on this device has finished (a no-op on the CPU, whose
    /// operations return only when done). Use it before reading a host clock.
    public func synchronize() throws(DNLSError) {
        guard case let .cuda(ordinal) = self else { return }
        let context = try CUDARuntime.shared(ordinal: ordinal).context
        try DNLS.cuda(self) { () throws(CUDAError) in try context.synchronize() }
    }
}
