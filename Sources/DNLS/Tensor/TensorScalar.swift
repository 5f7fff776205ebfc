/// A type that can be stored in a ``Tensor``: `Float`, `Double` or `Int32`.
public protocol TensorScalar: Sendable, Hashable {
    /// The additive identity, used to fill new tensors.
    static var zero: Self { get }
}

extension Float: TensorScalar {}
extension Double: TensorScalar {}
extension Int32: TensorScalar {}

/// A floating-point type the patch operations compute in: `Float` (every backend) or `Double`
/// (the CPU reference, for gradient checks).
public protocol PatchScalar: TensorScalar, BinaryFloatingPoint {}

extension Float: PatchScalar {}
extension Double: PatchScalar {}
