/// Which backend runs an operation on CPU tensors. CUDA tensors always run on the CUDA backend
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

/// Picks the backend for tensors of `Scalar` on `device`.
func backend<Scalar: PatchScalar>(_: Scalar.Type, device: Device, implementation: Implementation)
    throws(DNLSError) -> any PatchBackend<Scalar>
{
    if case let .cuda(ordinal) = device {
        guard let gpu = try CUDABackend(ordinal: ordinal) as? any PatchBackend<Scalar> else {
            throw .unavailable(what: "the CUDA backend for \(Scalar.self)", reason: "it computes in Float only")
        }
        return gpu
    }
    switch implementation {
    case .reference:
        // A concrete Float type, so the optimiser specialises the reference loops instead of
        // running them as unspecialised generic code through the existential.
        if let reference = FloatReferenceBackend() as? any PatchBackend<Scalar> { return reference }
        return ReferenceBackend<Scalar>()
    case .automatic, .fast:
        if let fast = FastCPUBackend() as? any PatchBackend<Scalar> { return fast }
        if implementation == .automatic { return ReferenceBackend<Scalar>() }
        throw .unavailable(what: "the fast CPU backend for \(Scalar.self)",
                           reason: "it computes in Float only; use .reference or .automatic for \(Scalar.self)")
    }
}

/// Checks that every tensor of an operation lives on the same device and returns it.
func commonDevice(_ tensors: [(String, Device)]) throws(DNLSError) -> Device {
    let device = tensors[0].1
    for (name, d) in tensors.dropFirst() where d != device {
        throw .deviceMismatch(argument: name, expected: device, actual: d)
    }
    return device
}
