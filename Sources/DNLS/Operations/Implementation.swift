/// Which backend runs an operation on CPU tensors. GPU tensors always run on the GPU backend
/// (`Float` only).
public enum Implementation: Sendable, Hashable, CaseIterable {
    /// The fast backend for `Float`, the reference for `Double`.
    case automatic
    /// The plain reference loops: slow, clear, generic over `Float` and `Double`; the oracle of
    /// every test.
    case reference
    /// The multithreaded, vectorised CPU backend (`Float` only).
    case fast
}

/// Checks that every tensor of an operation lives on the same device and returns it.
func commonDevice(_ tensors: [(String, Device)]) throws(DNLSError) -> Device {
    let device = tensors[0].1
    for (name, d) in tensors.dropFirst() where d != device {
        throw .deviceMismatch(argument: name, expected: device, actual: d)
    }
    return device
}
