import _Differentiation
import DNLS

// `gradient(at:of:)` of the standard library needs a floating-point result; these take a tensor
// result (a loss, usually rank 0) and seed its pullback with ones of its shape on its device, so
// a non-scalar result gives the gradient of the sum of its elements.

/// The value of `f` at `x` and the gradient of the sum of its elements with respect to `x`.
public func valueWithGradient<T: Differentiable, S: PatchScalar>(
    at x: T, of f: @differentiable(reverse) (T) -> Tensor<S>
) -> (value: Tensor<S>, gradient: T.TangentVector) {
    let (value, pullback) = valueWithPullback(at: x, of: f)
    return (value, pullback(ones(like: value)))
}

/// The value of `f` at `(x, y)` and the gradients of the sum of its elements with respect to both.
public func valueWithGradient<T: Differentiable, U: Differentiable, S: PatchScalar>(
    at x: T, _ y: U, of f: @differentiable(reverse) (T, U) -> Tensor<S>
) -> (value: Tensor<S>, gradient: (T.TangentVector, U.TangentVector)) {
    let (value, pullback) = valueWithPullback(at: x, y, of: f)
    return (value, pullback(ones(like: value)))
}

/// The gradient of the sum of the elements of `f` at `x`.
public func gradient<T: Differentiable, S: PatchScalar>(
    at x: T, of f: @differentiable(reverse) (T) -> Tensor<S>
) -> T.TangentVector {
    valueWithGradient(at: x, of: f).gradient
}

/// The gradients of the sum of the elements of `f` at `(x, y)`.
public func gradient<T: Differentiable, U: Differentiable, S: PatchScalar>(
    at x: T, _ y: U, of f: @differentiable(reverse) (T, U) -> Tensor<S>
) -> (T.TangentVector, U.TangentVector) {
    valueWithGradient(at: x, y, of: f).gradient
}

/// Ones of `value`'s shape on its device: the seed of a pullback.
private func ones<S: PatchScalar>(like value: Tensor<S>) -> Tensor<S> {
    stopping("seeding a gradient") { () throws(DNLSError) in try Tensor.filled(1, shape: value.shape, on: value.device) }
}
