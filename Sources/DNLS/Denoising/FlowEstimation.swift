#if canImport(Glibc)
import Glibc
#endif

/// Optical flow estimated from the video itself, for the searches and denoisers that follow flows
/// when none is known.
///
/// The method is coarse-to-fine patch search with the library's own ``PatchSearch``:
/// 1. every frame is smoothed by a Gaussian pre-filter of ``prefilter`` pixels, so that noise
///    sways the matches less, and a pyramid halves it ``levels`` times (2 × 2 averages);
/// 2. from the coarsest level to the finest, each pixel of frame `t` takes as its displacement the
///    best-matching patch (L2, ``patchSize``) in frame `t + 1` (forward) or `t − 1` (backward)
///    among the offsets within ``radius`` of two centres: the pixel itself, and where the previous
///    level's flow, doubled, leads. The zero-motion centre keeps a wrong coarse estimate from
///    drawing a still region away;
/// 3. after each level a median filter of ``medianRadius`` removes isolated mismatches, component
///    by component.
///
/// The result is a whole-pixel flow, which is what the searches use (they round flows to whole
/// pixels hop by hop): `(B, T, 2, H, W)` or `(T, 2, H, W)` like the video, channel 0 moving the
/// column (x) and channel 1 the row (y). The last frame's forward flow and the first frame's
/// backward flow are zero. Every step runs where the video is: on a GPU nothing is copied to the
/// host, and the flows are the host's bit for bit. Memory beyond the video is its pyramid (about
/// 1.4 videos with the pre-filter's pass), a few whole-pixel flows of every frame pair, and per
/// search ``batchSize`` queries over a 64 MiB budget of frame pairs.
public struct FlowEstimation: Sendable, Hashable {
    /// Patch side of the matching.
    public var patchSize = 9
    /// Offsets searched on each side of each centre at every level (windows of `2·radius + 1`).
    public var radius = 3
    /// Pyramid levels, 1 for the frames alone (nil: halve while the coarser level keeps at least
    /// 16 pixels a side, at most 5 levels; ``levelCount(height:width:)``).
    public var levels: Int?
    /// Standard deviation, in pixels, of the Gaussian pre-filter (0: none).
    public var prefilter: Float = 1.5
    /// Radius of the median filter after each level (0: none).
    public var medianRadius = 2
    /// Queries per search call, over all the frame pairs of the call.
    public var batchSize = 1 << 20

    /// The standard estimator.
    public init() {}

    /// Checks the parameters; the call checks the video.
    public func validate() throws(DNLSError) {
        let checks: [(String, Int, Int)] = [("patchSize", patchSize, 1), ("radius", radius, 0), ("levels", levels ?? 1, 1),
                                            ("medianRadius", medianRadius, 0), ("batchSize", batchSize, 1)]
        for (name, value, least) in checks where value < least {
            throw .invalidArgument(argument: name, expected: "at least \(least)", actual: "\(value)")
        }
        guard prefilter >= 0, prefilter.isFinite else {
            throw .invalidArgument(argument: "prefilter", expected: "a standard deviation of 0 or more pixels", actual: "\(prefilter)")
        }
    }

    /// The pyramid levels for frames of `height` × `width`: ``levels`` when set, else one more for
    /// every halving that keeps at least 16 pixels a side, at most 5.
    public func levelCount(height: Int, width: Int) -> Int {
        if let levels { return levels }
        var count = 1
        while count < 5 && min(height, width) >> count >= 16 { count += 1 }
        return count
    }

    /// The forward and backward flows of `video` (`(T, C, H, W)` or `(B, T, C, H, W)`), on the
    /// video's device; `progress(done, total)` after each search call.
    /// - Throws: ``DNLSError/invalidArgument(argument:expected:actual:)`` for bad parameters or a
    ///   video of another rank, ``DNLSError/nonFinite(argument:position:)`` for NaN or infinite
    ///   values, and what the searches throw.
    public func callAsFunction(_ video: Tensor<Float>, progress: (Int, Int) -> Void = { _, _ in }) throws(DNLSError) -> Flows<Float> {
        try validate()
        let shape = try VideoShape(video: video, argument: "video")
        try requireFinite(video, argument: "video")
        let (B, T, C, H, W) = (shape.batch, shape.frames, shape.channels, shape.height, shape.width)
        let kernels = try flowKernels(device: video.device)
        let pyramid = try FlowPyramid(video, frames: B * T, channels: C, height: H, width: W, prefilter: prefilter,
                                      levels: levelCount(height: H, width: W), kernels: kernels)
        let pairs = FlowPairs(batch: B, frames: T)
        var flows: Tensor<Int32>?  // (pairs, 2, h, w) at the current level
        let calls = pyramid.levels.reduce(0) { total, level in
            total + callCount(pairs: pairs.count, channels: C, height: level.height, width: level.width)
        }
        var done = 0
        for level in pyramid.levels.indices.reversed() {
            let (h, w) = (pyramid.levels[level].height, pyramid.levels[level].width)
            // The previous (coarser) level's flows, doubled, are this level's second centres.
            let predicted: Tensor<Int32>
            if let coarse = flows, level + 1 < pyramid.levels.count {
                let coarser = pyramid.levels[level + 1]
                predicted = try kernels.doubled(coarse, height: coarser.height, width: coarser.width, toHeight: h, toWidth: w)
            } else {
                predicted = try Tensor<Int32>.zeros([pairs.count, 2, h, w], on: video.device)
            }
            let found = try search(pairs: pairs, level: pyramid.levels[level], predicted: predicted, kernels: kernels) {
                done += 1
                progress(done, calls)
            }
            flows = try kernels.medianFiltered(found, height: h, width: w, radius: medianRadius)
        }
        let flowShape = shape.videoShape(channels: 2)
        let (forward, backward) = try kernels.assembled(flows!, pairs: pairs, plane: H * W)  // a level at least
        return Flows(forward: forward.withShape(flowShape), backward: backward.withShape(flowShape))
    }

