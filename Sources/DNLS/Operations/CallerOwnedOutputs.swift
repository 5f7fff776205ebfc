/// The `into:` forms of the operations: the same computation as the form that returns new
/// tensors, written into tensors the caller provides.
///
/// On a GPU the results go into the given tensors' memory, typically memory a host framework
/// allocated (``Tensor/init(unsafeDeviceAddress:shape:on:)``), and the operation allocates no
/// output of its own; with ``withWorkspace(_:_:)`` around it, it allocates nothing at all. A given
/// tensor must hold as many elements as the result, and takes the result's shape. On the CPU the
/// given tensors are replaced by the results.
///
/// An `into:` form overwrites what the tensors held; the ``PatchFold/accumulate(_:grid:batch:into:implementation:)``
/// and ``PatchGather/accumulate(_:weights:indices:into:weightSum:implementation:)`` forms add to it.

extension PatchSearch {
    /// ``callAsFunction(_:keys:queries:flows:implementation:)`` writing the distances and indices
    /// into `result`'s tensors.
    public func callAsFunction<S: PatchScalar>(
        _ video: Tensor<S>, keys: Tensor<S>? = nil, queries: Queries, flows: Flows<S> = .none,
        implementation: Implementation = .automatic, into result: inout SearchResult<S>
    ) throws(DNLSError) {
        let found = try placingOutputs([IntoTarget(.distances, "result.distances", result.distances),
                                        IntoTarget(.indices, "result.indices", result.indices)], on: video.device) {
            () throws(DNLSError) in try self(video, keys: keys, queries: queries, flows: flows, implementation: implementation)
        }
        try Tensor.deliver(found.distances, into: &result.distances, argument: "result.distances")
        try Tensor.deliver(found.indices, into: &result.indices, argument: "result.indices")
    }

    /// ``backward(distanceGradient:indices:video:keys:queries:implementation:)`` writing into
    /// `gradients`' tensors; a `nil` ``SearchGradients/keys`` of a cross-search gets a new tensor.
    public func backward<S: PatchScalar>(
        distanceGradient: Tensor<S>, indices: Tensor<Int32>, video: Tensor<S>, keys: Tensor<S>? = nil,
        queries: Queries, implementation: Implementation = .automatic, into gradients: inout SearchGradients<S>
    ) throws(DNLSError) {
        var targets = [IntoTarget(.video, "gradients.video", gradients.video)]
        if let keys = gradients.keys { targets.append(IntoTarget(.keys, "gradients.keys", keys)) }
        let computed = try placingOutputs(targets, on: video.device) { () throws(DNLSError) in
            try backward(distanceGradient: distanceGradient, indices: indices, video: video, keys: keys, queries: queries,
                         implementation: implementation)
        }
        try Tensor.deliver(computed.video, into: &gradients.video, argument: "gradients.video")
        try Tensor.deliver(computed.keys, into: &gradients.keys, argument: "gradients.keys")
    }
}

extension PatchUnfold {
    /// ``callAsFunction(_:grid:batch:implementation:)`` writing the patches into `patches`.
    public func callAsFunction<S: PatchScalar>(_ video: Tensor<S>, grid: QueryGrid, batch: Range<Int>? = nil,
                                               implementation: Implementation = .automatic,
                                               into patches: inout Tensor<S>) throws(DNLSError) {
        let computed = try placingOutputs([IntoTarget(.patches, "patches", patches)], on: video.device) {
            () throws(DNLSError) in try self(video, grid: grid, batch: batch, implementation: implementation)
        }
        try Tensor.deliver(computed, into: &patches, argument: "patches")
    }

    /// ``backward(patchGradient:grid:batch:videoShape:implementation:)`` writing the video gradient
    /// into `videoGradient`, whose shape is the video's.
    public func backward<S: PatchScalar>(patchGradient: Tensor<S>, grid: QueryGrid, batch: Range<Int>? = nil,
                                         implementation: Implementation = .automatic,
                                         into videoGradient: inout Tensor<S>) throws(DNLSError) {
        let computed = try placingOutputs([IntoTarget(.video, "videoGradient", videoGradient)], on: patchGradient.device) {
            () throws(DNLSError) in
            try backward(patchGradient: patchGradient, grid: grid, batch: batch, videoShape: videoGradient.shape,
                         implementation: implementation)
        }
        try Tensor.deliver(computed, into: &videoGradient, argument: "videoGradient")
    }
}

extension PatchFold {
    /// ``callAsFunction(_:grid:batch:videoShape:implementation:)`` writing the video into `video`,
    /// whose shape is the video's (its contents are overwritten, not added to).
    public func callAsFunction<S: PatchScalar>(_ patches: Tensor<S>, grid: QueryGrid, batch: Range<Int>? = nil,
                                               implementation: Implementation = .automatic,
                                               into video: inout Tensor<S>) throws(DNLSError) {
        let computed = try placingOutputs([IntoTarget(.video, "video", video)], on: patches.device) { () throws(DNLSError) in
            try self(patches, grid: grid, batch: batch, videoShape: video.shape, implementation: implementation)
        }
        try Tensor.deliver(computed, into: &video, argument: "video")
    }

    /// ``backward(videoGradient:grid:batch:implementation:)`` writing the patch gradient into
    /// `patchGradient`.
    public func backward<S: PatchScalar>(videoGradient: Tensor<S>, grid: QueryGrid, batch: Range<Int>? = nil,
                                         implementation: Implementation = .automatic,
                                         into patchGradient: inout Tensor<S>) throws(DNLSError) {
        let computed = try placingOutputs([IntoTarget(.patches, "patchGradient", patchGradient)], on: videoGradient.device) {
            () throws(DNLSError) in try backward(videoGradient: videoGradient, grid: grid, batch: batch, implementation: implementation)
        }
        try Tensor.deliver(computed, into: &patchGradient, argument: "patchGradient")
    }
}

