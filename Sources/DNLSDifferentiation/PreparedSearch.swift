import _Differentiation
import DNLS

extension PatchSearch {
    /// Checks every argument of a search of videos like `video` and returns its differentiable
    /// form, whose call does not throw.
    ///
    /// The queries, flows and implementation are fixed here; the call takes the video (and
    /// optionally the keys) and differentiates the distances with respect to both. The neighbour
    /// indices, the queries and the flows are not differentiated: the selection is piecewise
    /// constant, and the derivative is that of the distances for the neighbours found.
    ///
    /// - Parameters:
    ///   - video: a video of the shape and device the search will run on (its values are not kept).
    ///   - queries: grid batch or explicit positions.
    ///   - flows: forward/backward flows of the keys (default none).
    ///   - implementation: which CPU backend runs it.
    public func prepared<S: PatchScalar>(for video: Tensor<S>, queries: Queries, flows: Flows<S> = .none,
                                         implementation: Implementation = .automatic)
        throws(DNLSError) -> PreparedSearch<S>
    {
        try validate(video, keys: nil, queries: queries, flows: flows, implementation: implementation)
        return PreparedSearch(search: self, queries: queries, flows: flows,
                              call: PreparedCall(operation: "PatchSearch", videoShape: video.shape, device: video.device,
                                                 implementation: implementation))
    }
}

/// A ``PatchSearch`` checked for one video shape and device: differentiable with respect to the
/// video and the keys. Make one with ``DNLS/PatchSearch/prepared(for:queries:flows:implementation:)``.
public struct PreparedSearch<Scalar: PatchScalar>: Sendable {
    /// The search.
    public let search: PatchSearch
    /// The queries searched.
    public let queries: Queries
    let flows: Flows<Scalar>
    let call: PreparedCall

    /// The neighbours of the queries in `video` itself (a self-search).
    @differentiable(reverse)
    public func callAsFunction(_ video: Tensor<Scalar>) -> Neighbours<Scalar> {
        searching(video, keys: nil)
    }

    /// The neighbours in `keys` of the queries of `video`; both of the prepared shape.
    @differentiable(reverse)
    public func callAsFunction(_ video: Tensor<Scalar>, keys: Tensor<Scalar>) -> Neighbours<Scalar> {
        searching(video, keys: keys)
    }

    private func searching(_ video: Tensor<Scalar>, keys: Tensor<Scalar>?) -> Neighbours<Scalar> {
        call.require(video, "video")
        if let keys { call.require(keys, "keys") }
        let result = call.run { () throws(DNLSError) in
            try search(video, keys: keys, queries: queries, flows: flows, implementation: call.implementation)
        }
        return Neighbours(distances: result.distances, indices: result.indices)
    }

    private func gradients(_ g: Neighbours<Scalar>.TangentVector, _ found: Neighbours<Scalar>, video: Tensor<Scalar>,
                           keys: Tensor<Scalar>?) -> SearchGradients<Scalar> {
        call.run { () throws(DNLSError) in
            try search.backward(distanceGradient: g.distances, indices: found.indices, video: video, keys: keys,
                                queries: queries, implementation: call.implementation)
        }
    }

    @derivative(of: callAsFunction(_:))
    @usableFromInline
    func vjpSearch(_ video: Tensor<Scalar>)
        -> (value: Neighbours<Scalar>, pullback: (Neighbours<Scalar>.TangentVector) -> Tensor<Scalar>)
    {
        let found = searching(video, keys: nil)
        return (found, { g in
            g.distances.isSymbolicZero ? .zero : gradients(g, found, video: video, keys: nil).video
        })
    }

    @derivative(of: callAsFunction(_:keys:))
    @usableFromInline
    func vjpSearch(_ video: Tensor<Scalar>, keys: Tensor<Scalar>)
        -> (value: Neighbours<Scalar>, pullback: (Neighbours<Scalar>.TangentVector) -> (Tensor<Scalar>, Tensor<Scalar>))
    {
        let found = searching(video, keys: keys)
        return (found, { g in
            guard !g.distances.isSymbolicZero else { return (.zero, .zero) }
            let both = gradients(g, found, video: video, keys: keys)
            return (both.video, both.keys ?? .zero)
        })
    }
}

/// The neighbours a ``PreparedSearch`` found: distances (differentiable) and indices (not).
public struct Neighbours<Scalar: PatchScalar>: Differentiable, Sendable {
    /// `(B, Q, K)` (or `(Q, K)` for a 4-D video): distances or similarities, best first.
    public var distances: Tensor<Scalar>
    /// `(B, Q, K, 3)`: the `(t, h, w)` of each neighbour; `(−1, −1, −1)` for an empty slot.
    @noDerivative public var indices: Tensor<Int32>

    /// Neighbours of the given tensors.
    @differentiable(reverse)
    public init(distances: Tensor<Scalar>, indices: Tensor<Int32>) {
        self.distances = distances
        self.indices = indices
    }
}