    /// Frame pairs of one search call at a level: as many as 64 MiB of query and key frames hold.
    func pairsPerCall(channels: Int, height: Int, width: Int) -> Int {
        max(1, (1 << 24) / max(1, 4 * channels * height * width))
    }

    /// Search calls at a level: for each group of pairs, its batches of queries.
    func callCount(pairs: Int, channels: Int, height: Int, width: Int) -> Int {
        let group = pairsPerCall(channels: channels, height: height, width: width)
        return stride(from: 0, to: pairs, by: group).reduce(0) { calls, first in
            let queries = max(1, batchSize / min(group, pairs - first))
            return calls + (height * width + queries - 1) / queries
        }
    }

    /// Each pair's flow at one level: the displacement of its best match among the offsets within
    /// the radius of the pixel and of its predicted centre. A pair is a two-frame clip (the frame,
    /// the target) whose keys are (the target, the target): the query frame's own slot searches
    /// the target around the pixel, the next slot around where the predicted flow leads.
    private func search(pairs: FlowPairs, level: FlowPyramid.Level, predicted: Tensor<Int32>, kernels: any FlowKernels,
                        called: () -> Void) throws(DNLSError) -> Tensor<Int32> {
        let (C, h, w) = (level.channels, level.height, level.width)
        let side = min(h, w)
        let matcher = PatchSearch(geometry: PatchGeometry(patchSize: min(patchSize, side)),
                                 window: SearchWindow(size: min(2 * radius + 1, side), temporalRadius: 1), k: 1)
        let grid = try QueryGrid(region: Region(frames: 0..<1, rows: 0..<h, columns: 0..<w))
        let group = pairsPerCall(channels: C, height: h, width: w)
        var flows = predicted
        for first in stride(from: 0, to: pairs.count, by: group) {
            let P = min(group, pairs.count - first)
            let clip = try kernels.clips(level.values, pairs: pairs, first: first, count: P, predicted: predicted,
                                         channels: C, height: h, width: w)
            let along = Flows(forward: clip.moves)
            let queries = max(1, batchSize / P)
            for start in stride(from: 0, to: grid.count, by: queries) {
                let batch = start..<min(start + queries, grid.count)
                let found = try matcher(clip.video, keys: clip.keys, queries: .grid(grid, batch: batch), flows: along)
                try kernels.update(&flows, indices: found.indices, first: first, count: P, batch: batch, height: h, width: w)
                called()
            }
        }
        return flows
    }
}

/// The pre-filtered frames of a video and their halvings, on the video's device.
package struct FlowPyramid {
    /// One level: every frame, `(frames, C, height, width)`.
    struct Level {
        let values: Tensor<Float>
        let channels: Int, height: Int, width: Int
    }

    /// Finest first.
    let levels: [Level]

    init(_ video: Tensor<Float>, frames: Int, channels: Int, height: Int, width: Int, prefilter: Float, levels count: Int,
         kernels: any FlowKernels) throws(DNLSError) {
        let planes = frames * channels
        let frameShape = [frames, channels]
        let taps = Self.taps(sigma: prefilter)
        let first = taps.count > 1 ? try kernels.blurred(video, planes: planes, height: height, width: width, taps: taps) : video
        var level = Level(values: first.withShape(frameShape + [height, width]), channels: channels, height: height, width: width)
        var levels = [level]
        while levels.count < count && level.height > 1 && level.width > 1 {
            let half = try kernels.halved(level.values, planes: planes, height: level.height, width: level.width)
            level = Level(values: half.withShape(frameShape + Array(half.shape.suffix(2))), channels: channels,
                          height: half.shape[1], width: half.shape[2])
            levels.append(level)
        }
        self.levels = levels
    }

    /// The normalised taps of a Gaussian of `sigma` pixels, to 3σ (one tap, 1, for no filter).
    package static func taps(sigma: Float) -> [Float] {
        guard sigma > 0 else { return [1] }
        let reach = max(1, Int((3 * sigma).rounded(.up)))
        let taps = (-reach...reach).map { d -> Float in expf(-Float(d * d) / (2 * sigma * sigma)) }
        let total = taps.reduce(0, +)
        return taps.map { $0 / total }
    }
}
