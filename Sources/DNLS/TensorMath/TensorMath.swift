/// The few tensor operations that a loss and a learned weighting need beside the patch
/// operations: elementwise arithmetic, exp, a softmax over the last axis, sums, and a channel
/// mixing (a 1×1 convolution). Not a tensor library: the differentiation layer builds on exactly
/// these. Every one runs on the CPU (`Float` and `Double`, plain loops) and on a GPU (`Float`),
/// each output element written once and every sum taken in an order fixed by the shapes alone,
/// so results are reproducible bit for bit on one device.
package enum ElementwiseOperation: Int32, Sendable, CaseIterable {
    case add = 0, subtract, multiply, divide

    @inline(__always)
    func apply<S: PatchScalar>(_ x: S, _ y: S) -> S {
        switch self {
        case .add: x + y
        case .subtract: x - y
        case .multiply: x * y
        case .divide: x / y
        }
    }
}

extension Tensor where Scalar: PatchScalar {
    /// A tensor of `shape` on `device` with every element `value`.
    package static func filled(_ value: Scalar, shape: [Int], on device: Device) throws(DNLSError) -> Tensor {
        guard device != .cpu else { return Tensor(repeating: value, shape: shape) }
        return try math(on: device) { (gpu) throws(DNLSError) in try gpu.filled(Float(value), shape: shape) }
    }

    /// `self ∘ other` element by element; both of one shape and device.
    package func combined(with other: Tensor, _ operation: ElementwiseOperation) throws(DNLSError) -> Tensor {
        try requireSameShape(other, self, argument: "rhs", as: "lhs")
        _ = try commonDevice([("lhs", device), ("rhs", other.device)])
        guard device != .cpu else { return HostTensorMath.combined(self, other, operation) }
        return try math(on: device) { (gpu) throws(DNLSError) in
            try gpu.combined(self.asFloat, other.asFloat, operation)
        }
    }

    /// `factor · self`, with `factor` a host constant.
    package func multiplying(by factor: Scalar) throws(DNLSError) -> Tensor {
        guard device != .cpu else { return HostTensorMath.scaled(self, by: factor, elementOf: nil) }
        return try math(on: device) { (gpu) throws(DNLSError) in try gpu.scaled(self.asFloat, by: Float(factor), elementOf: nil) }
    }

    /// `factor[0] · self`, with `factor` a one-element tensor on the same device (read there: no
    /// host wait).
    package func multiplying(byElementOf factor: Tensor) throws(DNLSError) -> Tensor {
        guard factor.count == 1 else {
            throw .shapeMismatch(argument: "factor", expected: "one element", actual: factor.shape)
        }
        _ = try commonDevice([("self", device), ("factor", factor.device)])
        guard device != .cpu else { return HostTensorMath.scaled(self, by: 1, elementOf: factor) }
        return try math(on: device) { (gpu) throws(DNLSError) in
            try gpu.scaled(self.asFloat, by: 1, elementOf: factor.asFloat)
        }
    }

    /// `exp` of every element.
    package func exponential() throws(DNLSError) -> Tensor {
        guard device != .cpu else { return HostTensorMath.exponential(self) }
        return try math(on: device) { (gpu) throws(DNLSError) in try gpu.exponential(self.asFloat) }
    }

    /// The softmax of every row of the last axis (a row of `−inf` gives zeros).
    package func softmaxLastAxis() throws(DNLSError) -> Tensor {
        let (rows, n) = try lastAxisRows("softmax")
        guard device != .cpu else { return HostTensorMath.softmax(self, rows: rows, n: n) }
        return try math(on: device) { (gpu) throws(DNLSError) in try gpu.softmax(self.asFloat, rows: rows, n: n) }
    }

    /// The gradient of a last-axis softmax w.r.t. its input, from its output `y` and the gradient
    /// `g` w.r.t. the output: `y ⊙ (g − Σⱼ gⱼ yⱼ)` per row.
    package static func softmaxLastAxisBackward(output y: Tensor, gradient g: Tensor) throws(DNLSError) -> Tensor {
        try requireSameShape(g, y, argument: "gradient", as: "output")
        _ = try commonDevice([("output", y.device), ("gradient", g.device)])
        let (rows, n) = try y.lastAxisRows("softmax backward")
        guard y.device != .cpu else { return HostTensorMath.softmaxBackward(y, g, rows: rows, n: n) }
        return try math(on: y.device) { (gpu) throws(DNLSError) in
            try gpu.softmaxBackward(y.asFloat, g.asFloat, rows: rows, n: n)
        }
    }

    /// The sum over `axis` (that axis removed), or over every element (`nil`: a rank-0 tensor).
    package func summed(alongAxis axis: Int?) throws(DNLSError) -> Tensor {
        let (outer, n, inner, shape) = try reduction(axis)
        guard device != .cpu else { return HostTensorMath.sum(self, outer: outer, n: n, inner: inner, shape: shape) }
        return try math(on: device) { (gpu) throws(DNLSError) in
            try gpu.sum(self.asFloat, outer: outer, n: n, inner: inner, shape: shape)
        }
    }

    /// The adjoint of ``summed(alongAxis:)``: `self` (of the summed shape) repeated along `axis`
    /// of `shape` (every element of `shape` for `axis: nil`).
    package func broadcast(alongAxis axis: Int?, to shape: [Int]) throws(DNLSError) -> Tensor {
        let target = Tensor(shape: shape, device: .cpu, host: [], deviceStorage: nil)
        let (outer, n, inner, summedShape) = try target.reduction(axis)
        guard self.shape == summedShape || (axis == nil && count == 1) else {
            throw .shapeMismatch(argument: "self", expected: "\(summedShape)", actual: self.shape)
        }
        guard device != .cpu else { return HostTensorMath.broadcast(self, outer: outer, n: n, inner: inner, shape: shape) }
        return try math(on: device) { (gpu) throws(DNLSError) in
            try gpu.broadcast(self.asFloat, outer: outer, n: n, inner: inner, shape: shape)
        }
    }

