import CUDADriver
import Synchronization

/// Which output of an operation a caller's tensor receives (the `into:` forms).
enum OutputRole: Sendable, Hashable {
    case distances, indices, video, keys, patches, weights, weightSum
}

/// Caller-owned memory for the outputs of one operation, by role: the backend writes its results
/// there instead of allocating them (``Tensor/output(_:shape:on:)``).
final class OutputPlacement: Sendable {
    struct Target: Sendable {
        let argument: String
        let shape: [Int]
        let storage: DeviceStorage
    }

    private let targets: Mutex<[OutputRole: Target]>

    init(_ targets: [OutputRole: Target]) { self.targets = Mutex(targets) }

    /// The target of `role`, at most once.
    func take(_ role: OutputRole) -> Target? { targets.withLock { $0.removeValue(forKey: role) } }

    @TaskLocal static var current: OutputPlacement?
}

extension Tensor {
    /// An output of an operation on `device`, contents undefined: the caller's memory where an
    /// `into:` form placed a tensor for `role`, a new tensor otherwise.
    /// - Throws: ``DNLSError/shapeMismatch(argument:expected:actual:)`` when the caller's tensor does
    ///   not hold as many elements as the output.
    static func output(_ role: OutputRole, shape: [Int], on device: Device) throws(DNLSError) -> Tensor {
        guard device != .cpu, let target = OutputPlacement.current?.take(role) else {
            return try Tensor(uninitializedOn: device, shape: shape)
        }
        let bytes = shape.reduce(1, *) * MemoryLayout<Scalar>.stride
        guard target.storage.buffer.byteCount == bytes else {
            throw .shapeMismatch(argument: target.argument, expected: "\(shape.reduce(1, *)) elements, as \(shape)",
                                 actual: target.shape)
        }
        // A view, not the caller's storage itself: kernels write the caller's memory in place
        // even while the caller's variable also holds it (no copy on write).
        let view = DeviceStorage(DeviceBuffer(borrowing: target.storage.buffer.address, byteCount: bytes,
                                              context: target.storage.buffer.context), viewing: target.storage)
        return Tensor(shape: shape, device: device, host: [], deviceStorage: view)
    }

    /// ``output(_:shape:on:)`` filled with zeros (stream-ordered).
    static func zeroOutput(_ role: OutputRole, shape: [Int], on device: Device) throws(DNLSError) -> Tensor {
        guard device != .cpu else { return Tensor(zeros: shape) }
        let t = try output(role, shape: shape, on: device)
        try t.fillZeros()
        return t
    }
}

/// A caller's tensor that an `into:` form writes a result into.
struct IntoTarget {
    let role: OutputRole
    let argument: String
    let device: Device
    let shape: [Int]
    let storage: DeviceStorage?

    init<S: TensorScalar>(_ role: OutputRole, _ argument: String, _ tensor: Tensor<S>) {
        self.role = role; self.argument = argument; device = tensor.device; shape = tensor.shape
        storage = tensor.deviceStorage
    }
}

/// Runs `body`, one operation on `device`, with its outputs written into `targets`' memory.
/// - Throws: ``DNLSError/deviceMismatch(argument:expected:actual:)`` for a target on another
///   device, before any work.
func placingOutputs<R>(_ targets: [IntoTarget], on device: Device, _ body: () throws(DNLSError) -> R) throws(DNLSError) -> R {
    for target in targets where target.device != device {
        throw .deviceMismatch(argument: target.argument, expected: device, actual: target.device)
    }
    var placed: [OutputRole: OutputPlacement.Target] = [:]
    for target in targets {
        if let storage = target.storage { placed[target.role] = .init(argument: target.argument, shape: target.shape, storage: storage) }
    }
    return try OutputPlacement.$current.binding(OutputPlacement(placed), body)
}

extension Tensor {
    /// Makes `target` the result `computed` of an `into:` form: on a GPU its memory holds the
    /// result (the backend wrote it there; a result made elsewhere is copied in, stream-ordered),
    /// on the CPU it becomes the result. It takes the result's shape.
    /// - Throws: ``DNLSError/shapeMismatch(argument:expected:actual:)`` when `target` does not
    ///   hold as many elements as the result.
    static func deliver(_ computed: Tensor, into target: inout Tensor, argument: String) throws(DNLSError) {
        guard target.count == computed.count else {
            throw .shapeMismatch(argument: argument, expected: "\(computed.count) elements, as \(computed.shape)",
                                 actual: target.shape)
        }
        guard let storage = target.deviceStorage, let source = computed.deviceStorage else {
            target = computed
            return
        }
        if storage.buffer.address != source.buffer.address, !computed.device.isPlanning {
            try cuda(computed.device) { () throws(CUDAError) in
                try storage.buffer.copy(from: source.buffer, on: computed.device.currentStream)
            }
        }
        target = Tensor(shape: computed.shape, device: computed.device, host: [], deviceStorage: storage)
    }
}

extension Tensor {
    /// ``deliver(_:into:argument:)`` for an optional output: `target` takes a new result when it
    /// is `nil`, and becomes `nil` when there is no result.
    static func deliver(_ computed: Tensor?, into target: inout Tensor?, argument: String) throws(DNLSError) {
        guard let computed else { target = nil; return }
        guard var given = target else { target = computed; return }
        try deliver(computed, into: &given, argument: argument)
        target = given
    }
}
