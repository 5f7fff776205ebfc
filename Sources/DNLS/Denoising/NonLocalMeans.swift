/// Video denoising by non-local means, built from the library's own operations.
///
/// For each batch of queries: ``PatchSearch`` finds the `neighbours` nearest patches in the
/// space-time window (optionally following flows); their distances become weights
/// `exp(−max(d/n − 2σ²·s, 0) / h²)` (`n` = entries per patch, `h = filtering · σ`, `s` = 1 when
/// the search ran on the noisy video and 0 on an estimate); ``WeightedPatchSum`` sums the
/// weighted neighbour patches, and ``PatchFold`` puts the sums and the weight totals back. The
/// result is their ratio. Memory is bounded by the batch of queries: only the numerator and the
/// denominator are video-sized.
///
/// With ``twoStep`` the first estimate guides a second search, whose weights then aggregate the
/// noisy video again (the classic two-step scheme).
public struct NonLocalMeans: Sendable, Hashable {
    /// Noise standard deviation, on the scale of the video's values (0–255 for 8-bit pictures).
    public var sigma: Float
    /// Patch side.
    public var patchSize = 5
    /// Search window side.
    public var windowSize = 15
    /// Frames searched on each side of the query frame.
    public var temporalRadius = 2
    /// Neighbours aggregated per query; more than the window's candidates aggregates them all.
    public var neighbours = 16
    /// Spacing of the query grid (1: every pixel is a query).
    public var queryStride = 1
    /// Queries per batch, rounded down to whole groups of 16 rows of the query grid when it holds
    /// one (the GPU search works on tiles of query rows).
    public var batchSize = 8192
    /// `h / σ` of the first step.
    public var filtering: Float = 0.8
    /// `h / σ` of the second step.
    public var secondFiltering: Float = 1.0
    /// Run the second step, guided by the first estimate.
    public var twoStep = false

    /// A denoiser for noise of standard deviation `sigma`.
    public init(sigma: Float) { self.sigma = sigma }

    /// Checks the parameters that do not depend on the video (the noise level and the batch size);
    /// the call checks the rest against the video before any work.
    public func validate() throws(DNLSError) {
        try Aggregation.validate(sigma: sigma, batchSize: batchSize)
    }

    /// Denoises `noisy` (`(T, C, H, W)` or `(B, T, C, H, W)`), calling `progress(done, total)`
    /// after each batch of each step.
    public func callAsFunction(_ noisy: Tensor<Float>, flows: Flows<Float> = .none,
                               progress: (Int, Int) -> Void = { _, _ in }) throws(DNLSError) -> Tensor<Float> {
        try validate()
        let steps = twoStep ? 2 : 1
        let first = try aggregate(noisy, guide: noisy, flows: flows, h: filtering * sigma, subtractNoise: true) {
            progress($0, $1 * steps)
        }
        guard twoStep else { return first }
        return try aggregate(noisy, guide: first, flows: flows, h: secondFiltering * sigma, subtractNoise: false) {
            progress($1 + $0, $1 * steps)
        }
    }

    /// One step: search on `guide`, average patches of `values` with the search's weights.
    func aggregate(_ values: Tensor<Float>, guide: Tensor<Float>, flows: Flows<Float>, h: Float, subtractNoise: Bool,
                   progress: (Int, Int) -> Void) throws(DNLSError) -> Tensor<Float> {
        let shape = try VideoShape(video: values, argument: "noisy")
        let geometry = PatchGeometry(patchSize: patchSize)
        let window = SearchWindow(size: windowSize, temporalRadius: temporalRadius)
        let k = min(neighbours, window.candidateCount(videoFrames: shape.frames))
        let search = PatchSearch(geometry: geometry, window: window, k: k)
        let grid = try QueryGrid(region: .whole(frames: shape.frames, height: shape.height, width: shape.width),
                                 stride: queryStride)
        let wpsum = WeightedPatchSum(geometry: geometry), fold = PatchFold(geometry: geometry)
        var numerator = try Tensor<Float>.zeros(values.shape, on: values.device)
        var denominator = try Tensor<Float>.zeros(shape.videoShape(channels: 1), on: values.device)
        let entries = Float(shape.channels * patchSize * patchSize)
        let noise = subtractNoise ? 2 * sigma * sigma : 0
        let kernels = try denoisingKernels(device: values.device)
        let batchSize = Aggregation.batchSize(self.batchSize, grid: grid)
        let batches = (grid.count + batchSize - 1) / batchSize
        for (n, start) in stride(from: 0, to: grid.count, by: batchSize).enumerated() {
            let batch = start..<min(start + batchSize, grid.count)
            let found = try search(guide, queries: .grid(grid, batch: batch), flows: flows)
            // Each query's weight total, spread over its patch: the denominator of the average.
            let (weights, totals) = try kernels.meansWeights(found.distances, entries: entries, noise: noise, hh: h * h,
                                                             spread: patchSize * patchSize)
            let sums = try SearchedTables.$trusted.binding(true) { () throws(DNLSError) in  // the search's own indices
                try wpsum(values, weights: weights, indices: found.indices)
            }
            try fold.accumulate(sums, grid: grid, batch: batch, into: &numerator)
            let totalPatches = totals.withShape(shape.output([batch.count, 1, 1, patchSize, patchSize]))
            try fold.accumulate(totalPatches, grid: grid, batch: batch, into: &denominator)
            progress(n + 1, batches)
        }
        // A pixel that nothing covered keeps its value.
        return try kernels.normalised(numerator, by: denominator, fallback: values, channels: shape.channels, plane: shape.height * shape.width)
    }
}
