import _Differentiation
import DNLS

extension PatchScatter {
    /// Checks a scatter from videos of `videoShape` on `device` and returns its differentiable
    /// form (with respect to the video; the indices are not differentiated).
    public func prepared<S: PatchScalar>(for _: S.Type, videoShape: [Int], on device: Device = .cpu,
                                         implementation: Implementation = .automatic)
        throws(DNLSError) -> PreparedScatter<S>
    {
        PreparedScatter(scatter: self, call: try .checked("PatchScatter", geometry, videoShape: videoShape,
                                                          on: device, S.self, implementation: implementation))
    }
}

extension PatchGather {
    /// Checks a gather into videos of `videoShape` on `device` and returns its differentiable
    /// form (with respect to the patches and the weights; the indices are not differentiated).
    public func prepared<S: PatchScalar>(for _: S.Type, videoShape: [Int], on device: Device = .cpu,
                                         implementation: Implementation = .automatic)
        throws(DNLSError) -> PreparedGather<S>
    {
        PreparedGather(gather: self, call: try .checked("PatchGather", geometry, videoShape: videoShape,
                                                        on: device, S.self, implementation: implementation))
    }
}

extension WeightedPatchSum {
    /// Checks weighted patch sums of videos of `videoShape` on `device` and returns their
    /// differentiable form (with respect to the video and the weights; the indices are not
    /// differentiated).
    public func prepared<S: PatchScalar>(for _: S.Type, videoShape: [Int], on device: Device = .cpu,
                                         implementation: Implementation = .automatic)
        throws(DNLSError) -> PreparedWeightedPatchSum<S>
    {
        PreparedWeightedPatchSum(sum: self, call: try .checked("WeightedPatchSum", geometry, videoShape: videoShape,
                                                               on: device, S.self, implementation: implementation))
    }
}

/// A ``PatchScatter`` checked for one video shape and device.
///
/// Indices are call arguments: those of a search on the same video shape are valid by
/// construction; others that do not fit the video stop the program with the library's message.
public struct PreparedScatter<Scalar: PatchScalar>: Sendable {
    /// The operation.
    public let scatter: PatchScatter
    let call: PreparedCall

    /// The patches `(B, Q, K, C, ps, ps)` of `video` at `indices` `(B, Q, K, 3)`.
    @differentiable(reverse, wrt: video)
    public func callAsFunction(_ video: Tensor<Scalar>, indices: Tensor<Int32>) -> Tensor<Scalar> {
        call.require(video, "video")
        return call.run { () throws(DNLSError) in try scatter(video, indices: indices, implementation: call.implementation) }
    }

    @derivative(of: callAsFunction(_:indices:), wrt: video)
    @usableFromInline
    func vjpScatter(_ video: Tensor<Scalar>, indices: Tensor<Int32>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> Tensor<Scalar>)
    {
        (self(video, indices: indices), { g in
            guard !g.isSymbolicZero else { return .zero }
            return call.run { () throws(DNLSError) in
                try scatter.backward(patchGradient: g, indices: indices, videoShape: call.videoShape,
                                     implementation: call.implementation)
            }
        })
    }
}

/// A ``PatchGather`` checked for one video shape and device. Indices are call arguments, as for
/// ``PreparedScatter``.
public struct PreparedGather<Scalar: PatchScalar>: Sendable {
    /// The operation.
    public let gather: PatchGather
    let call: PreparedCall

    /// The patches `(B, Q, K, C, ps, ps)` added in at `indices`, each weighted by `weights`
    /// `(B, Q, K)`, with the sum of the weights per pixel.
    @differentiable(reverse, wrt: (patches, weights))
    public func callAsFunction(_ patches: Tensor<Scalar>, weights: Tensor<Scalar>, indices: Tensor<Int32>)
        -> GatheredVideo<Scalar>
    {
        gathering(patches, weights: weights, indices: indices)
    }

    /// The patches added in at `indices` with unit weights, and the count of patches per pixel.
    @differentiable(reverse, wrt: patches)
    public func callAsFunction(_ patches: Tensor<Scalar>, indices: Tensor<Int32>) -> GatheredVideo<Scalar> {
        gathering(patches, weights: nil, indices: indices)
    }

    private func gathering(_ patches: Tensor<Scalar>, weights: Tensor<Scalar>?, indices: Tensor<Int32>)
        -> GatheredVideo<Scalar>
    {
        let (video, weightSum) = call.run { () throws(DNLSError) in
            try gather(patches, weights: weights, indices: indices, videoShape: call.videoShape,
                       implementation: call.implementation)
        }
        return GatheredVideo(video: video, weightSum: weightSum)
    }

