import _Differentiation
import DNLS

extension PatchUnfold {
    /// Checks an unfold of queries `batch` (default: all) of `grid` from videos of `videoShape` on
    /// `device` and returns its differentiable form (with respect to the video).
    public func prepared<S: PatchScalar>(for _: S.Type, videoShape: [Int], grid: QueryGrid, batch: Range<Int>? = nil,
                                         on device: Device = .cpu, implementation: Implementation = .automatic)
        throws(DNLSError) -> PreparedUnfold<S>
    {
        PreparedUnfold(unfold: self, grid: grid, batch: batch,
                       call: try .checked("PatchUnfold", geometry, videoShape: videoShape, grid: (grid, batch),
                                          on: device, S.self, implementation: implementation))
    }
}

extension PatchFold {
    /// Checks a fold of queries `batch` (default: all) of `grid` into videos of `videoShape` on
    /// `device` and returns its differentiable form (with respect to the patches).
    public func prepared<S: PatchScalar>(for _: S.Type, videoShape: [Int], grid: QueryGrid, batch: Range<Int>? = nil,
                                         on device: Device = .cpu, implementation: Implementation = .automatic)
        throws(DNLSError) -> PreparedFold<S>
    {
        PreparedFold(fold: self, grid: grid, batch: batch,
                     call: try .checked("PatchFold", geometry, videoShape: videoShape, grid: (grid, batch),
                                        on: device, S.self, implementation: implementation))
    }
}

/// A ``PatchUnfold`` checked for one video shape, device and grid batch.
public struct PreparedUnfold<Scalar: PatchScalar>: Sendable {
    /// The operation.
    public let unfold: PatchUnfold
    /// The query grid and the batch of it unfolded (`nil`: all of it).
    public let grid: QueryGrid, batch: Range<Int>?
    let call: PreparedCall

    /// One patch per query: `(B, Q, 1, C, ps, ps)`.
    @differentiable(reverse)
    public func callAsFunction(_ video: Tensor<Scalar>) -> Tensor<Scalar> {
        call.require(video, "video")
        return call.run { () throws(DNLSError) in
            try unfold(video, grid: grid, batch: batch, implementation: call.implementation)
        }
    }

    @derivative(of: callAsFunction(_:))
    @usableFromInline
    func vjpUnfold(_ video: Tensor<Scalar>) -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> Tensor<Scalar>) {
        (self(video), { g in
            guard !g.isSymbolicZero else { return .zero }
            return call.run { () throws(DNLSError) in
                try unfold.backward(patchGradient: g, grid: grid, batch: batch, videoShape: call.videoShape,
                                    implementation: call.implementation)
            }
        })
    }
}

/// A ``PatchFold`` checked for one video shape, device and grid batch.
public struct PreparedFold<Scalar: PatchScalar>: Sendable {
    /// The operation.
    public let fold: PatchFold
    /// The query grid and the batch of it folded (`nil`: all of it).
    public let grid: QueryGrid, batch: Range<Int>?
    let call: PreparedCall

    /// The patches `(B, Q, 1, C, ps, ps)` folded into a zero video of the prepared shape.
    @differentiable(reverse)
    public func callAsFunction(_ patches: Tensor<Scalar>) -> Tensor<Scalar> {
        call.run { () throws(DNLSError) in
            try fold(patches, grid: grid, batch: batch, videoShape: call.videoShape, implementation: call.implementation)
        }
    }

    @derivative(of: callAsFunction(_:))
    @usableFromInline
    func vjpFold(_ patches: Tensor<Scalar>) -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> Tensor<Scalar>) {
        (self(patches), { g in
            guard !g.isSymbolicZero else { return .zero }
            return call.run { () throws(DNLSError) in
                try fold.backward(videoGradient: g, grid: grid, batch: batch, implementation: call.implementation)
            }
        })
    }
}
