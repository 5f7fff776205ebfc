import CUDADriver
internal import CDNLSKernels

/// The denoisers' steps on the GPU (kernels in ``CUDAKernelSource/denoise``), each in one launch on
/// the call's stream: no host wait, nothing copied to the host.
extension CUDABackend: DenoisingKernels {
    /// Shared memory one warp of `bayes_groups` needs for groups of `neighbours` patches of
    /// `entries` values (the kernel's `ge_warp_doubles`).
    static func bayesWarpBytes(neighbours k: Int, entries d: Int) -> Int {
        8 * (d * d + 2 * d + (2 * k * d + k + 1) / 2)
    }

    /// The most shared memory a block of `bayes_groups` asks for (the H100's and H200's opt-in
    /// limit is 227 KiB); larger groups are estimated on the host.
    static let bayesSharedLimit = 200 * 1024

    package func bayesEstimates(_ patches: Tensor<Float>, model: Tensor<Float>?, indices: Tensor<Int32>, layout: GroupLayout,
                                variance: Double, flatness: Double) throws(DNLSError) -> Tensor<Float> {
        let warpBytes = Self.bayesWarpBytes(neighbours: layout.neighbours, entries: layout.entries)
        guard warpBytes <= Self.bayesSharedLimit else {
            return try HostDenoising().bayesEstimates(patches, model: model, indices: indices, layout: layout,
                                                      variance: variance, flatness: flatness)
        }
        // A first step's flat groups, found first (one thread a group).
        var flat: (groups: Tensor<Int32>, means: Tensor<Double>)?
        if model == nil, flatness > 0 {
            let groups: Tensor<Int32> = try scratch([layout.groups])
            let means: Tensor<Double> = try scratch([layout.groups * layout.channels])
            try launch(.bayesFlat, count: layout.groups, parameters: DNLSBayesFlat(
                patches: pointer(patches), indices: pointer(indices), flat: pointer(groups), means: pointer(means),
                groups: Int64(layout.groups), K: Int32(layout.neighbours), C: Int32(layout.channels),
                D: Int32(layout.entries), flatness: flatness))
            flat = (groups, means)
        }
        // Up to four warps a block while they fit in 96 KiB.
        let warps = max(1, min(4, 96 * 1024 / warpBytes))
        let out: Tensor<Float> = try Tensor(uninitializedOn: device, shape: patches.shape)
        let items = layout.groups * layout.channels
        var constants = CUDAKernelConstants()
        constants.groupEntries = layout.entries
        constants.groupWarps = warps
        try launch(.bayesGroups, constants: constants, blocks: (items + warps - 1) / warps, threads: 32 * warps,
                   sharedBytes: warps * warpBytes, parameters: DNLSBayesGroups(
                       patches: pointer(patches), out: pointer(out), model: pointer(model), indices: pointer(indices),
                       flat: pointer(flat?.groups), flatMeans: pointer(flat?.means), groups: Int64(layout.groups), K: Int32(layout.neighbours), C: Int32(layout.channels),
                       variance: variance))
        return out
    }

    package func mixedColours(_ video: Tensor<Float>, matrix: [Float], plane: Int) throws(DNLSError) -> Tensor<Float> {
        let out: Tensor<Float> = try Tensor(uninitializedOn: device, shape: video.shape)
        let frames = video.count / max(1, 3 * plane)
        let m = matrix
        try launch(.colourBasis, count: frames * plane, parameters: DNLSColourBasis(
            in: pointer(video), out: pointer(out), frames: Int64(frames), P: Int64(plane),
            w: (m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8])))
        return out
    }

    package func normalised(_ sums: Tensor<Float>, by counts: Tensor<Float>, fallback: Tensor<Float>, channels: Int, plane: Int)
        throws(DNLSError) -> Tensor<Float>
    {
        let out: Tensor<Float> = try Tensor(uninitializedOn: device, shape: sums.shape)
        let frames = sums.count / max(1, channels * plane)
        try launch(.normaliseSums, count: sums.count, parameters: DNLSNormalise(
            sums: pointer(sums), counts: pointer(counts), fallback: pointer(fallback), out: pointer(out),
            frames: Int64(frames), C: Int32(channels), P: Int64(plane)))
        return out
    }

    package func pyramidCorrection(coarse: Tensor<Float>, coarseOfFine: Tensor<Float>, frames: Int, channels: Int,
                                   height: Int, width: Int, noise: Float) throws(DNLSError) -> Tensor<Float> {
        let out: Tensor<Float> = try Tensor(uninitializedOn: device, shape: coarse.shape)
        try launch(.pyramidCorrection, count: frames * height * width, parameters: DNLSPyramidCorrection(
            coarse: pointer(coarse), coarseOfFine: pointer(coarseOfFine), out: pointer(out), frames: Int64(frames),
            C: Int32(channels), h: Int32(height), w: Int32(width), noise: noise))
        return out
    }

    package func expanded(_ fine: Tensor<Float>, correction: Tensor<Float>, planes: Int, height: Int, width: Int)
        throws(DNLSError) -> Tensor<Float>
    {
        let out: Tensor<Float> = try Tensor(uninitializedOn: device, shape: fine.shape)
        try launch(.pyramidExpand, count: out.count, parameters: DNLSPyramidExpand(
            fine: pointer(fine), correction: pointer(correction), out: pointer(out), planes: Int64(planes),
            H: Int32(height), W: Int32(width), h: Int32((height + 1) / 2), w: Int32((width + 1) / 2)))
        return out
    }

    package func meansWeights(_ distances: Tensor<Float>, entries: Float, noise: Float, hh: Float, spread: Int)
        throws(DNLSError) -> (weights: Tensor<Float>, totals: Tensor<Float>)
    {
        let k = distances.shape.last ?? 1, queries = k == 0 ? 0 : distances.count / k
        let weights: Tensor<Float> = try Tensor(uninitializedOn: device, shape: distances.shape)
        let totals: Tensor<Float> = try Tensor(uninitializedOn: device, shape: Array(distances.shape.dropLast()) + [spread])
        try launch(.meansWeights, count: queries, parameters: DNLSMeansWeights(
            distances: pointer(distances), weights: pointer(weights), spread: pointer(totals), Q: Int64(queries),
            K: Int32(k), E: Int32(spread), entries: entries, noise: noise, hh: hh))
        return (weights, totals)
    }
}
