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
/// backward flow are zero. The searches run where the video is (CPU or GPU); the pre-filter,
/// pyramid and median filter run on the host, and memory beyond the flows is bounded by
/// ``batchSize`` and a 64 MiB budget of frame pairs per search.
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
        let values = try video.hostElements()
        try requireFinite(values, shape: video.shape, argument: "video")
        let (B, T, C, H, W) = (shape.batch, shape.frames, shape.channels, shape.height, shape.width)
        let pyramid = FlowPyramid(values, frames: B * T, channels: C, height: H, width: W,
                                  prefilter: prefilter, levels: levelCount(height: H, width: W))
        // Pairs (frame, target), frames numbered b·T + t: every forward pair, then every backward one.
        var pairs: [(frame: Int, target: Int)] = []
        for b in 0..<B { for t in 0..<T - 1 { pairs.append((b * T + t, b * T + t + 1)) } }
        for b in 0..<B { for t in 1..<T { pairs.append((b * T + t, b * T + t - 1)) } }
        var flows = [[Int32]](repeating: [], count: pairs.count)  // per pair: (2, h, w) at the current level
        let calls = pyramid.levels.reduce(0) { total, level in
            total + callCount(pairs: pairs.count, channels: C, height: level.height, width: level.width)
        }
        var done = 0
        for level in pyramid.levels.indices.reversed() {
            let (h, w) = (pyramid.levels[level].height, pyramid.levels[level].width)
            // The previous (coarser) level's flows, doubled, are this level's second centres.
            let coarser = level + 1 < pyramid.levels.count ? pyramid.levels[level + 1] : nil
            let predicted: [[Int32]] = flows.map { flow in
                guard let coarser, !flow.isEmpty else { return [Int32](repeating: 0, count: 2 * h * w) }
                return FlowPyramid.doubled(flow, height: coarser.height, width: coarser.width, toHeight: h, toWidth: w)
            }
            let found = try search(pairs: pairs, level: pyramid.levels[level], predicted: predicted, device: video.device) {
                done += 1
                progress(done, calls)
            }
            flows = found.map { FlowPyramid.median($0, height: h, width: w, radius: medianRadius) }
        }
        // (B, T, 2, H, W): pair p's flow is frame `frame`'s, forward or backward.
        var forward = [Float](repeating: 0, count: B * T * 2 * H * W), backward = forward
        for (p, pair) in pairs.enumerated() {
            let base = pair.frame * 2 * H * W
            for i in 0..<2 * H * W {
                if pair.target > pair.frame { forward[base + i] = Float(flows[p][i]) } else { backward[base + i] = Float(flows[p][i]) }
            }
        }
        let flowShape = shape.videoShape(channels: 2)
        return Flows(forward: try Tensor(uncheckedShape: flowShape, scalars: forward).to(video.device),
                     backward: try Tensor(uncheckedShape: flowShape, scalars: backward).to(video.device))
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
    private func search(pairs: [(frame: Int, target: Int)], level: FlowPyramid.Level, predicted: [[Int32]], device: Device,
                        called: () -> Void) throws(DNLSError) -> [[Int32]] {
        let (C, h, w) = (level.channels, level.height, level.width)
        let side = min(h, w)
        let matcher = PatchSearch(geometry: PatchGeometry(patchSize: min(patchSize, side)),
                                 window: SearchWindow(size: min(2 * radius + 1, side), temporalRadius: 1), k: 1)
        let grid = try QueryGrid(region: Region(frames: 0..<1, rows: 0..<h, columns: 0..<w))
        let frame = C * h * w, plane = h * w
        let group = pairsPerCall(channels: C, height: h, width: w)
        var flows = predicted
        for first in stride(from: 0, to: pairs.count, by: group) {
            let members = Array(pairs[first..<min(first + group, pairs.count)])
            let P = members.count
            var queryVideo = [Float](), keyVideo = [Float](), moves = [Float](repeating: 0, count: P * 2 * 2 * plane)
            queryVideo.reserveCapacity(P * 2 * frame); keyVideo.reserveCapacity(P * 2 * frame)
            for (m, pair) in members.enumerated() {
                let source = level.frame(pair.frame), target = level.frame(pair.target)
                queryVideo += source; queryVideo += target
                keyVideo += target; keyVideo += target
                for i in 0..<2 * plane { moves[m * 4 * plane + i] = Float(predicted[first + m][i]) }
            }
            let clip = [P, 2, C, h, w]
            let videoTensor = try Tensor(uncheckedShape: clip, scalars: queryVideo).to(device)
            let keyTensor = try Tensor(uncheckedShape: clip, scalars: keyVideo).to(device)
            let along = Flows(forward: try Tensor(uncheckedShape: [P, 2, 2, h, w], scalars: moves).to(device))
            let queries = max(1, batchSize / P)
            for start in stride(from: 0, to: grid.count, by: queries) {
                let batch = start..<min(start + queries, grid.count)
                let found = try matcher(videoTensor, keys: keyTensor, queries: .grid(grid, batch: batch), flows: along)
                let indices = try found.indices.hostElements()  // (P, n, 1, 3): frame, row, column
                let n = batch.count
                for m in 0..<P {
                    for (j, q) in batch.enumerated() {
                        let at = (m * n + j) * 3
                        guard indices[at] >= 0 else { continue }  // no candidate: keep the prediction
                        let (y, x) = (q / w, q % w)
                        flows[first + m][q] = indices[at + 2] - Int32(x)
                        flows[first + m][plane + q] = indices[at + 1] - Int32(y)
                    }
                }
                called()
            }
        }
        return flows
    }
}

