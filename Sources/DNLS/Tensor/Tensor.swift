/// A dense, contiguous, row-major array of scalars with a shape and a device.
///
/// `Tensor` is a value type with copy-on-write storage. Videos are `Tensor<Float>` of shape
/// `(B, T, C, H, W)` or `(T, C, H, W)`; index tensors are `Tensor<Int32>` whose last axis holds
/// `(t, h, w)` triples. `Tensor<Double>` is accepted by the CPU reference backend.
///
/// ```swift
/// var video = Tensor<Float>(zeros: [5, 3, 64, 64])
/// video[0, 1, 10, 20] = 0.5
/// ```
public struct Tensor<Scalar: TensorScalar>: Sendable {
    /// The extent of each axis, outermost first.
    public let shape: [Int]
    /// Where the storage lives. Only ``Device/cpu`` tensors can be created today.
    public let device: Device
    /// The elements in row-major order.
    public internal(set) var scalars: [Scalar]

    /// A tensor with the given shape and elements (row-major).
    /// - Throws: ``DNLSError/shapeMismatch(argument:expected:actual:)`` when the element count
    ///   does not match the shape, ``DNLSError/invalidArgument(argument:expected:actual:)`` for a
    ///   negative extent.
    public init(shape: [Int], scalars: [Scalar]) throws(DNLSError) {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw .invalidArgument(argument: "shape", expected: "non-negative extents", actual: "\(shape)")
        }
        let count = shape.reduce(1, *)
        guard count == scalars.count else {
            throw .shapeMismatch(argument: "scalars", expected: "\(count) elements for shape \(shape)", actual: [scalars.count])
        }
        self.shape = shape
        self.device = .cpu
        self.scalars = scalars
    }

    /// A tensor of the given shape filled with `value`.
    public init(repeating value: Scalar, shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "tensor extents must be non-negative")
        self.shape = shape
        self.device = .cpu
        self.scalars = Array(repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor of the given shape filled with zeros.
    public init(zeros shape: [Int]) {
        self.init(repeating: .zero, shape: shape)
    }

    /// Trusted internal initialiser: the caller guarantees `scalars.count == product(shape)`.
    init(uncheckedShape shape: [Int], scalars: [Scalar]) {
        self.shape = shape
        self.device = .cpu
        self.scalars = scalars
    }

    /// The number of axes.
    public var rank: Int { shape.count }
    /// The number of elements.
    public var count: Int { scalars.count }

    /// The same elements viewed with another shape of the same element count.
    public func reshaped(_ newShape: [Int]) throws(DNLSError) -> Tensor {
        guard newShape.allSatisfy({ $0 >= 0 }), newShape.reduce(1, *) == count else {
            throw .shapeMismatch(argument: "shape", expected: "\(count) elements", actual: newShape)
        }
        return Tensor(uncheckedShape: newShape, scalars: scalars)
    }

    /// The row-major offset of a multi-index.
    @inlinable
    public func offset(of index: [Int]) -> Int {
        precondition(index.count == shape.count, "index rank \(index.count) does not match tensor rank \(shape.count)")
        var offset = 0
        for axis in 0..<shape.count {
            precondition(index[axis] >= 0 && index[axis] < shape[axis], "index \(index) outside shape \(shape)")
            offset = offset * shape[axis] + index[axis]
        }
        return offset
    }

    /// Element access by multi-index, e.g. `video[b, t, c, h, w]`.
    public subscript(_ index: Int...) -> Scalar {
        get { scalars[offset(of: index)] }
        set { scalars[offset(of: index)] = newValue }
    }
}

extension Tensor: Equatable, Hashable {}

extension Tensor where Scalar: BinaryFloatingPoint {
    /// The same values converted to another floating-point type (for example Float → Double for
    /// gradient checks in the reference backend).
    public func converted<Other: BinaryFloatingPoint & TensorScalar>(to _: Other.Type = Other.self) -> Tensor<Other> {
        Tensor<Other>(uncheckedShape: shape, scalars: scalars.map { Other($0) })
    }
}
