import Dispatch

/// Video denoising by non-local Bayes (NL-Bayes: Lebrun, Buades and Morel, 2013), built from the
/// library's operations.
///
/// The video is first taken to an orthonormal decorrelated colour space (for three channels:
/// `(R + G + B)/√3, (R − B)/√2, (R − 2G + B)/√6`, which keeps white noise white with the same σ).
/// For each batch of queries, ``PatchSearch`` finds the `neighbours` nearest patches of each query
/// in its space-time window (optionally following flows), ``PatchScatter`` extracts that group
/// from the video, and every patch of the group is replaced, channel by channel, by its Bayes
/// (Wiener) estimate under a Gaussian model of the group, with `n = ps²`-dimensional mean `m`:
///
/// - first step, the model from the noisy group itself (covariance `Cₙ`):
///   `x̂ = m + (Cₙ − σ²I) Cₙ⁻¹ (x − m) = x − σ² Cₙ⁻¹ (x − m)`;
/// - second step, the search and the covariance `C_b` from the first step's estimate:
///   `x̂ = m + C_b (C_b + σ²I)⁻¹ (x − m) = x − σ² (C_b + σ²I)⁻¹ (x − m)`,
///
/// each a linear solve with a Cholesky factor (in `Double`); in the first step a group whose
/// values spread no more than the noise (``flatAreas``) is a flat area and takes its mean. ``PatchGather`` then adds every
/// estimated patch of every group back at its place, and each pixel is the average of the
/// estimates that cover it. With ``scales`` above 1 (3 by default) this runs on a pyramid: the
/// video halved is denoised the same way (noise σ/2), and its result corrects the coarse content
/// of the full one's where the halved estimate is locally flat, which removes the low-frequency
/// noise that patch groups of one resolution leave on smooth areas. Memory is bounded by the batch of queries. Every sum runs in a fixed order, so
/// the result is deterministic.
///
/// On a GPU every step runs there (the group statistics as one kernel per batch, a warp per
/// group and channel), and the estimate is bit for bit the host's given the same groups.
public struct NonLocalBayes: Sendable, Hashable {
    /// Noise standard deviation, on the scale of the video's values (0–255 for 8-bit pictures).
    public var sigma: Float
    /// Patch side.
    public var patchSize = 5
    /// Search window side.
    public var windowSize = 15
    /// Frames searched on each side of the query frame.
    public var temporalRadius = 2
    /// Patches per group: more than `patchSize²` keeps the group covariance invertible (45 did best
    /// among 30–90 on the embedded default of `dnls denoise` at ps 5).
    public var neighbours = 45
    /// Spacing of the query grid: every patch of every group is aggregated, so a stride of 2
    /// still covers every pixel many times.
    public var queryStride = 2
    /// Queries per batch, rounded down to whole groups of 16 rows of the query grid when it holds
    /// one (the GPU search works on tiles of query rows).
    public var batchSize = 2048
    /// Run the second step, guided by the first estimate.
    public var twoStep = true
    /// The flat-area rule of the first step, as `γ`: a group whose values spread less than `γσ`
    /// (the root of the mean over its channels of each channel's sample variance) is taken for
    /// a flat area, and each of its channels becomes its mean; `nil` turns the rule off. 1.05
    /// gave +0.45 dB on a flat crop of a real clip at σ 25 and changed the others by under
    /// 0.1 dB.
    public var flatAreas: Float? = 1.05
    /// Resolutions denoised. With `n ≥ 2`, the video halved (each pixel the mean of a 2 × 2
    /// block, the noise σ/2, flows halved too) is denoised with `n − 1` scales, and that result
    /// `x̂₁` corrects this resolution's `x̂₀`: `x̂ = x̂₀ + up(s · (x̂₁ − halved(x̂₀)))`, where `up`
    /// doubles and smooths with the weights (1/4, 1/2, 1/4) on each axis and the share
    /// `s = 2(σ/2)² / (2(σ/2)² + v)` falls with `v`, the variance of `x̂₁` over the 3 × 3 pixels
    /// around (the mean over the channels): the coarse level removes the low-frequency noise that
    /// patches of one resolution leave in flat and smooth areas, while edges and textures keep the
    /// finer estimate. A level is added only while the halved frames are at least ``windowSize``
    /// and ``patchSize`` on each side. On three real clips without flow, 3 scales gave +0.2 to
    /// +2.7 dB over 1 at σ 25 and +0.6 to +4.5 dB at σ 50, at 1.3 to 1.4 times the time;
    /// −0.04 dB on the embedded default scene of `dnls denoise`.
    public var scales = 3

    /// A denoiser for noise of standard deviation `sigma`.
    public init(sigma: Float) { self.sigma = sigma }

