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
/// estimates that cover it. Memory is bounded by the batch of queries. Every sum runs in a fixed
/// order, so the result is deterministic.
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
    }

    /// Denoises `noisy` (`(T, C, H, W)` or `(B, T, C, H, W)`), calling `progress(done, total)`
    /// after each batch of each step.
    public func callAsFunction(_ noisy: Tensor<Float>, flows: Flows<Float> = .none,
                               progress: (Int, Int) -> Void = { _, _ in }) throws(DNLSError) -> Tensor<Float> {
        try validate()
        let shape = try VideoShape(video: noisy, argument: "noisy")
        let kernels = try denoisingKernels(device: noisy.device)
        let values = try ColourBasis.decorrelated(noisy, shape: shape, kernels: kernels)
        let steps = twoStep ? 2 : 1
        let basic = try estimate(values, guide: values, model: nil, shape: shape, flows: flows, kernels: kernels) {
            progress($0, $1 * steps)
        }
        var result = basic
        if twoStep {
            result = try estimate(values, guide: basic, model: basic, shape: shape, flows: flows, kernels: kernels) {
                progress($1 + $0, $1 * steps)
            }
        }
        return try ColourBasis.restored(result, shape: shape, kernels: kernels)
    }

    /// One step: groups searched on `guide`, patches of `values` estimated under the Gaussian model
    /// of their group in `model` (`nil`: in `values` itself), aggregated.
    func estimate(_ values: Tensor<Float>, guide: Tensor<Float>, model: Tensor<Float>?, shape: VideoShape, flows: Flows<Float>,
                  kernels: any DenoisingKernels, progress: (Int, Int) -> Void) throws(DNLSError) -> Tensor<Float> {
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
        let batches = (grid.count + batchSize - 1) / batchSize
        let variance = Double(sigma) * Double(sigma)
        let flatness = model == nil ? flatAreas.map { Double($0) * Double($0) * variance } ?? 0 : 0
        for (n, start) in stride(from: 0, to: grid.count, by: batchSize).enumerated() {
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
            progress(n + 1, batches)
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
