/// Everything that can go wrong when calling DNLS, as a value that says what was wrong and what
/// was expected.
///
/// Every public operation validates its inputs before any work starts and throws one of these
/// instead of crashing or silently clamping. The `argument` of each case is the name of the
/// parameter as it appears in the API (`"video"`, `"indices"`, `"k"`, …).
public enum DNLSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A scalar argument is out of its valid range (for example `patchSize: 0`).
    case invalidArgument(argument: String, expected: String, actual: String)
    /// A tensor has the wrong rank or shape.
    case shapeMismatch(argument: String, expected: String, actual: [Int])
    /// An index tensor names a position outside the video, or a region/range lies outside its domain.
    case outOfRange(argument: String, value: String, valid: String)
    /// A tensor holds a NaN or infinite value where that would poison the result.
    case nonFinite(argument: String, position: [Int])
    /// Two tensors that must live on the same device do not.
    case deviceMismatch(argument: String, expected: Device, actual: Device)
    /// The requested device or backend cannot run here (no GPU, no NVRTC, no fast path for a type).
    case unavailable(what: String, reason: String)
    /// The device had no room for `bytes` bytes that an operation needed (`Int.max`: a size beyond
    /// 2⁶³): an allocation failed, or the results would not fit in the device's (or, for the CPU,
    /// the host's physical) memory, which is checked before any work. A smaller batch (or video)
    /// needs less.
    case outOfMemory(device: Device, bytes: Int)
    /// A caller's workspace (``withWorkspace(_:_:)``) of `capacity` bytes had no room left for a
    /// temporary of `bytes` bytes: size it with ``GPUWorkspace/bytesNeeded(on:for:)``.
    case workspaceTooSmall(device: Device, bytes: Int, capacity: Int)
    /// The device failed while running an operation (a driver call or a kernel returned an error).
    case deviceFailure(device: Device, reason: String)
    /// A file could not be opened, read, created, written or renamed; `reason` says which and
    /// gives the system's message (for example "cannot open for reading: No such file or directory
    /// (errno 2)").
    case fileAccess(path: String, reason: String)
    /// A file's contents are not what was expected: not the format, truncated, malformed, or a
    /// variant DNLS does not read (for a `.npy` file: Fortran order, a big-endian or unsupported
    /// dtype, a data size that does not match the shape). `reason` names what was found.
    case fileFormat(path: String, reason: String)

    /// A sentence naming the argument, what was expected and what was given.
    public var description: String {
        switch self {
        case let .invalidArgument(argument, expected, actual):
            return "invalid argument `\(argument)`: expected \(expected), got \(actual)"
        case let .shapeMismatch(argument, expected, actual):
            return "shape mismatch for `\(argument)`: expected \(expected), got \(actual)"
        case let .outOfRange(argument, value, valid):
            return "`\(argument)` out of range: \(value) is outside \(valid)"
        case let .nonFinite(argument, position):
            return "`\(argument)` holds a NaN or infinite value at \(position)"
        case let .deviceMismatch(argument, expected, actual):
            return "`\(argument)` is on \(actual) but the operation runs on \(expected)"
        case let .unavailable(what, reason):
            return "\(what) is unavailable: \(reason)"
        case let .outOfMemory(device, bytes):
            let size = bytes == .max ? "more than 2⁶³ bytes" : "\(bytes) bytes"
            return "\(device) has no room for \(size) (a smaller batch of queries, or a smaller video, needs less)"
        case let .workspaceTooSmall(device, bytes, capacity):
            return "the workspace of \(capacity) bytes on \(device) has no room for a temporary of \(bytes) bytes "
                + "(GPUWorkspace.bytesNeeded(on:for:) gives the size the calls need)"
        case let .deviceFailure(device, reason):
            return "\(device) failed: \(reason)"
        case let .fileAccess(path, reason):
            return "file `\(path)`: \(reason)"
        case let .fileFormat(path, reason):
            return "file `\(path)` is malformed or unsupported: \(reason)"
        }
    }
}
