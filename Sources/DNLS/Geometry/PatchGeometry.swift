/// Where entry `(a, b)` of a patch sits relative to the patch's position.
public enum PatchAnchor: Sendable, Hashable, CaseIterable {
    /// The position is the patch centre: entry `a` is at `dilation · (a − patchSize / 2)`.
    /// For even sizes the centre is the lower-right of the middle four.
    case center
    /// The position is the top-left entry: entry `a` is at `dilation · a`, as in
    /// `torch.nn.functional.unfold`.
    case topLeft
}

/// The shape of a patch and how it reads the video: one type shared by every operation.
///
/// Entry `(a, b)` of the patch at `(h, w)` reads row `h + offset(a)` and column `w + offset(b)`,
/// resolved through ``border``.
public struct PatchGeometry: Sendable, Hashable {
    /// Side of the square patch, at least 1.
    public var patchSize: Int
    /// Spacing between neighbouring patch samples, at least 1.
    public var dilation: Int
    /// Which entry sits at the patch's position.
    public var anchor: PatchAnchor
    /// What samples outside the frame read.
    public var border: Border

    /// A patch geometry. Values are checked when an operation uses it.
    public init(patchSize: Int, dilation: Int = 1, anchor: PatchAnchor = .center, border: Border = .reflect) {
        self.patchSize = patchSize
        self.dilation = dilation
        self.anchor = anchor
        self.border = border
    }

    /// Displacement of patch entry `a` (row or column) from the patch position.
    @inlinable @inline(__always)
    public func offset(_ a: Int) -> Int {
        dilation * (anchor == .center ? a - patchSize / 2 : a)
    }

    /// All entry displacements, `offset(0) ..< offset(patchSize - 1)` in steps of `dilation`.
    public var offsets: [Int] { (0..<patchSize).map(offset) }

    /// Number of pixels the patch spans along one axis: `(patchSize − 1) · dilation + 1`
    /// (`Int.max` when that overflows; operations refuse such a geometry).
    public var span: Int {
        let (reach, overflow) = (patchSize - 1).multipliedReportingOverflow(by: dilation)
        return overflow || reach == .max ? .max : reach + 1
    }

    /// Checks the geometry against a frame of `height × width`.
    func validate(height: Int, width: Int) throws(DNLSError) {
        guard patchSize >= 1 else {
            throw .invalidArgument(argument: "patchSize", expected: "at least 1", actual: "\(patchSize)")
        }
        // A dilation beyond the frame means nothing even for a one-pixel patch, and would only
        // feed huge numbers to the index arithmetic.
        guard dilation >= 1, dilation <= max(height, width) else {
            throw .invalidArgument(argument: "dilation", expected: "1…\(max(height, width)) (at most the frame's side)",
                                   actual: "\(dilation)")
        }
        // Checked arithmetic: a huge size or dilation is an error, not a trap.
        guard span <= height, span <= width else {
            throw .invalidArgument(
                argument: "patchSize",
                expected: "a patch span (patchSize−1)·dilation+1 no larger than the frame \(height)×\(width)",
                actual: span == .max ? "patchSize \(patchSize), dilation \(dilation) (a span of 2⁶³ or more)"
                    : "span \(span) (patchSize \(patchSize), dilation \(dilation))")
        }
    }
}
