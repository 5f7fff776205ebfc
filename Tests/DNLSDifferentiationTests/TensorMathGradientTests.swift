import _Differentiation
import DNLS
import DNLSDifferentiation
import Testing

/// Every differentiable tensor operation against finite differences in Double, with respect to
/// each of its differentiable arguments.
@Suite struct TensorMathGradientTests {
    @Test func arithmetic() {
        var rng = SplitMix64(seed: 1)
        let x = random([3, 4, 5], &rng), y = random([3, 4, 5], &rng, 0.5, 2)
        expectGradient("x + y w.r.t. x", at: x) { $0 + y }
        expectGradient("x + y w.r.t. y", at: y) { x + $0 }
        expectGradient("x − y w.r.t. x", at: x) { $0 - y }
        expectGradient("x − y w.r.t. y", at: y) { x - $0 }
        expectGradient("x ⊙ y w.r.t. x", at: x) { $0 * y }
        expectGradient("x ⊙ y w.r.t. y", at: y) { x * $0 }
        expectGradient("x ⊘ y w.r.t. x", at: x) { $0 / y }
        expectGradient("x ⊘ y w.r.t. y", at: y) { x / $0 }
        expectGradient("x ⊙ x", at: x) { $0 * $0 }
    }

    @Test func scaling() {
        var rng = SplitMix64(seed: 2)
        let x = random([2, 3, 7], &rng), factor = random([1], &rng)
        expectGradient("1.7 · x", at: x) { $0.scaled(by: 1.7) }
        expectGradient("f · x w.r.t. x", at: x) { $0.scaled(by: factor) }
        expectGradient("f · x w.r.t. f", at: factor) { x.scaled(by: $0) }
    }

    @Test func exponentialAndSoftmax() {
        var rng = SplitMix64(seed: 3)
        let x = random([4, 3, 6], &rng, -3, 3)
        expectGradient("exp", at: x) { $0.exp() }
        expectGradient("softmax over the last axis", at: x) { $0.softmax() }
        expectGradient("softmax of a row of one", at: random([5, 1], &rng)) { $0.softmax() }
    }

    @Test func softmaxOfEmptyRowsIsZeroWithZeroGradient() {
        let x = try! Tensor<Double>(shape: [2, 3], scalars: [-.infinity, -.infinity, -.infinity, 0, 1, -.infinity])
        let y = x.softmax()
        #expect(Array(y.scalars[0..<3]) == [0, 0, 0])
        #expect(abs(y.scalars[3] + y.scalars[4] - 1) < 1e-15 && y.scalars[5] == 0)
        let g = gradient(at: x) { ($0.softmax() * y).sum() }
        #expect(Array(g.scalars[0..<3]) == [0, 0, 0] && g.scalars[5] == 0)
    }

    @Test func sumsAndMeans() {
        var rng = SplitMix64(seed: 4)
        let x = random([3, 4, 5], &rng)
        expectGradient("sum", at: x) { $0.sum() }
        expectGradient("mean", at: x) { $0.mean() }
        for axis in 0..<3 {
            expectGradient("sum along \(axis)", at: x) { $0.sum(alongAxis: axis) }
            expectGradient("mean along \(axis)", at: x) { $0.mean(alongAxis: axis) }
        }
        #expect(x.sum().shape == [] && x.sum(alongAxis: 1).shape == [3, 5])
        #expect(abs(x.mean().scalars[0] - x.scalars.reduce(0, +) / 60) < 1e-14)
    }

    @Test func longSumsAreExactEnough() {
        // Long rows take the chunked path on a GPU; on the CPU the sum runs front to back.
        var rng = SplitMix64(seed: 5)
        let x = random([2, 10_000], &rng)
        let s = x.sum(alongAxis: 1).scalars
        #expect(abs(s[0] - x.scalars[0..<10_000].reduce(0, +)) < 1e-9)
        #expect(abs(s[1] - x.scalars[10_000...].reduce(0, +)) < 1e-9)
    }

    @Test func channelMixing() {
        var rng = SplitMix64(seed: 6)
        let x = random([2, 3, 4, 5, 6], &rng), w = random([5, 4], &rng), b = random([5], &rng)
        expectGradient("mix w.r.t. input", at: x) { $0.channelMixed(weight: w, bias: b) }
        expectGradient("mix w.r.t. weight", at: w) { x.channelMixed(weight: $0, bias: b) }
        expectGradient("mix w.r.t. bias", at: b) { x.channelMixed(weight: w, bias: $0) }
        expectGradient("mix without bias w.r.t. input", at: x) { $0.channelMixed(weight: w) }
        expectGradient("mix without bias w.r.t. weight", at: w) { x.channelMixed(weight: $0) }
        let y = x.channelMixed(weight: w, bias: b)
        #expect(y.shape == [2, 3, 5, 5, 6])
        // out[0, 1, 2, 3, 4] by hand.
        var expected = b.scalars[2]
        for c in 0..<4 { expected += w.scalars[2 * 4 + c] * x.scalars[(((0 * 3 + 1) * 4 + c) * 5 + 3) * 6 + 4] }
        #expect(abs(y.scalars[(((0 * 3 + 1) * 5 + 2) * 5 + 3) * 6 + 4] - expected) < 1e-14)
    }

    @Test func meanSquaredErrorLoss() {
        var rng = SplitMix64(seed: 7)
        let p = random([3, 8], &rng), e = random([3, 8], &rng)
        expectGradient("MSE w.r.t. the prediction", at: p) { meanSquaredError(predicted: $0, expected: e) }
        expectGradient("MSE w.r.t. the target", at: e) { meanSquaredError(predicted: p, expected: $0) }
        let direct = zip(p.scalars, e.scalars).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / 24
        #expect(abs(meanSquaredError(predicted: p, expected: e).scalars[0] - direct) < 1e-14)
    }

    @Test func unusedInputsHaveSymbolicZeroGradients() {
        var rng = SplitMix64(seed: 8)
        let x = random([4], &rng), y = random([4], &rng)
        let (gx, gy) = gradient(at: x, y) { a, _ in a.sum() }
        #expect(!gx.isSymbolicZero && gy.isSymbolicZero)
        #expect(gx.scalars == [1, 1, 1, 1])
        // The symbolic zero is the identity of + and −.
        #expect(Tensor<Double>.zero + x == x && x - .zero == x && x + .zero == x)
        #expect((Tensor<Double>.zero - x).scalars == x.scalars.map { -$0 })
    }
}
