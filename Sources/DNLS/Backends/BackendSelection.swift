/// What the operations ask of a GPU besides the patch operations: input checks made where the
/// tensor lives (a kernel reads the caller's tensor in place, nothing is copied to the host) and
/// the memory one call may allocate there.
protocol DeviceValidation: Sendable {
    /// Checks that every `(t, h, w)` triple of `triples` `(…, 3)` lies in `video` (or is the marker
    /// `(−1, −1, −1)` when `allowMissing`); the first bad one in row-major order fails with the
    /// error the host check gives, now (eager checking) or at the next synchronisation (deferred).
    func checkTriples(_ triples: Tensor<Int32>, video: VideoShape, argument: String, allowMissing: Bool) throws(DNLSError)

    /// Checks that every value is finite, reported as ``checkTriples(_:video:argument:allowMissing:)``.
    func checkFinite(_ values: Tensor<Float>, argument: String) throws(DNLSError)

    /// The device's memory in bytes.
    func memoryCapacity() throws(DNLSError) -> Int
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

/// The validation of GPU `ordinal`'s tensors, on the calling scope's stream and checking mode.
func gpuValidation(ordinal: Int) throws(DNLSError) -> any DeviceValidation {
    try CUDABackend(ordinal: ordinal)
}