    /// Checks the parameters that do not depend on the video; the call checks the rest against the
    /// video before any work.
    public func validate() throws(DNLSError) {
        try Aggregation.validate(sigma: sigma, batchSize: batchSize)
        guard neighbours >= 2 else {
            throw .invalidArgument(argument: "neighbours", expected: "at least 2", actual: "\(neighbours)")
        }
        guard queryStride >= 1 else {
            throw .invalidArgument(argument: "queryStride", expected: "at least 1", actual: "\(queryStride)")
        }
        if let flatAreas, !(flatAreas > 0 && flatAreas.isFinite) {
            throw .invalidArgument(argument: "flatAreas", expected: "a positive factor or nil", actual: "\(flatAreas)")
        }
        guard scales >= 1 else {
            throw .invalidArgument(argument: "scales", expected: "at least 1", actual: "\(scales)")
        }
    }

    /// Denoises `noisy` (`(T, C, H, W)` or `(B, T, C, H, W)`), calling `progress(done, total)`
    /// after each batch of each step of each scale.
    public func callAsFunction(_ noisy: Tensor<Float>, flows: Flows<Float> = .none,
                               progress: (Int, Int) -> Void = { _, _ in }) throws(DNLSError) -> Tensor<Float> {
        try validate()
        let shape = try VideoShape(video: noisy, argument: "noisy")
        let kernels = try denoisingKernels(device: noisy.device)
        let values = try ColourBasis.decorrelated(noisy, shape: shape, kernels: kernels)
        let levels = pyramidShapes(shape)
        let total = levels.reduce(0) { $0 + batchCount($1) * (twoStep ? 2 : 1) }
        var done = 0
        let result = try denoised(values, shape: shape, flows: flows, sigma: sigma, levels: levels[...], kernels: kernels) {
            done += 1
            progress(done, total)
        }
        return try ColourBasis.restored(result, shape: shape, kernels: kernels)
    }

    /// The frame sizes of the pyramid's levels, finest first: each halves the last (rounding up)
    /// while both sides stay at least ``windowSize`` and ``patchSize``, up to ``scales`` levels.
    package func pyramidSizes(height: Int, width: Int) -> [(height: Int, width: Int)] {
        var levels = [(height: height, width: width)]
        while levels.count < scales, let last = levels.last {
            let (h, w) = ((last.height + 1) / 2, (last.width + 1) / 2)
            guard min(h, w) >= max(windowSize, patchSize) else { break }
            levels.append((h, w))
        }
        return levels
    }

    /// ``pyramidSizes(height:width:)`` as video shapes.
    private func pyramidShapes(_ shape: VideoShape) -> [VideoShape] {
        pyramidSizes(height: shape.height, width: shape.width).map {
            VideoShape(batch: shape.batch, frames: shape.frames, channels: shape.channels, height: $0.height,
                       width: $0.width, batched: shape.batched)
        }
    }

    /// Batches of one step at `shape`.
    private func batchCount(_ shape: VideoShape) -> Int {
        guard let grid = try? QueryGrid(region: .whole(frames: shape.frames, height: shape.height, width: shape.width),
                                        stride: queryStride) else { return 0 }
        let size = Aggregation.batchSize(batchSize, grid: grid)
        return (grid.count + size - 1) / size
    }

    /// Both steps at `levels.first`, corrected by the coarser levels that follow (decorrelated
    /// values in and out); `batchDone` after each batch.
    private func denoised(_ values: Tensor<Float>, shape: VideoShape, flows: Flows<Float>, sigma: Float,
                          levels: ArraySlice<VideoShape>, kernels: any DenoisingKernels,
                          batchDone: () -> Void) throws(DNLSError) -> Tensor<Float> {
        let variance = Double(sigma) * Double(sigma)
        var fine = try estimate(values, guide: values, model: nil, shape: shape, flows: flows, variance: variance,
                                kernels: kernels, batchDone: batchDone)
        if twoStep {
            fine = try estimate(values, guide: fine, model: fine, shape: shape, flows: flows, variance: variance,
                                kernels: kernels, batchDone: batchDone)
        }
        let rest = levels.dropFirst()
        guard let coarseShape = rest.first else { return fine }
        let planes = shape.batch * shape.frames * shape.channels
        let coarseDims = coarseShape.videoShape(channels: coarseShape.channels)
        let halvedValues = try kernels.halved(values, planes: planes, height: shape.height, width: shape.width)
        let coarse = try denoised(try halvedValues.reshaped(coarseDims), shape: coarseShape,
                                  flows: try halved(flows, shape: shape, kernels: kernels), sigma: sigma / 2,
                                  levels: rest, kernels: kernels, batchDone: batchDone)
        let fineHalved = try kernels.halved(fine, planes: planes, height: shape.height, width: shape.width)
        // Twice the coarse level's noise variance: a share of ½ where its local variance is that.
        let correction = try kernels.pyramidCorrection(
            coarse: coarse, coarseOfFine: fineHalved, frames: shape.batch * shape.frames, channels: shape.channels,
            height: coarseShape.height, width: coarseShape.width, noise: 2 * (sigma / 2) * (sigma / 2))
        return try kernels.expanded(fine, correction: correction, planes: planes, height: shape.height, width: shape.width)
    }

