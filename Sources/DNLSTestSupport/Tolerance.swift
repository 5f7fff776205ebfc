/// How closely two results of different summation orders must agree: equal values pass
/// (infinities included, which match nothing else), NaN only against NaN, anything else when
/// `|a − b| ≤ relative · max(|a|, |b|, scale)`.
///
/// `scale` is the magnitude below which the bound stops shrinking: the largest value of the
/// reference tensor, or the number of terms in a sum, so that values that cancel to near zero are
/// judged against the size of what was summed.
package struct Tolerance: Sendable, Hashable {
    package var relative: Double
    package var scale: Double

    package init(relative: Double, scale: Double = 1) {
        self.relative = relative
        self.scale = scale
    }

    /// Float32 rounding of sums of up to a few thousand terms.
    package static let float32 = Tolerance(relative: 1e-4)

    /// The same bound, not shrinking below `scale`.
    package func scaled(_ scale: Double) -> Tolerance { Tolerance(relative: relative, scale: Swift.max(1, scale)) }

    /// Whether `a` and `b` agree.
    package func accepts(_ a: Double, _ b: Double) -> Bool {
        if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
        if a == b { return true }
        if a.isInfinite || b.isInfinite { return false }
        return Swift.abs(a - b) <= relative * Swift.max(Swift.abs(a), Swift.abs(b), scale)
    }

    /// Whether `a` and `b` agree.
    package func accepts(_ a: Float, _ b: Float) -> Bool { accepts(Double(a), Double(b)) }

    /// The first index where `got` and `want` disagree, or `nil` (the counts must be equal).
    package func firstMismatch<S: BinaryFloatingPoint>(_ got: [S], _ want: [S]) -> Int? {
        precondition(got.count == want.count, "firstMismatch: \(got.count) against \(want.count) values")
        return got.indices.first { !accepts(Double(got[$0]), Double(want[$0])) }
    }
}
