/// The space-time window a query searches: `ws × ws` candidates spaced by `stride` around the
/// (flow-moved) query position in each of `2·temporalRadius + 1` frames.
///
/// A search refuses a window whose span `(ws − 1) · stride + 1` exceeds `2 · max(H, W) − 1`: its
/// outer candidates would lie outside the frame for every query, costing time and memory for
/// nothing. A temporal radius beyond `T − 1` searches every frame, exactly as `T − 1` does.
public struct SearchWindow: Sendable, Hashable {
    /// Candidates per window side (`ws`), at least 1.
    public var size: Int
    /// Spacing of candidates inside the window (`stride1`), at least 1.
    public var stride: Int
    /// Frames searched on each side of the query frame (`wt`), at least 0.
    public var temporalRadius: Int

    /// A window of `size × size` candidates spaced by `stride`, over `2·temporalRadius + 1` frames.
    public init(size: Int, stride: Int = 1, temporalRadius: Int = 0) {
        self.size = size
        self.stride = stride
        self.temporalRadius = temporalRadius
    }

    /// Displacement of window row or column `i` from the window centre: `(i − (ws − 1)/2) · stride`.
    @inlinable @inline(__always)
    public func offset(_ i: Int) -> Int { (i - (size - 1) / 2) * stride }

    /// Number of frames searched in a video of `frames` frames: `min(2·wt + 1, frames)`.
    public func frameCount(videoFrames frames: Int) -> Int { min(2 * min(temporalRadius, frames) + 1, frames) }

    /// Pixels the window spans along one axis, `(ws − 1) · stride + 1`, or `nil` when that
    /// overflows.
    public var span: Int? {
        let (reach, overflow) = (size - 1).multipliedReportingOverflow(by: stride)
        return overflow || reach == .max ? nil : reach + 1
    }

    /// The same window with the temporal radius cut to what `frames` frames can use (`frames − 1`):
    /// every query then searches the same frames, and no frame arithmetic can overflow.
    func effective(videoFrames frames: Int) -> SearchWindow {
        SearchWindow(size: size, stride: stride, temporalRadius: min(temporalRadius, max(0, frames - 1)))
    }

    /// Number of candidates per query in a video of `frames` frames (`Int.max` when that
    /// overflows; a search refuses such a window).
    public func candidateCount(videoFrames frames: Int) -> Int {
        let (area, o1) = size.multipliedReportingOverflow(by: size)
        let (count, o2) = frameCount(videoFrames: frames).multipliedReportingOverflow(by: area)
        return o1 || o2 ? .max : count
    }

    /// The frames searched for a query in frame `t`, in visiting order: the query frame, later
    /// frames ascending, then earlier frames descending. The `2wt+1`-frame window is shifted (not
    /// cut) to stay inside `[0, frames)`.
    public func frameOrder(queryFrame t: Int, videoFrames frames: Int) -> [Int] {
        let range = frameRange(queryFrame: t, videoFrames: frames)
        return Array(t..<range.upperBound) + Array((range.lowerBound..<t).reversed())
    }

    /// The contiguous frames `[start, end)` searched for a query in frame `t`.
    @inlinable
    public func frameRange(queryFrame t: Int, videoFrames frames: Int) -> Range<Int> {
        let wt = min(temporalRadius, frames)
        let shift = min(0, t - wt) + max(0, t + wt - frames + 1)
        let start = max(t - wt - shift, 0)
        let end = min(frames - 1, t + wt - shift) + 1
        return start..<end
    }

    /// Frame visited in slot `slot` of the visiting order for a query in frame `t`.
    @inlinable @inline(__always)
    public func frame(slot: Int, queryFrame t: Int, range: Range<Int>) -> Int {
        let later = range.upperBound - t
        return slot < later ? t + slot : t - 1 - (slot - later)
    }

    /// Checks the window against a video of `frames` frames of `height × width`. A window whose
    /// span `(ws − 1) · stride + 1` exceeds `2 · max(H, W) − 1` is refused: its outer candidates
    /// would lie outside the frame for every query (and flow), so it would only cost time and
    /// memory (or, with `k: nil`, return slots that are always empty).
    func validate(videoFrames frames: Int, height: Int, width: Int) throws(DNLSError) {
        guard size >= 1 else {
            throw .invalidArgument(argument: "window.size", expected: "at least 1", actual: "\(size)")
        }
        guard stride >= 1 else {
            throw .invalidArgument(argument: "window.stride", expected: "at least 1", actual: "\(stride)")
        }
        guard temporalRadius >= 0 else {
            throw .invalidArgument(argument: "window.temporalRadius", expected: "at least 0", actual: "\(temporalRadius)")
        }
        let widest = 2 * max(height, width) - 1
        guard let span, span <= widest else {
            throw .invalidArgument(
                argument: "window.size",
                expected: "a window span (size−1)·stride+1 of at most \(widest) (2·max(H, W) − 1 for a \(height)×\(width) frame: "
                    + "farther candidates are outside the frame for every query)",
                actual: span.map { "span \($0) (size \(size), stride \(stride))" }
                    ?? "size \(size), stride \(stride) (a span beyond 2⁶³)")
        }
    }
}
