/// A half-open space-time box of a video: frames `[t0, t1)`, rows `[top, bottom)`, columns
/// `[left, right)`.
public struct Region: Sendable, Hashable {
    /// First frame and one past the last.
    public var t0: Int, t1: Int
    /// First row and one past the last.
    public var top: Int, bottom: Int
    /// First column and one past the last.
    public var left: Int, right: Int

    /// A region from its half-open bounds.
    public init(frames: Range<Int>, rows: Range<Int>, columns: Range<Int>) {
        t0 = frames.lowerBound; t1 = frames.upperBound
        top = rows.lowerBound; bottom = rows.upperBound
        left = columns.lowerBound; right = columns.upperBound
    }

    /// The whole of a video of `frames × height × width`.
    public static func whole(frames: Int, height: Int, width: Int) -> Region {
        Region(frames: 0..<frames, rows: 0..<height, columns: 0..<width)
    }

    /// The frames `t0 ..< t1`.
    public var frames: Range<Int> { t0..<t1 }
    /// The rows `top ..< bottom`.
    public var rows: Range<Int> { top..<bottom }
    /// The columns `left ..< right`.
    public var columns: Range<Int> { left..<right }

    /// Checks that the region is non-empty and inside a video of `frames × height × width`.
    func validate(frames: Int, height: Int, width: Int, argument: String = "region") throws(DNLSError) {
        guard t0 < t1, top < bottom, left < right else {
            throw .invalidArgument(argument: argument, expected: "a non-empty region", actual: "\(self)")
        }
        guard t0 >= 0, t1 <= frames, top >= 0, bottom <= height, left >= 0, right <= width else {
            throw .outOfRange(argument: argument, value: "\(self)",
                              valid: "the video [0, \(frames)) × [0, \(height)) × [0, \(width))")
        }
    }
}

extension Region: CustomStringConvertible {
    /// `[t0, t1) × [top, bottom) × [left, right)`.
    public var description: String { "[\(t0), \(t1)) × [\(top), \(bottom)) × [\(left), \(right))" }
}