    /// A 1×1 convolution over the channel axis (the third from last) of `(…, C, H, W)`:
    /// `out[…, c′, y, x] = Σ_c weight[c′, c] · self[…, c, y, x] + bias[c′]`, `weight` `(C′, C)`,
    /// `bias` `(C′)` or none.
    package func mixingChannels(weight: Tensor, bias: Tensor?) throws(DNLSError) -> Tensor {
        let mix = try ChannelMixShape(input: shape, weight: weight.shape, bias: bias?.shape)
        var devices = [("input", device), ("weight", weight.device)]
        if let bias { devices.append(("bias", bias.device)) }
        _ = try commonDevice(devices)
        guard device != .cpu else { return HostTensorMath.channelMix(self, weight: weight, bias: bias, mix) }
        return try math(on: device) { (gpu) throws(DNLSError) in
            try gpu.channelMix(self.asFloat, weight: weight.asFloat, bias: bias?.asFloat, mix)
        }
    }

    /// Gradients of ``mixingChannels(weight:bias:)`` w.r.t. its input, weight and bias, from the
    /// gradient w.r.t. its output (`self` is the input).
    package func channelMixBackward(weight: Tensor, gradient: Tensor) throws(DNLSError)
        -> (input: Tensor, weight: Tensor, bias: Tensor)
    {
        let mix = try ChannelMixShape(input: shape, weight: weight.shape, bias: nil)
        try requireSameShape(gradient, Tensor(shape: mix.outputShape, device: .cpu, host: [], deviceStorage: nil),
                             argument: "gradient", as: "the output")
        _ = try commonDevice([("input", device), ("weight", weight.device), ("gradient", gradient.device)])
        guard device != .cpu else { return HostTensorMath.channelMixBackward(self, weight: weight, gradient: gradient, mix) }
        let (gi, gw, gb) = try Self.gpu(on: device).channelMixBackward(
            asFloat, weight: weight.asFloat, gradient: gradient.asFloat, mix)
        return (gi.asScalar(), gw.asScalar(), gb.asScalar())
    }

    // MARK: shapes

    /// Rows and row length of the last axis.
    private func lastAxisRows(_ what: String) throws(DNLSError) -> (rows: Int, n: Int) {
        guard let n = shape.last else {
            throw .shapeMismatch(argument: "input of \(what)", expected: "at least one axis", actual: shape)
        }
        return (n == 0 ? 0 : count / n, n)
    }

    /// The `(outer, n, inner)` split of a sum over `axis` and the summed shape.
    private func reduction(_ axis: Int?) throws(DNLSError) -> (outer: Int, n: Int, inner: Int, shape: [Int]) {
        guard let axis else { return (1, count, 1, []) }
        guard shape.indices.contains(axis) else {
            throw .invalidArgument(argument: "axis", expected: "0..<\(rank)", actual: "\(axis)")
        }
        var summed = shape
        summed.remove(at: axis)
        return (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *), summed)
    }

    // MARK: the GPU

    /// This tensor as the `Float` tensor it is (GPU operations are `Float` only: checked by
    /// ``math(on:_:)`` before this is read).
    var asFloat: Tensor<Float> { self as! Tensor<Float> }

    /// Runs `body` on the CUDA backend of `device`, for `Float` tensors.
    private static func math(on device: Device, _ body: (CUDABackend) throws(DNLSError) -> Tensor<Float>)
        throws(DNLSError) -> Tensor
    {
        try body(try gpu(on: device)).asScalar()
    }

    /// The CUDA backend of `device`, for `Float` tensors.
    private static func gpu(on device: Device) throws(DNLSError) -> CUDABackend {
        guard Scalar.self == Float.self else {
            throw .unavailable(what: "the CUDA backend for \(Scalar.self)", reason: "it computes in Float only")
        }
        guard case let .cuda(ordinal) = device else { preconditionFailure("a GPU operation on a CPU tensor") }
        return try CUDABackend(ordinal: ordinal)
    }

    private func math(on device: Device, _ body: (CUDABackend) throws(DNLSError) -> Tensor<Float>) throws(DNLSError) -> Tensor {
        try Self.math(on: device, body)
    }
}

extension Tensor<Float> {
    /// This `Float` tensor as a tensor of `S` (which is `Float`).
    func asScalar<S: PatchScalar>() -> Tensor<S> { self as! Tensor<S> }
}

/// The shapes of a channel mixing: `outer` leading items of `channels` channels of `pixels`
/// pixels in, `outputChannels` channels out.
package struct ChannelMixShape: Sendable, Hashable {
    let outer: Int, channels: Int, outputChannels: Int, pixels: Int
    let outputShape: [Int]

    init(input: [Int], weight: [Int], bias: [Int]?) throws(DNLSError) {
        guard input.count >= 3 else {
            throw .shapeMismatch(argument: "input", expected: "(…, C, H, W): at least 3 axes", actual: input)
        }
        let c = input[input.count - 3]
        guard weight.count == 2, weight[1] == c else {
            throw .shapeMismatch(argument: "weight", expected: "(C′, \(c))", actual: weight)
        }
        if let bias, bias != [weight[0]] {
            throw .shapeMismatch(argument: "bias", expected: "(\(weight[0]))", actual: bias)
        }
        outer = input[..<(input.count - 3)].reduce(1, *)
        channels = c
        outputChannels = weight[0]
        pixels = input[(input.count - 2)...].reduce(1, *)
        var out = input
        out[input.count - 3] = weight[0]
        outputShape = out
    }
}
