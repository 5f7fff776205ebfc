/// The version of DNLS: the library and the `dnls` tool built from the same sources.
///
/// `dnls --version` prints ``string``.
public enum DNLSVersion {
    /// The release, as `major.minor.patch` (semantic versioning).
    public static let string = "0.1.0"
}
