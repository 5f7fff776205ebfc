import ArgumentParser

/// `--sigma`: a noise level on the 0–255 scale, or `auto` to estimate it from the video.
enum SigmaChoice: ExpressibleByArgument, Equatable, CustomStringConvertible {
    case value(Float)
    case auto

    /// The noise of the embedded default, and the level assumed where none is given.
    static let defaultSigma: Float = 25

    init?(argument: String) {
        if argument == "auto" {
            self = .auto
        } else if let value = Float(argument) {
            self = .value(value)
        } else {
            return nil
        }
    }

    /// The given level, or nil for `auto`.
    var value: Float? {
        if case let .value(v) = self { return v }
        return nil
    }

    var description: String { value.map { "\($0)" } ?? "auto" }

    var defaultValueDescription: String { value.map { "\(Int($0))" } ?? "auto" }
}