/// The pre-filtered frames of a video and their halvings, on the host.
struct FlowPyramid {
    /// One level: every frame, `(frames, C, height, width)`.
    struct Level {
        let values: [Float]
        let channels: Int, height: Int, width: Int

        /// Frame `n`'s `(C, height, width)` values.
        func frame(_ n: Int) -> ArraySlice<Float> {
            let size = channels * height * width
            return values[n * size ..< (n + 1) * size]
        }
    }

    /// Finest first.
    let levels: [Level]

    init(_ values: [Float], frames: Int, channels: Int, height: Int, width: Int, prefilter: Float, levels count: Int) {
        var level = Level(values: Self.blurred(values, planes: frames * channels, height: height, width: width, sigma: prefilter),
                          channels: channels, height: height, width: width)
        var levels = [level]
        while levels.count < count && level.height > 1 && level.width > 1 {
            level = Self.halved(level, planes: frames * channels)
            levels.append(level)
        }
        self.levels = levels
    }

    /// Each plane convolved with a Gaussian of `sigma` pixels (taps to 3σ), rows then columns,
    /// the border replicated.
    static func blurred(_ values: [Float], planes: Int, height: Int, width: Int, sigma: Float) -> [Float] {
        guard sigma > 0 else { return values }
        let reach = max(1, Int((3 * sigma).rounded(.up)))
        var taps = (-reach...reach).map { d -> Float in expf(-Float(d * d) / (2 * sigma * sigma)) }
        let total = taps.reduce(0, +)
        taps = taps.map { $0 / total }
        var across = [Float](repeating: 0, count: values.count), out = across
        across.withUnsafeMutableBufferPointer { acrossBuffer in
            out.withUnsafeMutableBufferPointer { outBuffer in
                let across = FlowScratch(acrossBuffer.baseAddress!), out = FlowScratch(outBuffer.baseAddress!)
                fastParallelFor(planes) { p in  // each plane writes only its own values
                    let base = p * height * width
                    for y in 0..<height {
                        for x in 0..<width {
                            var sum: Float = 0
                            for (i, tap) in taps.enumerated() { sum += tap * values[base + y * width + min(max(x + i - reach, 0), width - 1)] }
                            across.pointer[base + y * width + x] = sum
                        }
                    }
                    for y in 0..<height {
                        for x in 0..<width {
                            var sum: Float = 0
                            for (i, tap) in taps.enumerated() {
                                sum += tap * across.pointer[base + min(max(y + i - reach, 0), height - 1) * width + x]
                            }
                            out.pointer[base + y * width + x] = sum
                        }
                    }
                }
            }
        }
        return out
    }

    /// The level at half the size (rounded up): the mean of each 2 × 2 block's pixels in the frame.
    static func halved(_ level: Level, planes: Int) -> Level {
        let (h, w) = (level.height, level.width), (h2, w2) = ((level.height + 1) / 2, (level.width + 1) / 2)
        var out = [Float](repeating: 0, count: planes * h2 * w2)
        out.withUnsafeMutableBufferPointer { buffer in
            let out = FlowScratch(buffer.baseAddress!)
            fastParallelFor(planes) { p in
                for y in 0..<h2 {
                    for x in 0..<w2 {
                        var sum: Float = 0, count: Float = 0
                        for yy in 2 * y ..< min(2 * y + 2, h) {
                            for xx in 2 * x ..< min(2 * x + 2, w) { sum += level.values[(p * h + yy) * w + xx]; count += 1 }
                        }
                        out.pointer[(p * h2 + y) * w2 + x] = sum / count
                    }
                }
            }
        }
        return Level(values: out, channels: level.channels, height: h2, width: w2)
    }

    /// A `(2, height, width)` flow at twice the size: each pixel takes its coarse pixel's
    /// displacement, doubled.
    static func doubled(_ flow: [Int32], height: Int, width: Int, toHeight h: Int, toWidth w: Int) -> [Int32] {
        var out = [Int32](repeating: 0, count: 2 * h * w)
        for c in 0..<2 {
            for y in 0..<h {
                for x in 0..<w {
                    out[(c * h + y) * w + x] = 2 * flow[(c * height + min(y / 2, height - 1)) * width + min(x / 2, width - 1)]
                }
            }
        }
        return out
    }

    /// Each component of a `(2, height, width)` flow replaced by its median over the
    /// `(2·radius + 1)²` window (clipped at the border; the lower middle value of an even count).
    static func median(_ flow: [Int32], height: Int, width: Int, radius: Int) -> [Int32] {
        guard radius > 0 else { return flow }
        var out = flow
        let side = 2 * radius + 1
        out.withUnsafeMutableBufferPointer { buffer in
            let out = FlowScratch(buffer.baseAddress!)
            // One task per component and row, each with its own window buffer, writing its row only.
            fastParallelFor(2 * height) { task in
                let (c, y) = (task / height, task % height)
                withUnsafeTemporaryAllocation(of: Int32.self, capacity: side * side) { window in
                    for x in 0..<width {
                        var n = 0
                        for yy in max(0, y - radius)...min(height - 1, y + radius) {
                            for xx in max(0, x - radius)...min(width - 1, x + radius) {
                                // Insertion into the sorted prefix: at most 25 values for radius 2.
                                let v = flow[(c * height + yy) * width + xx]
                                var i = n
                                while i > 0 && window[i - 1] > v { window[i] = window[i - 1]; i -= 1 }
                                window[i] = v
                                n += 1
                            }
                        }
                        out.pointer[(c * height + y) * width + x] = window[(n - 1) / 2]
                    }
                }
            }
        }
        return out
    }
}

/// A buffer that the tasks of ``fastParallelFor(_:_:)`` share, each writing only its own elements.
private struct FlowScratch<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
