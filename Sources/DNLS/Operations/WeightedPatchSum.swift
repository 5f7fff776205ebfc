/// Per query, the weighted sum of its K neighbour patches, without materialising them (`wpsum`).
///
/// `out[b, q, 0, c, a, e] = Σ_m weights[b, q, m] · patch(indices[b, q, m])[c, a, e]`, a
/// `(B, Q, 1, C, ps, ps)` tensor ready for ``PatchFold``. Empty slots (index −1) contribute nothing.
public struct WeightedPatchSum: Sendable, Hashable {
    /// How patches read and write the video.
    public var geometry: PatchGeometry

    /// The operation for patches of `geometry`.
    public init(geometry: PatchGeometry) { self.geometry = geometry }

    /// The weighted patch sums `(B, Q, 1, C, ps, ps)`.
    public func callAsFunction<S: PatchScalar>(_ video: Tensor<S>, weights: Tensor<S>, indices: Tensor<Int32>,
                                               implementation: Implementation = .automatic) throws(DNLSError) -> Tensor<S> {
        let (shape, sites, engine) = try prepare(video, weights: weights, indices: indices, implementation: implementation)
        try requireRoom(for: [([shape.batch, sites.queries, shape.channels, geometry.patchSize, geometry.patchSize],
                               MemoryLayout<S>.stride)], on: video.device)
        let out = try engine.weightedPatchSum(video, shape: shape, weights: weights, sites: sites, geometry: geometry)
        return out.withShape(shape.output([sites.queries, 1, shape.channels, geometry.patchSize, geometry.patchSize]))
    }

    /// Gradients w.r.t. the video and the weights, from the gradient w.r.t. the output.
    public func backward<S: PatchScalar>(outputGradient: Tensor<S>, video: Tensor<S>, weights: Tensor<S>,
                                         indices: Tensor<Int32>, implementation: Implementation = .automatic)
        throws(DNLSError) -> (video: Tensor<S>, weights: Tensor<S>)
    {
        let (shape, sites, engine) = try prepare(video, weights: weights, indices: indices, implementation: implementation)
        let ps = geometry.patchSize
        try shape.check(outputGradient, argument: "outputGradient", trailing: [sites.queries, 1, shape.channels, ps, ps],
                        meaning: "Q, 1, C, ps, ps")
        _ = try commonDevice([("video", video.device), ("outputGradient", outputGradient.device)])
        try requireRoom(for: [(shape.dims, MemoryLayout<S>.stride), (weights.shape, MemoryLayout<S>.stride)], on: video.device)
        let (gv, gw) = try engine.weightedPatchSumBackward(video, shape: shape, weights: weights, sites: sites,
                                                           geometry: geometry, gradient: outputGradient)
        return (gv.withShape(video.shape), gw.withShape(weights.shape))
    }

    private func prepare<S: PatchScalar>(_ video: Tensor<S>, weights: Tensor<S>, indices: Tensor<Int32>,
                                         implementation: Implementation)
        throws(DNLSError) -> (VideoShape, PatchSites, any PatchBackend<S>)
    {
        let shape = try VideoShape(video: video, argument: "video")
        try geometry.validate(height: shape.height, width: shape.width)
        let sites = try batchingInputChecks { () throws(DNLSError) in
            let sites = try neighbourSites(indices, video: shape)
            try shape.check(weights, argument: "weights", trailing: [sites.queries, sites.k], meaning: "Q, K")
            try requireFinite(weights, argument: "weights")
            return sites
        }
        let device = try commonDevice([("video", video.device), ("weights", weights.device), ("indices", indices.device)])
        return (shape, sites, try backend(S.self, device: device, implementation: implementation))
    }
}