    /// Flows at half the resolution: each the mean of a 2 × 2 block, halved.
    private func halved(_ flows: Flows<Float>, shape: VideoShape, kernels: any DenoisingKernels) throws(DNLSError) -> Flows<Float> {
        func half(_ flow: Tensor<Float>?) throws(DNLSError) -> Tensor<Float>? {
            guard let flow else { return nil }
            let plane = shape.height * shape.width
            let means = try kernels.halved(flow, planes: flow.count / max(1, plane), height: shape.height, width: shape.width)
            let dims = Array(flow.shape.dropLast(2)) + [(shape.height + 1) / 2, (shape.width + 1) / 2]
            return try means.multiplying(by: 0.5).reshaped(dims)
        }
        return Flows(forward: try half(flows.forward), backward: try half(flows.backward))
    }

    /// One step: groups searched on `guide`, patches of `values` estimated under the Gaussian model
    /// of their group in `model` (`nil`: in `values` itself), aggregated.
    func estimate(_ values: Tensor<Float>, guide: Tensor<Float>, model: Tensor<Float>?, shape: VideoShape, flows: Flows<Float>,
                  variance: Double, kernels: any DenoisingKernels, batchDone: () -> Void) throws(DNLSError) -> Tensor<Float> {
        let geometry = PatchGeometry(patchSize: patchSize)
        let window = SearchWindow(size: windowSize, temporalRadius: temporalRadius)
        let k = min(neighbours, window.candidateCount(videoFrames: shape.frames))
        let search = PatchSearch(geometry: geometry, window: window, k: k)
        let scatter = PatchScatter(geometry: geometry), gather = PatchGather(geometry: geometry)
        let grid = try QueryGrid(region: .whole(frames: shape.frames, height: shape.height, width: shape.width),
                                 stride: queryStride)
        var sums = try Tensor<Float>.zeros(values.shape, on: values.device)
        var counts = try Tensor<Float>.zeros(shape.videoShape(channels: 1), on: values.device)
        let batchSize = Aggregation.batchSize(self.batchSize, grid: grid)
        let flatness = model == nil ? flatAreas.map { Double($0) * Double($0) * variance } ?? 0 : 0
        for start in stride(from: 0, to: grid.count, by: batchSize) {
            let batch = start..<min(start + batchSize, grid.count)
            let found = try search(guide, queries: .grid(grid, batch: batch), flows: flows)
            // The search's own indices: not checked again.
            try SearchedTables.$trusted.binding(true) { () throws(DNLSError) in
                let patches = try scatter(values, indices: found.indices)
                let statistics = try model.map { (v) throws(DNLSError) in try scatter(v, indices: found.indices) }
                let layout = GroupLayout(groups: shape.batch * batch.count, neighbours: k, channels: shape.channels,
                                         entries: patchSize * patchSize)
                let estimates = try kernels.bayesEstimates(patches, model: statistics, indices: found.indices,
                                                           layout: layout, variance: variance, flatness: flatness)
                try gather.accumulate(estimates, indices: found.indices, into: &sums, weightSum: &counts)
            }
            batchDone()
        }
        // A pixel that nothing covered keeps its value.
        return try kernels.normalised(sums, by: counts, fallback: values, channels: shape.channels, plane: shape.height * shape.width)
    }
}

/// The orthonormal decorrelating colour basis of three-channel videos (other channel counts are
/// left as they are): `(R + G + B)/√3, (R − B)/√2, (R − 2G + B)/√6`.
package enum ColourBasis {
    static let rows: [[Float]] = [
        [1 / Float(3).squareRoot(), 1 / Float(3).squareRoot(), 1 / Float(3).squareRoot()],
        [1 / Float(2).squareRoot(), 0, -1 / Float(2).squareRoot()],
        [1 / Float(6).squareRoot(), -2 / Float(6).squareRoot(), 1 / Float(6).squareRoot()],
    ]

    /// The basis, row-major, and its inverse (its transpose).
    package static let forward = rows.flatMap { $0 }
    package static let inverse = (0..<3).flatMap { c in rows.map { $0[c] } }

    static func decorrelated(_ video: Tensor<Float>, shape: VideoShape, kernels: any DenoisingKernels)
        throws(DNLSError) -> Tensor<Float>
    {
        shape.channels == 3 ? try kernels.mixedColours(video, matrix: forward, plane: shape.height * shape.width) : video
    }

    static func restored(_ video: Tensor<Float>, shape: VideoShape, kernels: any DenoisingKernels)
        throws(DNLSError) -> Tensor<Float>
    {
        shape.channels == 3 ? try kernels.mixedColours(video, matrix: inverse, plane: shape.height * shape.width) : video
    }
}
