import CUDADriver
internal import CDNLSKernels

/// The tensor operations of the differentiation layer on the GPU (kernels in
/// ``CUDAKernelSource/tensorMath``): each output element written by one thread, every sum in an
/// order fixed by the shapes.
extension CUDABackend {
    /// Elements each block of a chunked sum adds up (256 threads × 16).
    static let sumChunk = 4096

    private func result(_ shape: [Int]) throws(DNLSError) -> Tensor<Float> {
        try Tensor<Float>(uninitializedOn: device, shape: shape)
    }

    func filled(_ value: Float, shape: [Int]) throws(DNLSError) -> Tensor<Float> {
        let out = try result(shape)
        try launch(.mathFill, count: out.count, parameters: DNLSMathFill(out: pointer(out), value: value, count: Int64(out.count)))
        return out
    }

    func combined(_ a: Tensor<Float>, _ b: Tensor<Float>, _ op: ElementwiseOperation) throws(DNLSError) -> Tensor<Float> {
        let out = try result(a.shape)
        try launch(.mathCombine, count: a.count, parameters: DNLSMathCombine(
            a: pointer(a), b: pointer(b), out: pointer(out), count: Int64(a.count), op: op.rawValue))
        return out
    }

    func scaled(_ a: Tensor<Float>, by factor: Float, elementOf tensor: Tensor<Float>?) throws(DNLSError) -> Tensor<Float> {
        let out = try result(a.shape)
        try launch(.mathScale, count: a.count, parameters: DNLSMathScale(
            a: pointer(a), factor: pointer(tensor), scale: factor, out: pointer(out), count: Int64(a.count)))
        return out
    }

    func exponential(_ a: Tensor<Float>) throws(DNLSError) -> Tensor<Float> {
        let out = try result(a.shape)
        try launch(.mathExp, count: a.count, parameters: DNLSMathExp(a: pointer(a), out: pointer(out), count: Int64(a.count)))
        return out
    }

    func softmax(_ a: Tensor<Float>, rows: Int, n: Int) throws(DNLSError) -> Tensor<Float> {
        let out = try result(a.shape)
        try launch(.mathSoftmax, count: rows, parameters: DNLSMathSoftmax(
            x: pointer(a), y: pointer(out), rows: Int64(rows), length: Int32(n)))
        return out
    }

    func softmaxBackward(_ y: Tensor<Float>, _ g: Tensor<Float>, rows: Int, n: Int) throws(DNLSError) -> Tensor<Float> {
        let out = try result(y.shape)
        try launch(.mathSoftmaxBackward, count: rows, parameters: DNLSMathSoftmaxBackward(
            y: pointer(y), gradient: pointer(g), out: pointer(out), rows: Int64(rows), length: Int32(n)))
        return out
    }

    /// `out[o, i] = Σⱼ x[o, j, i]`. Long contiguous rows (`inner == 1`) are first cut into chunks
    /// that blocks sum (pass after pass until a row has at most one chunk's worth of partial
    /// sums); the last pass sums each row front to back in one thread.
    func sum(_ x: Tensor<Float>, outer: Int, n: Int, inner: Int, shape: [Int]) throws(DNLSError) -> Tensor<Float> {
        let out = try result(shape)
        var rows = x, length = n
        while inner == 1, length > Self.sumChunk, outer <= 65_535 {
            let chunks = (length + Self.sumChunk - 1) / Self.sumChunk
            let partials: Tensor<Float> = try scratch([outer, chunks])
            try launch(.mathSumChunks, blocks: chunks, gridRows: outer, threads: 256, parameters: DNLSMathSumChunks(
                x: pointer(rows), out: pointer(partials), n: Int64(length), chunk: Int64(Self.sumChunk),
                chunks: Int64(chunks)))
            rows = partials
            length = chunks
        }
        try launch(.mathSumAxis, count: outer * inner, parameters: DNLSMathAxes(
            input: pointer(rows), out: pointer(out), outer: Int64(outer), n: Int64(length), inner: Int64(inner)))
        return out
    }

    func broadcast(_ g: Tensor<Float>, outer: Int, n: Int, inner: Int, shape: [Int]) throws(DNLSError) -> Tensor<Float> {
        let out = try result(shape)
        try launch(.mathBroadcast, count: out.count, parameters: DNLSMathAxes(
            input: pointer(g), out: pointer(out), outer: Int64(outer), n: Int64(n), inner: Int64(inner)))
        return out
    }

    func channelMix(_ x: Tensor<Float>, weight: Tensor<Float>, bias: Tensor<Float>?, _ m: ChannelMixShape)
        throws(DNLSError) -> Tensor<Float>
    {
        let out = try result(m.outputShape)
        try launch(.mathChannelMix, count: out.count, parameters: DNLSMathChannelMix(
            x: pointer(x), weight: pointer(weight), bias: pointer(bias), out: pointer(out), outer: Int64(m.outer),
            C: Int32(m.channels), Cp: Int32(m.outputChannels), P: Int64(m.pixels)))
        return out
    }

    /// The input gradient in one pass; the weight and bias gradients as chunked partial sums of
    /// their products (one row of partials per weight or bias entry), each row then summed front
    /// to back into its entry.
    func channelMixBackward(_ x: Tensor<Float>, weight: Tensor<Float>, gradient g: Tensor<Float>, _ m: ChannelMixShape)
        throws(DNLSError) -> (input: Tensor<Float>, weight: Tensor<Float>, bias: Tensor<Float>)
    {
        let C = Int32(m.channels), Cp = Int32(m.outputChannels)
        let gx = try result(x.shape), gw = try result(weight.shape), gb = try result([m.outputChannels])
        try launch(.mathChannelMixInput, count: x.count, parameters: DNLSMathChannelMixInput(
            gradient: pointer(g), weight: pointer(weight), out: pointer(gx), outer: Int64(m.outer), C: C, Cp: Cp,
            P: Int64(m.pixels)))
        let weights = m.outputChannels * m.channels, pairs = weights + m.outputChannels
        let items = m.outer * m.pixels
        let chunks = max(1, (items + Self.sumChunk - 1) / Self.sumChunk)
        let partials: Tensor<Float> = try scratch([pairs, chunks])
        try launch(.mathChannelMixPartials, blocks: chunks, gridRows: pairs, threads: 256,
                   parameters: DNLSMathChannelMixPartials(
                       gradient: pointer(g), x: pointer(x), out: pointer(partials), outer: Int64(m.outer), C: C, Cp: Cp,
                       P: Int64(m.pixels), chunk: Int64(Self.sumChunk), chunks: Int64(chunks)))
        // The weight's rows of partials, then the bias's.
        let biasRows = pointer(partials) + UInt64(weights * chunks * MemoryLayout<Float>.stride)
        try launch(.mathSumAxis, count: weights, parameters: DNLSMathAxes(
            input: pointer(partials), out: pointer(gw), outer: Int64(weights), n: Int64(chunks), inner: 1))
        try launch(.mathSumAxis, count: m.outputChannels, parameters: DNLSMathAxes(
            input: biasRows, out: pointer(gb), outer: Int64(m.outputChannels), n: Int64(chunks), inner: 1))
        return (gx, gw, gb)
    }
}
