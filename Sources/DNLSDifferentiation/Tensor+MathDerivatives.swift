import _Differentiation
import DNLS

/// The derivatives of the tensor operations. A symbolic-zero cotangent (an output nothing used)
/// gives symbolic zeros without computing anything.
extension Tensor where Scalar: PatchScalar {
    @derivative(of: *)
    @usableFromInline
    static func vjpMultiply(lhs: Tensor, rhs: Tensor) -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        (lhs * rhs, { g in g.isSymbolicZero ? (.zero, .zero) : (g * rhs, g * lhs) })
    }

    @derivative(of: /)
    @usableFromInline
    static func vjpDivide(lhs: Tensor, rhs: Tensor) -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        let value = lhs / rhs
        return (value, { g in
            guard !g.isSymbolicZero else { return (.zero, .zero) }
            let gl = g / rhs  // ∂/∂lhs; ∂/∂rhs = −g·lhs/rhs² = −(g/rhs)·value
            return (gl, (gl * value).negated())
        })
    }

    @derivative(of: scaled(by:), wrt: self)
    @usableFromInline
    func vjpScaled(by factor: Scalar) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        (scaled(by: factor), { g in g.isSymbolicZero ? .zero : g.scaled(by: factor) })
    }

    @derivative(of: scaled(by:))
    @usableFromInline
    func vjpScaled(by factor: Tensor) -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        (scaled(by: factor), { [self] g in
            guard !g.isSymbolicZero else { return (.zero, .zero) }
            let gFactor = stopping("the derivative of Tensor.scaled(by:)") { () throws(DNLSError) in
                try (g * self).summed(alongAxis: nil).reshaped(factor.shape)
            }
            return (g.scaled(by: factor), gFactor)
        })
    }

    @derivative(of: exp)
    @usableFromInline
    func vjpExp() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let value = exp()
        return (value, { g in g.isSymbolicZero ? .zero : g * value })
    }

    @derivative(of: softmax)
    @usableFromInline
    func vjpSoftmax() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let value = softmax()
        return (value, { g in
            guard !g.isSymbolicZero else { return .zero }
            return stopping("the derivative of Tensor.softmax()") { () throws(DNLSError) in
                try Tensor.softmaxLastAxisBackward(output: value, gradient: g)
            }
        })
    }

    @derivative(of: sum)
    @usableFromInline
    func vjpSum() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let shape = self.shape
        return (sum(), { g in
            guard !g.isSymbolicZero else { return .zero }
            return stopping("the derivative of Tensor.sum()") { () throws(DNLSError) in
                try g.broadcast(alongAxis: nil, to: shape)
            }
        })
    }

    @derivative(of: sum(alongAxis:), wrt: self)
    @usableFromInline
    func vjpSum(alongAxis axis: Int) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let shape = self.shape
        return (sum(alongAxis: axis), { g in
            guard !g.isSymbolicZero else { return .zero }
            return stopping("the derivative of Tensor.sum(alongAxis:)") { () throws(DNLSError) in
                try g.broadcast(alongAxis: axis, to: shape)
            }
        })
    }

    @derivative(of: channelMixed(weight:bias:))
    @usableFromInline
    func vjpChannelMixed(weight: Tensor, bias: Tensor) -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor, Tensor)) {
        (channelMixed(weight: weight, bias: bias), { [self] g in
            guard !g.isSymbolicZero else { return (.zero, .zero, .zero) }
            let (input, weight, bias) = stopping("the derivative of Tensor.channelMixed(weight:bias:)") {
                () throws(DNLSError) in try channelMixBackward(weight: weight, gradient: g)
            }
            return (input, weight, bias)
        })
    }

    @derivative(of: channelMixed(weight:))
    @usableFromInline
    func vjpChannelMixed(weight: Tensor) -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        (channelMixed(weight: weight), { [self] g in
            guard !g.isSymbolicZero else { return (.zero, .zero) }
            let (input, weight, _) = stopping("the derivative of Tensor.channelMixed(weight:)") {
                () throws(DNLSError) in try channelMixBackward(weight: weight, gradient: g)
            }
            return (input, weight)
        })
    }
}
