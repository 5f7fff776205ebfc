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
    let isFloat = Scalar.self == Float.self
    if case let .cuda(ordinal) = device {
        guard isFloat else {
            throw .unavailable(what: "the CUDA backend for \(Scalar.self)", reason: "it computes in Float only")
        }
        return asBackend(of: Scalar.self, try CUDABackend(ordinal: ordinal))
    }
    switch implementation {
    case .reference:
        // A concrete Float type, so the optimiser specialises the reference loops instead of
        // running them as unspecialised generic code through the existential.
        return isFloat ? asBackend(of: Scalar.self, FloatReferenceBackend()) : ReferenceBackend<Scalar>()
    case .automatic, .fast:
        if isFloat { return asBackend(of: Scalar.self, FastCPUBackend()) }
        if implementation == .automatic { return ReferenceBackend<Scalar>() }
        throw .unavailable(what: "the fast CPU backend for \(Scalar.self)",
                           reason: "it computes in Float only; use .reference or .automatic for \(Scalar.self)")
    }
}

/// A `Float` backend as the backend of `Scalar`, which the caller has checked is `Float`: the
/// same value, under the type the caller names it by.
///
/// A conditional cast (`as? any PatchBackend<Scalar>`) would do the same, but it looks the
/// existential type up by its mangled name on every call (about a microsecond of every
/// operation's host time, by profile); `unsafeBitCast` is refused by the compiler here.
private func asBackend<Scalar: PatchScalar>(of _: Scalar.Type, _ backend: any PatchBackend<Float>) -> any PatchBackend<Scalar> {
    precondition(Scalar.self == Float.self, "a Float backend used for \(Scalar.self)")
    return withUnsafePointer(to: backend) { UnsafeRawPointer($0).load(as: (any PatchBackend<Scalar>).self) }
}

/// The validation of GPU `ordinal`'s tensors, on the calling scope's stream and checking mode.
func gpuValidation(ordinal: Int) throws(DNLSError) -> any DeviceValidation {
    try CUDABackend(ordinal: ordinal)
}
