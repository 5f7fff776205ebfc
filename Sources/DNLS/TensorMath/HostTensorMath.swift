import Glibc

/// The CPU loops of the tensor operations (``Tensor/combined(with:_:)`` and the rest): plain,
/// generic over `Float` and `Double`, every sum taken front to back.
enum HostTensorMath {
    static func combined<S: PatchScalar>(_ a: Tensor<S>, _ b: Tensor<S>, _ op: ElementwiseOperation) -> Tensor<S> {
        let x = a.host, y = b.host
        var out = [S](repeating: 0, count: x.count)
        for i in out.indices { out[i] = op.apply(x[i], y[i]) }
        return Tensor(uncheckedShape: a.shape, scalars: out)
    }

    static func scaled<S: PatchScalar>(_ a: Tensor<S>, by factor: S, elementOf tensor: Tensor<S>?) -> Tensor<S> {
        let s = factor * (tensor?.host[0] ?? 1)
        return Tensor(uncheckedShape: a.shape, scalars: a.host.map { s * $0 })
    }

    static func exponential<S: PatchScalar>(_ a: Tensor<S>) -> Tensor<S> {
        Tensor(uncheckedShape: a.shape, scalars: a.host.map { S(Glibc.exp(Double($0))) })
    }

    static func softmax<S: PatchScalar>(_ a: Tensor<S>, rows: Int, n: Int) -> Tensor<S> {
        let x = a.host
        var y = [S](repeating: 0, count: x.count)
        for r in 0..<rows {
            let row = r * n
            var top = -S.infinity
            for j in 0..<n { top = Swift.max(top, x[row + j]) }
            guard top > -S.infinity else { continue }  // a row of −inf: zeros
            var total: S = 0
            for j in 0..<n {
                y[row + j] = S(Glibc.exp(Double(x[row + j] - top)))
                total += y[row + j]
            }
            for j in 0..<n { y[row + j] /= total }
        }
        return Tensor(uncheckedShape: a.shape, scalars: y)
    }

    static func softmaxBackward<S: PatchScalar>(_ output: Tensor<S>, _ gradient: Tensor<S>, rows: Int, n: Int) -> Tensor<S> {
        let y = output.host, g = gradient.host
        var out = [S](repeating: 0, count: y.count)
        for r in 0..<rows {
            let row = r * n
            var dot: S = 0
            for j in 0..<n { dot += g[row + j] * y[row + j] }
            for j in 0..<n { out[row + j] = y[row + j] * (g[row + j] - dot) }
        }
        return Tensor(uncheckedShape: output.shape, scalars: out)
    }

    /// Sums accumulate in `Double` and round once: a long `Float` sum is then within an ulp of the
    /// exact one, whatever its length, rather than drifting with it.
    static func sum<S: PatchScalar>(_ a: Tensor<S>, outer: Int, n: Int, inner: Int, shape: [Int]) -> Tensor<S> {
        let x = a.host
        var total = [Double](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for j in 0..<n {
                let base = (o * n + j) * inner
                for i in 0..<inner { total[o * inner + i] += Double(x[base + i]) }
            }
        }
        return Tensor(uncheckedShape: shape, scalars: total.map { S($0) })
    }

    static func broadcast<S: PatchScalar>(_ a: Tensor<S>, outer: Int, n: Int, inner: Int, shape: [Int]) -> Tensor<S> {
        let g = a.host
        var out = [S](repeating: 0, count: outer * n * inner)
        for o in 0..<outer {
            for j in 0..<n {
                let base = (o * n + j) * inner
                for i in 0..<inner { out[base + i] = g[o * inner + i] }
            }
        }
        return Tensor(uncheckedShape: shape, scalars: out)
    }

    static func channelMix<S: PatchScalar>(_ input: Tensor<S>, weight: Tensor<S>, bias: Tensor<S>?,
                                           _ m: ChannelMixShape) -> Tensor<S> {
        let x = input.host, w = weight.host, b = bias?.host
        let C = m.channels, Cp = m.outputChannels, P = m.pixels
        var out = [S](repeating: 0, count: m.outer * Cp * P)
        for o in 0..<m.outer {
            for k in 0..<Cp {
                let row = (o * Cp + k) * P
                for p in 0..<P {
                    var s: S = b?[k] ?? 0
                    for c in 0..<C { s += w[k * C + c] * x[(o * C + c) * P + p] }
                    out[row + p] = s
                }
            }
        }
        return Tensor(uncheckedShape: m.outputShape, scalars: out)
    }

    static func channelMixBackward<S: PatchScalar>(_ input: Tensor<S>, weight: Tensor<S>, gradient: Tensor<S>,
                                                   _ m: ChannelMixShape) -> (input: Tensor<S>, weight: Tensor<S>, bias: Tensor<S>) {
        let x = input.host, w = weight.host, g = gradient.host
        let C = m.channels, Cp = m.outputChannels, P = m.pixels
        var gx = [S](repeating: 0, count: x.count)
        var gw = [S](repeating: 0, count: Cp * C), gb = [S](repeating: 0, count: Cp)
        for o in 0..<m.outer {
            for p in 0..<P {
                for c in 0..<C {
                    var s: S = 0
                    for k in 0..<Cp { s += w[k * C + c] * g[(o * Cp + k) * P + p] }
                    gx[(o * C + c) * P + p] = s
                }
            }
        }
        for k in 0..<Cp {
            for o in 0..<m.outer {
                for p in 0..<P {
                    let gk = g[(o * Cp + k) * P + p]
                    gb[k] += gk
                    for c in 0..<C { gw[k * C + c] += gk * x[(o * C + c) * P + p] }
                }
            }
        }
        return (Tensor(uncheckedShape: input.shape, scalars: gx), Tensor(uncheckedShape: weight.shape, scalars: gw),
                Tensor(uncheckedShape: [Cp], scalars: gb))
    }
}