    /// Gradients w.r.t. the patches and weights; `nil` when both cotangents are symbolic zeros.
    private func gradients(_ g: GatheredVideo<Scalar>.TangentVector, patches: Tensor<Scalar>, weights: Tensor<Scalar>?,
                           indices: Tensor<Int32>) -> (patches: Tensor<Scalar>, weights: Tensor<Scalar>?)? {
        if g.video.isSymbolicZero && g.weightSum.isSymbolicZero { return nil }
        return call.run { () throws(DNLSError) in
            // The backward needs a video gradient: zeros when only the weight sum was used.
            let videoGradient = g.video.isSymbolicZero
                ? try Tensor<Scalar>.filled(0, shape: call.videoShape, on: call.device) : g.video
            return try gather.backward(videoGradient: videoGradient,
                                       weightSumGradient: g.weightSum.isSymbolicZero ? nil : g.weightSum,
                                       patches: patches, weights: weights, indices: indices,
                                       implementation: call.implementation)
        }
    }

    @derivative(of: callAsFunction(_:weights:indices:), wrt: (patches, weights))
    @usableFromInline
    func vjpGather(_ patches: Tensor<Scalar>, weights: Tensor<Scalar>, indices: Tensor<Int32>)
        -> (value: GatheredVideo<Scalar>,
            pullback: (GatheredVideo<Scalar>.TangentVector) -> (Tensor<Scalar>, Tensor<Scalar>))
    {
        (gathering(patches, weights: weights, indices: indices), { g in
            guard let both = gradients(g, patches: patches, weights: weights, indices: indices) else { return (.zero, .zero) }
            return (both.patches, both.weights ?? .zero)
        })
    }

    @derivative(of: callAsFunction(_:indices:), wrt: patches)
    @usableFromInline
    func vjpGather(_ patches: Tensor<Scalar>, indices: Tensor<Int32>)
        -> (value: GatheredVideo<Scalar>, pullback: (GatheredVideo<Scalar>.TangentVector) -> Tensor<Scalar>)
    {
        (gathering(patches, weights: nil, indices: indices), { g in
            gradients(g, patches: patches, weights: nil, indices: indices)?.patches ?? .zero
        })
    }
}

/// What a ``PreparedGather`` returns: the accumulated video `(B, T, C, H, W)` and the sum of the
/// weights per pixel `(B, T, 1, H, W)`; divide the first by the second to aggregate.
public struct GatheredVideo<Scalar: PatchScalar>: Differentiable, Sendable {
    /// The weighted patches added up.
    public var video: Tensor<Scalar>
    /// The weights added up per pixel.
    public var weightSum: Tensor<Scalar>

    /// A result of the given tensors.
    @differentiable(reverse)
    public init(video: Tensor<Scalar>, weightSum: Tensor<Scalar>) {
        self.video = video
        self.weightSum = weightSum
    }
}

/// A ``WeightedPatchSum`` checked for one video shape and device. Indices are call arguments, as
/// for ``PreparedScatter``.
public struct PreparedWeightedPatchSum<Scalar: PatchScalar>: Sendable {
    /// The operation.
    public let sum: WeightedPatchSum
    let call: PreparedCall

    /// Per query, `Σ_m weights[b, q, m] · patch(indices[b, q, m])`: `(B, Q, 1, C, ps, ps)`.
    @differentiable(reverse, wrt: (video, weights))
    public func callAsFunction(_ video: Tensor<Scalar>, weights: Tensor<Scalar>, indices: Tensor<Int32>) -> Tensor<Scalar> {
        call.require(video, "video")
        return call.run { () throws(DNLSError) in
            try sum(video, weights: weights, indices: indices, implementation: call.implementation)
        }
    }

    @derivative(of: callAsFunction(_:weights:indices:), wrt: (video, weights))
    @usableFromInline
    func vjpWeightedPatchSum(_ video: Tensor<Scalar>, weights: Tensor<Scalar>, indices: Tensor<Int32>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> (Tensor<Scalar>, Tensor<Scalar>))
    {
        (self(video, weights: weights, indices: indices), { g in
            guard !g.isSymbolicZero else { return (.zero, .zero) }
            let both = call.run { () throws(DNLSError) in
                try sum.backward(outputGradient: g, video: video, weights: weights, indices: indices,
                                 implementation: call.implementation)
            }
            return (both.video, both.weights)
        })
    }
}
