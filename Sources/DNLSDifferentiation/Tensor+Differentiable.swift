import _Differentiation
import DNLS

/// Floating-point tensors are differentiable values whose tangents are tensors of the same shape.
///
/// The zero tangent is a *symbolic* zero: a tensor with no shape and no storage that `+` and `-`
/// treat as the identity, so a gradient that never reached a value costs nothing and needs no
/// shape. Adding two real tangents runs on their device (`Float` on a GPU, `Float` or `Double` on
/// the CPU); both must have one shape and one device, or the program stops with a message.
extension Tensor: AdditiveArithmetic where Scalar: PatchScalar {
    /// The symbolic zero (see the type's discussion).
    public static var zero: Tensor { .symbolicZero }

    /// Element-by-element sum; the symbolic zero is the identity.
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        if lhs.isSymbolicZero { return rhs }
        if rhs.isSymbolicZero { return lhs }
        return stopping("Tensor +") { () throws(DNLSError) in try lhs.combined(with: rhs, .add) }
    }

    /// Element-by-element difference; the symbolic zero is the identity.
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        if rhs.isSymbolicZero { return lhs }
        if lhs.isSymbolicZero { return rhs.negated() }
        return stopping("Tensor -") { () throws(DNLSError) in try lhs.combined(with: rhs, .subtract) }
    }

    /// `−self` (the symbolic zero stays zero).
    func negated() -> Tensor {
        if isSymbolicZero { return self }
        return stopping("Tensor negation") { () throws(DNLSError) in try multiplying(by: -1) }
    }
}

extension Tensor: Differentiable where Scalar: PatchScalar {
    public typealias TangentVector = Tensor

    /// Adds `offset` (a tangent of this tensor's shape) to the tensor.
    public mutating func move(by offset: Tensor) {
        self = self + offset
    }
}

extension Tensor where Scalar: PatchScalar {
    @derivative(of: +)
    @usableFromInline
    static func vjpAdd(lhs: Tensor, rhs: Tensor) -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        (lhs + rhs, { g in (g, g) })
    }

    @derivative(of: -)
    @usableFromInline
    static func vjpSubtract(lhs: Tensor, rhs: Tensor) -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        (lhs - rhs, { g in (g, g.negated()) })
    }
}
