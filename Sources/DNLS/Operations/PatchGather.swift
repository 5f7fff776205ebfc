/// Puts weighted patches back at their neighbour indices and accumulates them, with the sum of
/// the weights per pixel: patches → video (`gather` in the original dnls).
///
/// For every patch `(b, q, m)` and entry `(c, a, e)` whose sample lies in the frame (through
/// ``PatchGeometry``), `video[pixel] += weight[b, q, m] · patch[b, q, m, c, a, e]` and, once per
/// entry, `weightSum[pixel] += weight[b, q, m]`. Divide `video` by `weightSum` to aggregate.
/// With unit weights this is the adjoint of ``PatchScatter``.
public struct PatchGather: Sendable, Hashable {
    /// How patches read and write the video.
    public var geometry: PatchGeometry

    /// The operation for patches of `geometry`.
    public init(geometry: PatchGeometry) { self.geometry = geometry }

    /// Accumulates into a zero video of `videoShape`. Returns the video and the weight sum
    /// `(B, T, 1, H, W)`.
    public func callAsFunction<S: PatchScalar>(_ patches: Tensor<S>, weights: Tensor<S>? = nil, indices: Tensor<Int32>,
                                               videoShape: [Int], implementation: Implementation = .automatic)
        throws(DNLSError) -> (video: Tensor<S>, weightSum: Tensor<S>)
    {
        let shape = try VideoShape(dims: videoShape, argument: "videoShape")
        try requireRoom(for: [(shape.dims, MemoryLayout<S>.stride), (shape.videoShape(channels: 1), MemoryLayout<S>.stride)],
                        on: patches.device)
        try geometry.validate(height: shape.height, width: shape.width)
        let (engine, sites) = try prepare(patches, weights: weights, indices: indices, shape: shape,
                                          outputs: ("video", patches.device), ("weightSum", patches.device),
                                          implementation: implementation)
        return try engine.gatherPatches(patches, weights: weights, sites: sites, geometry: geometry, shape: shape)
    }

    /// Accumulates into existing tensors (for batches of queries): `video` `(B, T, C, H, W)` and
    /// `weightSum` `(B, T, 1, H, W)`.
    public func accumulate<S: PatchScalar>(_ patches: Tensor<S>, weights: Tensor<S>? = nil, indices: Tensor<Int32>,
                                           into video: inout Tensor<S>, weightSum: inout Tensor<S>,
                                           implementation: Implementation = .automatic) throws(DNLSError) {
        let shape = try VideoShape(video: video, argument: "video")
        try geometry.validate(height: shape.height, width: shape.width)
        guard weightSum.shape == shape.videoShape(channels: 1) else {
            throw .shapeMismatch(argument: "weightSum", expected: "\(shape.videoShape(channels: 1))", actual: weightSum.shape)
        }
        let (engine, sites) = try prepare(patches, weights: weights, indices: indices, shape: shape,
                                          outputs: ("video", video.device), ("weightSum", weightSum.device),
                                          implementation: implementation)
        // Move the weight sum out of the caller's variable so the kernel adds into it in place.
        let sumShape = weightSum.shape
        var sum: Tensor<S>? = weightSum
        weightSum = Tensor(uncheckedShape: [0], scalars: [])
        try engine.depositPatches(patches, weights: weights, sites: sites, geometry: geometry, into: &video,
                                  shape: shape, weightSum: &sum)
        weightSum = sum!.withShape(sumShape)
    }

    /// The checks of a gather into a video of `shape` (its geometry validated already; the video
    /// and weight sum on the devices of `outputs`), and the backend and sites that run it.
    private func prepare<S: PatchScalar>(_ patches: Tensor<S>, weights: Tensor<S>?, indices: Tensor<Int32>, shape: VideoShape,
                                         outputs video: (String, Device), _ weightSum: (String, Device),
                                         implementation: Implementation) throws(DNLSError) -> (any PatchBackend<S>, PatchSites) {
        let sites = try batchingInputChecks { () throws(DNLSError) in
            let sites = try neighbourSites(indices, video: shape)
            try shape.check(patches, argument: "patches", trailing: patchDims(sites, shape, geometry), meaning: "Q, K, C, ps, ps")
            if let weights {
                try shape.check(weights, argument: "weights", trailing: [sites.queries, sites.k], meaning: "Q, K")
                try requireFinite(weights, argument: "weights")
            }
            return sites
        }
        var devices = [video, ("patches", patches.device), ("indices", indices.device)]
        if let weights { devices.append(("weights", weights.device)) }
        devices.append(weightSum)
        return (try backend(S.self, device: try commonDevice(devices), implementation: implementation), sites)
    }

    /// Gradients w.r.t. the patches `(B, Q, K, C, ps, ps)` and the weights `(B, Q, K)` (the latter
    /// `nil` when no weights were given), from the gradients w.r.t. the video and, optionally, the
    /// weight sum.
    public func backward<S: PatchScalar>(videoGradient: Tensor<S>, weightSumGradient: Tensor<S>? = nil,
                                         patches: Tensor<S>, weights: Tensor<S>? = nil, indices: Tensor<Int32>,
                                         implementation: Implementation = .automatic)
        throws(DNLSError) -> (patches: Tensor<S>, weights: Tensor<S>?)
    {
        let shape = try VideoShape(video: videoGradient, argument: "videoGradient")
        try geometry.validate(height: shape.height, width: shape.width)
        let sites = try batchingInputChecks { () throws(DNLSError) in
            let sites = try neighbourSites(indices, video: shape)
            try shape.check(patches, argument: "patches", trailing: patchDims(sites, shape, geometry), meaning: "Q, K, C, ps, ps")
            if let weights {
                try shape.check(weights, argument: "weights", trailing: [sites.queries, sites.k], meaning: "Q, K")
                try requireFinite(weights, argument: "weights")
            }
            return sites
        }
        let dims = patchDims(sites, shape, geometry)
        var devices = [("videoGradient", videoGradient.device), ("patches", patches.device), ("indices", indices.device)]
        if let weights { devices.append(("weights", weights.device)) }
        if let weightSumGradient {
            guard weightSumGradient.shape == shape.videoShape(channels: 1) else {
                throw .shapeMismatch(argument: "weightSumGradient", expected: "\(shape.videoShape(channels: 1))",
                                     actual: weightSumGradient.shape)
            }
            devices.append(("weightSumGradient", weightSumGradient.device))
        }
        let device = try commonDevice(devices)
        try requireRoom(for: [([shape.batch] + dims, MemoryLayout<S>.stride), ([shape.batch, sites.queries, sites.k], MemoryLayout<S>.stride)],
                        on: device)
        let engine = try backend(S.self, device: device, implementation: implementation)
        let (gradPatches, gradWeights) = try engine.gatherBackward(
            videoGradient: videoGradient, weightSumGradient: weightSumGradient, patches: patches, weights: weights,
            sites: sites, geometry: geometry, shape: shape)
        return (gradPatches.withShape(patches.shape), gradWeights?.withShape(weights!.shape))
    }
}
