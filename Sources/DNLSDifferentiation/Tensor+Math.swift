import _Differentiation
import DNLS

/// The differentiable tensor operations that a loss and a learned weighting need: elementwise
/// products and quotients, scaling, `exp`, a softmax over the last axis, sums and means, and a
/// channel mixing (a 1×1 convolution). Each runs on the tensor's device (CPU: `Float` or `Double`;
/// GPU: `Float`), is deterministic, and has a registered derivative.
///
/// Operands of one operation must share shape and device; a mismatch stops the program with a
/// message naming them (these calls cannot throw: they run inside differentiated code).
extension Tensor where Scalar: PatchScalar {
    /// Element-by-element product.
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        stopping("Tensor *") { () throws(DNLSError) in try lhs.combined(with: rhs, .multiply) }
    }

    /// Element-by-element quotient.
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
        stopping("Tensor /") { () throws(DNLSError) in try lhs.combined(with: rhs, .divide) }
    }

    /// `factor · self` for a constant `factor` (not differentiated).
    public func scaled(by factor: Scalar) -> Tensor {
        stopping("Tensor.scaled(by:)") { () throws(DNLSError) in try multiplying(by: factor) }
    }

    /// `factor · self` for a one-element tensor `factor` (a learned scale, for example), read on
    /// the device: no host wait. Differentiable with respect to both.
    public func scaled(by factor: Tensor) -> Tensor {
        stopping("Tensor.scaled(by:) (a tensor factor)") { () throws(DNLSError) in try multiplying(byElementOf: factor) }
    }

    /// `exp` of every element.
    public func exp() -> Tensor {
        stopping("Tensor.exp()") { () throws(DNLSError) in try exponential() }
    }

    /// The softmax of each row of the last axis: `exp(xᵢ − max) / Σⱼ exp(xⱼ − max)`. A row whose
    /// elements are all `−inf` (a query with no candidate) gives zeros, not NaN.
    public func softmax() -> Tensor {
        stopping("Tensor.softmax()") { () throws(DNLSError) in try softmaxLastAxis() }
    }

    /// The sum of every element, as a rank-0 tensor on this tensor's device.
    public func sum() -> Tensor {
        stopping("Tensor.sum()") { () throws(DNLSError) in try summed(alongAxis: nil) }
    }

    /// The sum along `axis`, which is removed from the shape.
    public func sum(alongAxis axis: Int) -> Tensor {
        stopping("Tensor.sum(alongAxis:)") { () throws(DNLSError) in try summed(alongAxis: axis) }
    }

    /// The mean of every element, as a rank-0 tensor.
    @differentiable(reverse)
    public func mean() -> Tensor {
        sum().scaled(by: 1 / Scalar(Swift.max(withoutDerivative(at: self).count, 1)))
    }

    /// The mean along `axis`, which is removed from the shape.
    @differentiable(reverse, wrt: self)
    public func mean(alongAxis axis: Int) -> Tensor {
        sum(alongAxis: axis).scaled(by: 1 / Scalar(Swift.max(withoutDerivative(at: self).shape[axis], 1)))
    }

    /// A 1×1 convolution over the channel axis (the third from last) of a `(…, C, H, W)` tensor:
    /// `out[…, c′, y, x] = Σ_c weight[c′, c] · self[…, c, y, x] + bias[c′]`, with `weight` of
    /// shape `(C′, C)` and `bias` of shape `(C′)`.
    public func channelMixed(weight: Tensor, bias: Tensor) -> Tensor {
        stopping("Tensor.channelMixed(weight:bias:)") { () throws(DNLSError) in try mixingChannels(weight: weight, bias: bias) }
    }

    /// A 1×1 convolution over the channel axis without a bias.
    public func channelMixed(weight: Tensor) -> Tensor {
        stopping("Tensor.channelMixed(weight:)") { () throws(DNLSError) in try mixingChannels(weight: weight, bias: nil) }
    }
}

/// The mean of the squared differences of two tensors of one shape, as a rank-0 tensor.
@differentiable(reverse)
public func meanSquaredError<S: PatchScalar>(predicted: Tensor<S>, expected: Tensor<S>) -> Tensor<S> {
    let difference = predicted - expected
    return (difference * difference).mean()
}