extension PatchScatter {
    /// ``callAsFunction(_:indices:implementation:)`` writing the patches into `patches`.
    public func callAsFunction<S: PatchScalar>(_ video: Tensor<S>, indices: Tensor<Int32>,
                                               implementation: Implementation = .automatic,
                                               into patches: inout Tensor<S>) throws(DNLSError) {
        let computed = try placingOutputs([IntoTarget(.patches, "patches", patches)], on: video.device) {
            () throws(DNLSError) in try self(video, indices: indices, implementation: implementation)
        }
        try Tensor.deliver(computed, into: &patches, argument: "patches")
    }

    /// ``backward(patchGradient:indices:videoShape:implementation:)`` writing the video gradient
    /// into `videoGradient`, whose shape is the video's.
    public func backward<S: PatchScalar>(patchGradient: Tensor<S>, indices: Tensor<Int32>,
                                         implementation: Implementation = .automatic,
                                         into videoGradient: inout Tensor<S>) throws(DNLSError) {
        let computed = try placingOutputs([IntoTarget(.video, "videoGradient", videoGradient)], on: patchGradient.device) {
            () throws(DNLSError) in
            try backward(patchGradient: patchGradient, indices: indices, videoShape: videoGradient.shape,
                         implementation: implementation)
        }
        try Tensor.deliver(computed, into: &videoGradient, argument: "videoGradient")
    }
}

extension PatchGather {
    /// ``callAsFunction(_:weights:indices:videoShape:implementation:)`` writing the video into
    /// `video` (whose shape is the video's) and the weight sum into `weightSum`, overwriting them.
    public func callAsFunction<S: PatchScalar>(_ patches: Tensor<S>, weights: Tensor<S>? = nil, indices: Tensor<Int32>,
                                               implementation: Implementation = .automatic,
                                               into video: inout Tensor<S>, weightSum: inout Tensor<S>) throws(DNLSError) {
        let computed = try placingOutputs([IntoTarget(.video, "video", video), IntoTarget(.weightSum, "weightSum", weightSum)],
                                          on: patches.device) { () throws(DNLSError) in
            try self(patches, weights: weights, indices: indices, videoShape: video.shape, implementation: implementation)
        }
        try Tensor.deliver(computed.video, into: &video, argument: "video")
        try Tensor.deliver(computed.weightSum, into: &weightSum, argument: "weightSum")
    }

    /// ``backward(videoGradient:weightSumGradient:patches:weights:indices:implementation:)`` writing
    /// into `patchGradient` and, with weights, `weightGradient` (a new tensor when it is `nil`).
    public func backward<S: PatchScalar>(videoGradient: Tensor<S>, weightSumGradient: Tensor<S>? = nil,
                                         patches: Tensor<S>, weights: Tensor<S>? = nil, indices: Tensor<Int32>,
                                         implementation: Implementation = .automatic,
                                         into patchGradient: inout Tensor<S>, weightGradient: inout Tensor<S>?)
        throws(DNLSError) {
        var targets = [IntoTarget(.patches, "patchGradient", patchGradient)]
        if let weightGradient { targets.append(IntoTarget(.weights, "weightGradient", weightGradient)) }
        let computed = try placingOutputs(targets, on: videoGradient.device) { () throws(DNLSError) in
            try backward(videoGradient: videoGradient, weightSumGradient: weightSumGradient, patches: patches,
                         weights: weights, indices: indices, implementation: implementation)
        }
        try Tensor.deliver(computed.patches, into: &patchGradient, argument: "patchGradient")
        try Tensor.deliver(computed.weights, into: &weightGradient, argument: "weightGradient")
    }
}

extension WeightedPatchSum {
    /// ``callAsFunction(_:weights:indices:implementation:)`` writing the sums into `output`.
    public func callAsFunction<S: PatchScalar>(_ video: Tensor<S>, weights: Tensor<S>, indices: Tensor<Int32>,
                                               implementation: Implementation = .automatic,
                                               into output: inout Tensor<S>) throws(DNLSError) {
        let computed = try placingOutputs([IntoTarget(.patches, "output", output)], on: video.device) {
            () throws(DNLSError) in try self(video, weights: weights, indices: indices, implementation: implementation)
        }
        try Tensor.deliver(computed, into: &output, argument: "output")
    }

    /// ``backward(outputGradient:video:weights:indices:implementation:)`` writing into
    /// `videoGradient` and `weightGradient`.
    public func backward<S: PatchScalar>(outputGradient: Tensor<S>, video: Tensor<S>, weights: Tensor<S>,
                                         indices: Tensor<Int32>, implementation: Implementation = .automatic,
                                         into videoGradient: inout Tensor<S>, weightGradient: inout Tensor<S>)
        throws(DNLSError) {
        let computed = try placingOutputs([IntoTarget(.video, "videoGradient", videoGradient),
                                           IntoTarget(.weights, "weightGradient", weightGradient)], on: video.device) {
            () throws(DNLSError) in
            try backward(outputGradient: outputGradient, video: video, weights: weights, indices: indices,
                         implementation: implementation)
        }
        try Tensor.deliver(computed.video, into: &videoGradient, argument: "videoGradient")
        try Tensor.deliver(computed.weights, into: &weightGradient, argument: "weightGradient")
    }
}
