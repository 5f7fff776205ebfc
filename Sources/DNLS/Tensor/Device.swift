/// Where a tensor's storage lives and where operations on it run.
public enum Device: Sendable, Hashable, CustomStringConvertible {
    /// Host memory; operations run on the CPU backends.
    case cpu
    /// The NVIDIA GPU with the given ordinal; operations run on the CUDA backend.
    case cuda(Int)

    /// `cpu` or `cuda(n)`.
    public var description: String {
        switch self {
        case .cpu: return "cpu"
        case let .cuda(ordinal): return "cuda(\(ordinal))"
        }
    }
}
