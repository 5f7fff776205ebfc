import _Differentiation
import DNLS
import DNLSTestSupport
import DNLSDifferentiation
import Testing

// Finite-difference checks in Double: the gradient that the differentiation layer returns for
// x ↦ Σ f(x) ⊙ R, with R a fixed random tensor (so every output element matters, each with its
// own weight), against central differences at a sample of coordinates.

/// A tensor of independent uniform values in [lo, hi).
func random(_ shape: [Int], _ rng: inout SplitMix64, _ lo: Double = -1, _ hi: Double = 1) -> Tensor<Double> {
    randomTensor(shape, &rng, lo, hi)
}

/// `t` with element `i` moved by `delta`.
func nudged(_ t: Tensor<Double>, _ i: Int, by delta: Double) -> Tensor<Double> {
    var copy = t
    copy.scalars[i] += delta
    return copy
}

/// Problems of the gradient of `x ↦ Σ f(x) ⊙ R` at `x` against central differences with step
/// `step` at up to `probes` coordinates (all when there are fewer), each within
/// `tolerance · max(1, |difference quotient|)`.
func gradientProblems(at x: Tensor<Double>, probes: Int = 30, step: Double = 1e-6, tolerance: Double = 1e-6,
                      seed: UInt64 = 1, _ f: @escaping @differentiable(reverse) (Tensor<Double>) -> Tensor<Double>)
    -> [String]
{
    var rng = SplitMix64(seed: seed)
    let projection = random(f(x).shape, &rng)
    let loss: @differentiable(reverse) (Tensor<Double>) -> Tensor<Double> = { (f($0) * projection).sum() }
    let computed = gradient(at: x, of: loss)
    guard !computed.isSymbolicZero else { return ["the gradient is a symbolic zero"] }
    guard computed.shape == x.shape else { return ["gradient shape \(computed.shape), input \(x.shape)"] }
    let coordinates = x.count <= probes ? Array(0..<x.count) : (0..<probes).map { _ in Int(rng.next() % UInt64(x.count)) }
    var problems: [String] = []
    for i in coordinates {
        let up = loss(nudged(x, i, by: step)).scalars[0], down = loss(nudged(x, i, by: -step)).scalars[0]
        let quotient = (up - down) / (2 * step), value = computed.scalars[i]
        if !(abs(value - quotient) <= tolerance * max(1, abs(quotient))) {
            problems.append("∂/∂x[\(i)]: computed \(value), finite differences \(quotient)")
        }
    }
    return problems
}

/// Records the problems of a gradient check, naming it.
func expectGradient(_ name: String, at x: Tensor<Double>, probes: Int = 30, tolerance: Double = 1e-6,
                    _ f: @escaping @differentiable(reverse) (Tensor<Double>) -> Tensor<Double>,
                    sourceLocation: SourceLocation = #_sourceLocation) {
    let problems = gradientProblems(at: x, probes: probes, tolerance: tolerance, f)
    #expect(problems.isEmpty, "\(name):\n\(problems.prefix(5).joined(separator: "\n"))", sourceLocation: sourceLocation)
}
