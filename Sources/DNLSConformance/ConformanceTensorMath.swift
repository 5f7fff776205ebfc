import _Differentiation
import DNLS
import DNLSTestSupport
import DNLSDifferentiation

extension ConformanceSuite {
    /// Every differentiable tensor operation on `device` against the CPU (whose loops the tests
    /// check against finite differences in `Double`): the value and the gradient of
    /// `Σ f(x) ⊙ R` for each, both in `Float`, within 1e-5 relative; and bitwise equal on two
    /// runs. Includes sums long enough for the GPU's chunked path.
    package static func checkTensorMath(_ device: Device) -> [String] {
        do {
            return try tensorMathProblems(device)
        } catch {
            return ["\(error)"]
        }
    }

    private typealias MathCase = (name: String, input: Tensor<Float>, f: @differentiable(reverse) (Tensor<Float>) -> Tensor<Float>)

    /// The cases on `device`, built from the same host values on every device.
    private static func mathCases(on device: Device) throws(DNLSError) -> [MathCase] {
        var rng = SplitMix64(seed: 41)
        func random(_ shape: [Int], _ lo: Double = -1, _ hi: Double = 1) throws(DNLSError) -> Tensor<Float> {
            try randomTensor(shape, &rng, lo, hi).to(device)
        }
        let x = try random([2, 3, 4, 5]), y = try random([2, 3, 4, 5], 0.5, 2), factor = try random([1])
        let weight = try random([4, 3]), bias = try random([4]), long = try random([2, 10_000])
        return [
            ("x + y", x, { $0 + y }), ("y − x", x, { y - $0 }), ("x ⊙ y", x, { $0 * y }), ("x ⊘ y", x, { $0 / y }),
            ("y ⊘ x", y, { x / $0 }), ("1.7 · x", x, { $0.scaled(by: 1.7) }), ("f · x", x, { $0.scaled(by: factor) }),
            ("f · x w.r.t. f", factor, { x.scaled(by: $0) }), ("exp", x, { $0.exp() }), ("softmax", x, { $0.softmax() }),
            ("sum", x, { $0.sum() }), ("mean", x, { $0.mean() }), ("sum along 0", x, { $0.sum(alongAxis: 0) }),
            ("sum along 2", x, { $0.sum(alongAxis: 2) }), ("mean along 3", x, { $0.mean(alongAxis: 3) }),
            ("long sum", long, { $0.sum() }), ("long rows", long, { $0.sum(alongAxis: 1) }),
            ("mix w.r.t. input", x, { $0.channelMixed(weight: weight, bias: bias) }),
            ("mix w.r.t. weight", weight, { x.channelMixed(weight: $0, bias: bias) }),
            ("mix w.r.t. bias", bias, { x.channelMixed(weight: weight, bias: $0) }),
            ("mix without bias", x, { $0.channelMixed(weight: weight) }),
            ("MSE", x, { meanSquaredError(predicted: $0, expected: y) }),
        ]
    }

    private static func tensorMathProblems(_ device: Device) throws(DNLSError) -> [String] {
        let expected = try mathCases(on: .cpu), tested = try mathCases(on: device)
        var problems: [String] = []
        for (reference, test) in zip(expected, tested) {
            func run(_ c: MathCase) throws(DNLSError) -> (value: [Float], gradient: [Float]) {
                var rng = SplitMix64(seed: 43)
                let shape = c.f(c.input).shape
                let projection = try Tensor<Float>(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in
                    Float(Double(rng.next() >> 11) * 0x1.0p-53) - 0.5 }).to(c.input.device)
                let (value, gradient) = valueWithGradient(at: c.input) { (c.f($0) * projection).sum() }
                return (try value.to(.cpu).scalars, try gradient.to(.cpu).scalars)
            }
            let want = try run(reference), first = try run(test), second = try run(test)
            if first.value != second.value || first.gradient != second.gradient {
                problems.append("\(test.name): two runs differ")
            }
            for (part, a, b) in [("value", first.value, want.value), ("gradient", first.gradient, want.gradient)] {
                let error = relativeError(a.map(Double.init), b.map(Double.init))
                if !(error < 1e-5) { problems.append("\(test.name): \(part) relative error \(error) against the CPU") }
            }
        }
        return problems
    }
}
