import DNLS
import DNLSTestSupport
import Testing

/// Gather (patches → video with weights and the weight sum): against an independent deposit loop,
/// its relation to scatter, batch accumulation, and finite-difference checks of the backward.
@Suite("Gather")
struct GatherTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var ps: Int, dilation: Int, anchor: PatchAnchor, border: Border
        var testDescription: String { "ps \(ps) dil \(dilation) \(anchor) \(border)" }
    }

    static let cases: [Case] = [
        Case(ps: 3, dilation: 1, anchor: .center, border: .reflect), Case(ps: 3, dilation: 1, anchor: .center, border: .zero),
        Case(ps: 4, dilation: 2, anchor: .center, border: .reflect), Case(ps: 2, dilation: 1, anchor: .topLeft, border: .zero),
        Case(ps: 5, dilation: 1, anchor: .topLeft, border: .reflect), Case(ps: 1, dilation: 1, anchor: .center, border: .zero),
    ]

    static let (T, C, H, W, Q, K) = (3, 2, 7, 8, 5, 3)

    @Test("Forward equals an independent weighted deposit with per-entry weight sums", arguments: cases)
    func forward(c: Case) throws {
        var rng = SplitMix64(seed: 500 + UInt64(c.ps * 3 + c.dilation))
        let g = PatchGeometry(patchSize: c.ps, dilation: c.dilation, anchor: c.anchor, border: c.border)
        let neighbours = randomNeighbours(batch: 2, queries: Self.Q, k: Self.K, frames: Self.T, height: Self.H, width: Self.W, &rng)
        let indices = neighbourTensor(neighbours, batched: true)
        let patches: Tensor<Double> = randomTensor([2, Self.Q, Self.K, Self.C, c.ps, c.ps], &rng, -1, 1)
        let weights: Tensor<Double> = randomTensor([2, Self.Q, Self.K], &rng, 0.1, 2)
        let shape = [2, Self.T, Self.C, Self.H, Self.W]
        let out = try PatchGather(geometry: g)(patches, weights: weights, indices: indices, videoShape: shape,
                                               implementation: .reference)
        #expect(out.video.shape == shape)
        #expect(out.weightSum.shape == [2, Self.T, 1, Self.H, Self.W])
        var video = [Double](repeating: 0, count: shape.reduce(1, *))
        var weightSum = [Double](repeating: 0, count: 2 * Self.T * Self.H * Self.W)
        let per = Self.C * c.ps * c.ps
        for b in 0..<2 {
            for q in 0..<Self.Q {
                for m in 0..<Self.K {
                    let i = (b * Self.Q + q) * Self.K + m
                    let w = weights.scalars[i]
                    oracleDeposit(patches.scalars[(i * per)..<((i + 1) * per)], weight: w, at: neighbours[b][q][m], batch: b, g,
                                  into: &video, shape: (2, Self.T, Self.C, Self.H, Self.W))
                    // The weight sum gets the weight once per patch entry (not per channel).
                    oracleDeposit(ArraySlice(repeating: 1, count: c.ps * c.ps), weight: w, at: neighbours[b][q][m], batch: b, g,
                                  into: &weightSum, shape: (2, Self.T, 1, Self.H, Self.W))
                }
            }
        }
        expectAllClose(doubles(out.video), video, relative: 1e-13, absolute: 1e-13, "video")
        expectAllClose(doubles(out.weightSum), weightSum, relative: 1e-13, absolute: 1e-13, "weight sum")
    }

    @Test("Unit weights: the video is the scatter adjoint and the weight sum counts entries")
    func unitWeights() throws {
        var rng = SplitMix64(seed: 510)
        let g = PatchGeometry(patchSize: 3, border: .reflect)
        let neighbours = randomNeighbours(batch: 1, queries: 4, k: 3, frames: 2, height: 6, width: 6, &rng)
        let indices = neighbourTensor(neighbours, batched: false)
        let patches: Tensor<Double> = randomTensor([4, 3, 1, 3, 3], &rng)
        let out = try PatchGather(geometry: g)(patches, indices: indices, videoShape: [2, 1, 6, 6], implementation: .reference)
        let adjoint = try PatchScatter(geometry: g).backward(patchGradient: patches, indices: indices, videoShape: [2, 1, 6, 6],
                                                             implementation: .reference)
        expectAllClose(out.video, adjoint, relative: 1e-15, "gather with unit weights = scatter backward")
        let counts = try PatchGather(geometry: g)(Tensor<Double>(repeating: 1, shape: [4, 3, 1, 3, 3]), indices: indices,
                                                  videoShape: [2, 1, 6, 6], implementation: .reference)
        expectSame(counts.video, out.weightSum, "weight sum = gather of ones")
        // Nil weights give no weight gradient.
        let back = try PatchGather(geometry: g).backward(videoGradient: out.video, patches: patches, indices: indices,
                                                         implementation: .reference)
        #expect(back.weights == nil)
    }

    @Test("Hand example: one 3 × 3 patch at a corner with reflection")
    func cornerExample() throws {
        // Patch at (0, 0, 0) of a 4 × 4 frame, centred, reflect: rows {−1, 0, 1} → {1, 0, 1}.
        let g = PatchGeometry(patchSize: 3, border: .reflect)
        let patch = makeTensor([1, 1, 1, 3, 3], (1...9).map(Double.init))
        let indices = neighbourTensor([[[Position(t: 0, h: 0, w: 0)]]], batched: false)
        let out = try PatchGather(geometry: g)(patch, weights: makeTensor([1, 1], [2.0]), indices: indices,
                                               videoShape: [1, 1, 4, 4], implementation: .reference)
        // Entry (a, b) lands at (|a − 1|, |b − 1|): pixel (1, 1) gets entries 1, 3, 7, 9; (0, 1) gets 4, 6; …
        let expected: [[Double]] = [
            [5, 4 + 6, 0, 0],
            [2 + 8, 1 + 3 + 7 + 9, 0, 0],
            [0, 0, 0, 0],
            [0, 0, 0, 0],
        ]
        let counts: [[Double]] = [[1, 2, 0, 0], [2, 4, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
        #expect(out.video.scalars == expected.flatMap { $0.map { 2 * $0 } })
        #expect(out.weightSum.scalars == counts.flatMap { $0.map { 2 * $0 } })
        // Zero border drops the outside entries instead.
        let zero = try PatchGather(geometry: PatchGeometry(patchSize: 3, border: .zero))(
            patch, indices: indices, videoShape: [1, 1, 4, 4], implementation: .reference)
        #expect(zero.video.scalars == [5, 6, 0, 0, 8, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(zero.weightSum.scalars == [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test("Accumulating batches of queries equals one call")
    func accumulateBatches() throws {
        var rng = SplitMix64(seed: 520)
        let g = PatchGeometry(patchSize: 3, dilation: 2, border: .reflect)
        let neighbours = randomNeighbours(batch: 1, queries: 9, k: 2, frames: 2, height: 8, width: 8, &rng)
        let patches: Tensor<Double> = randomTensor([9, 2, 2, 3, 3], &rng)
        let weights: Tensor<Double> = randomTensor([9, 2], &rng)
        let op = PatchGather(geometry: g)
        let whole = try op(patches, weights: weights, indices: neighbourTensor(neighbours, batched: false),
                           videoShape: [2, 2, 8, 8], implementation: .reference)
        var video = Tensor<Double>(zeros: [2, 2, 8, 8]), sum = Tensor<Double>(zeros: [2, 1, 8, 8])
        for range in [0..<4, 4..<5, 5..<9] {
            let part = neighbourTensor([Array(neighbours[0][range])], batched: false)
            let p = makeTensor([range.count, 2, 2, 3, 3], Array(patches.scalars[(range.lowerBound * 36)..<(range.upperBound * 36)]))
            let w = makeTensor([range.count, 2], Array(weights.scalars[(range.lowerBound * 2)..<(range.upperBound * 2)]))
            try op.accumulate(p, weights: w, indices: part, into: &video, weightSum: &sum, implementation: .reference)
        }
        expectAllClose(video, whole.video, relative: 1e-14, absolute: 1e-14, "video")
        expectAllClose(sum, whole.weightSum, relative: 1e-14, absolute: 1e-14, "weight sum")
    }

    /// loss = ⟨R, video⟩ + ⟨S, weightSum⟩, differentiated w.r.t. the weights and the patches.
    @Test("Backward matches central differences (weights and patches)", arguments: cases)
    func finiteDifferences(c: Case) throws {
        var rng = SplitMix64(seed: 530 + UInt64(c.ps * 3 + c.dilation))
        let g = PatchGeometry(patchSize: c.ps, dilation: c.dilation, anchor: c.anchor, border: c.border)
        let indices = neighbourTensor(randomNeighbours(batch: 1, queries: Self.Q, k: Self.K, frames: Self.T, height: Self.H,
                                                       width: Self.W, &rng), batched: false)
        let shape = [Self.T, Self.C, Self.H, Self.W]
        let patches: Tensor<Double> = randomTensor([Self.Q, Self.K, Self.C, c.ps, c.ps], &rng, -1, 1)
        let weights: Tensor<Double> = randomTensor([Self.Q, Self.K], &rng, -1, 1)
        let R: Tensor<Double> = randomTensor(shape, &rng, -1, 1)
        let S: Tensor<Double> = randomTensor([Self.T, 1, Self.H, Self.W], &rng, -1, 1)
        let op = PatchGather(geometry: g)
        let loss = { (p: Tensor<Double>, w: Tensor<Double>) throws -> Double in
            let out = try op(p, weights: w, indices: indices, videoShape: shape, implementation: .reference)
            return dot(doubles(out.video), doubles(R)) + dot(doubles(out.weightSum), doubles(S))
        }
        let back = try op.backward(videoGradient: R, weightSumGradient: S, patches: patches, weights: weights, indices: indices,
                                   implementation: .reference)
        let gw = try #require(back.weights)
        #expect(gw.shape == weights.shape)
        #expect(back.patches.shape == patches.shape)
        let numericWeights = try centralDifferences(doubles(weights)) { try loss(patches, withScalars(weights, $0)) }
        expectGradient(doubles(gw), numericWeights, "∂/∂weights \(c.testDescription)")
        try expectGradientMatchesFiniteDifferences(doubles(patches), gradient: doubles(back.patches),
                                                   coordinates: sampleCoordinates(patches.shape, count: 60, &rng), &rng,
                                                   "∂/∂patches \(c.testDescription)") {
            try loss(withScalars(patches, $0), weights)
        }
    }
}
