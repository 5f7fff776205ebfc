/// The five extents of a video and whether the caller passed the batch axis.
///
/// Inputs of rank 4 mean `B = 1`; outputs then drop the batch axis again, so a caller that never
/// uses batches never sees one.
struct VideoShape: Sendable, Hashable {
    let batch: Int, frames: Int, channels: Int, height: Int, width: Int
    /// True when the video was given as `(B, T, C, H, W)`.
    let batched: Bool

    init(batch: Int, frames: Int, channels: Int, height: Int, width: Int, batched: Bool) {
        self.batch = batch; self.frames = frames; self.channels = channels
        self.height = height; self.width = width; self.batched = batched
    }

    /// Reads the shape of a video tensor `(B, T, C, H, W)` or `(T, C, H, W)`.
    init<S>(video: Tensor<S>, argument: String) throws(DNLSError) {
        try self.init(dims: video.shape, argument: argument)
    }

    /// Reads a video shape `[B, T, C, H, W]` or `[T, C, H, W]`.
    init(dims s: [Int], argument: String) throws(DNLSError) {
        switch s.count {
        case 5: self.init(batch: s[0], frames: s[1], channels: s[2], height: s[3], width: s[4], batched: true)
        case 4: self.init(batch: 1, frames: s[0], channels: s[1], height: s[2], width: s[3], batched: false)
        default:
            throw .shapeMismatch(argument: argument, expected: "(B, T, C, H, W) or (T, C, H, W)", actual: s)
        }
        guard batch >= 1, frames >= 1, channels >= 1, height >= 1, width >= 1 else {
            throw .shapeMismatch(argument: argument, expected: "every extent at least 1", actual: s)
        }
        // Every size computed from the shape, in bytes of any element type, then fits an Int.
        guard byteCount(s, elementBytes: 8) != nil else {
            throw .shapeMismatch(argument: argument, expected: "fewer than 2⁶⁰ elements", actual: s)
        }
    }

    var planeSize: Int { height * width }
    var frameSize: Int { channels * height * width }
    var count: Int { batch * frames * channels * height * width }
    var dims: [Int] { [batch, frames, channels, height, width] }

    /// The shape of this video with another channel count, in the caller's rank.
    func videoShape(channels c: Int) -> [Int] { output([frames, c, height, width]) }

    /// `trailing` preceded by the batch axis when the caller used one.
    func output(_ trailing: [Int]) -> [Int] { batched ? [batch] + trailing : trailing }

    /// Checks a tensor that carries the batch axis when the video does: `(B, trailing…)`, or
    /// `(trailing…)` when the video is 4-D. `nil` entries of `trailing` may be any extent; the
    /// actual trailing extents are returned.
    @discardableResult
    func check<S>(_ tensor: Tensor<S>, argument: String, trailing: [Int?], meaning: String) throws(DNLSError) -> [Int] {
        let s = tensor.shape
        let lead = batched ? 1 : 0
        guard s.count == trailing.count + lead, !batched || s[0] == batch else {
            throw .shapeMismatch(argument: argument, expected: (batched ? "(B = \(batch), " : "(") + meaning + ")", actual: s)
        }
        let actual = Array(s[lead...])
        for (axis, want) in trailing.enumerated() {
            if let want, actual[axis] != want {
                throw .shapeMismatch(argument: argument, expected: (batched ? "(B = \(batch), " : "(") + meaning + ")", actual: s)
            }
        }
        return actual
    }

    @inline(__always)
    func index(_ b: Int, _ t: Int, _ c: Int, _ h: Int, _ w: Int) -> Int {
        (((b * frames + t) * channels + c) * height + h) * width + w
    }
}

/// Checks that two videos have identical shapes (and ranks).
func requireSameShape<S>(_ a: Tensor<S>, _ b: Tensor<S>, argument: String, as reference: String) throws(DNLSError) {
    guard a.shape == b.shape else {
        throw .shapeMismatch(argument: argument, expected: "the shape of `\(reference)` \(b.shape)", actual: a.shape)
    }
}

/// Checks that every value is finite, where the tensor lives: a GPU `Float` tensor by its
/// device's check kernel (reported as the call's checking mode says), anything else on the host.
func requireFinite<S: PatchScalar>(_ t: Tensor<S>, argument: String) throws(DNLSError) {
    if case let .cuda(ordinal) = t.device, let values = t as? Tensor<Float> {
        try gpuValidation(ordinal: ordinal).checkFinite(values, argument: argument)
        return
    }
    try requireFinite(try t.hostElements(), shape: t.shape, argument: argument)
}

/// Checks that every one of a tensor's host `values` (of `shape`) is finite.
/// - Throws: ``DNLSError/nonFinite(argument:position:)`` naming the first that is not.
func requireFinite<S: PatchScalar>(_ values: [S], shape: [Int], argument: String) throws(DNLSError) {
    if let first = values.firstIndex(where: { !$0.isFinite }) {
        throw .nonFinite(argument: argument, position: multiIndex(first, shape: shape))
    }
}

/// The row-major multi-index of flat offset `i` in `shape`.
func multiIndex(_ i: Int, shape: [Int]) -> [Int] {
    var position = [Int](repeating: 0, count: shape.count), rest = i
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        position[axis] = rest % shape[axis]; rest /= shape[axis]
    }
    return position
}
