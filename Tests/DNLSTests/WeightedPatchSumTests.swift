import DNLS
import DNLSTestSupport
import Testing

/// wpsum: the weighted sum of each query's K patches, against independent loops and scatter, and
/// finite-difference checks of its backward (video and weights).
@Suite("Weighted patch sum")
struct WeightedPatchSumTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var ps: Int, dilation: Int, anchor: PatchAnchor, border: Border, batch: Int?
        var testDescription: String { "ps \(ps) dil \(dilation) \(anchor) \(border)" + (batch.map { " B \($0)" } ?? "") }
    }

    static let cases: [Case] = [
        Case(ps: 3, dilation: 1, anchor: .center, border: .reflect, batch: nil),
        Case(ps: 3, dilation: 1, anchor: .center, border: .zero, batch: 2),
        Case(ps: 4, dilation: 2, anchor: .center, border: .reflect, batch: nil),
        Case(ps: 2, dilation: 1, anchor: .topLeft, border: .zero, batch: nil),
        Case(ps: 5, dilation: 1, anchor: .topLeft, border: .reflect, batch: 2),
        Case(ps: 1, dilation: 1, anchor: .center, border: .reflect, batch: nil),
    ]

    static let (T, C, H, W, Q, K) = (3, 2, 7, 8, 5, 4)

    @Test("Forward equals Σ_m w_m · patch_m from an independent extraction, and scatter", arguments: cases)
    func forward(c: Case) throws {
        var rng = SplitMix64(seed: 600 + UInt64(c.ps * 3 + c.dilation))
        let B = c.batch ?? 1
        let lead = c.batch.map { [$0] } ?? []
        let g = PatchGeometry(patchSize: c.ps, dilation: c.dilation, anchor: c.anchor, border: c.border)
        let neighbours = randomNeighbours(batch: B, queries: Self.Q, k: Self.K, frames: Self.T, height: Self.H, width: Self.W, &rng)
        let indices = neighbourTensor(neighbours, batched: c.batch != nil)
        let video: Tensor<Double> = randomTensor(videoShape(batch: c.batch, Self.T, Self.C, Self.H, Self.W), &rng, -1, 1)
        let weights: Tensor<Double> = randomTensor(lead + [Self.Q, Self.K], &rng, -1, 1)
        let out = try WeightedPatchSum(geometry: g)(video, weights: weights, indices: indices, implementation: .reference)
        #expect(out.shape == lead + [Self.Q, 1, Self.C, c.ps, c.ps])
        let v = VideoView(video)
        let per = Self.C * c.ps * c.ps
        var expected = [Double](repeating: 0, count: B * Self.Q * per)
        for b in 0..<B {
            for q in 0..<Self.Q {
                for m in 0..<Self.K {
                    let patch = oraclePatch(v, b, neighbours[b][q][m], g)
                    let w = weights.scalars[(b * Self.Q + q) * Self.K + m]
                    for e in 0..<per { expected[(b * Self.Q + q) * per + e] += w * patch[e] }
                }
            }
        }
        expectAllClose(doubles(out), expected, relative: 1e-13, absolute: 1e-13, "wpsum vs oracle")
        // The same through scatter.
        let patches = try PatchScatter(geometry: g)(video, indices: indices, implementation: .reference)
        var viaScatter = [Double](repeating: 0, count: B * Self.Q * per)
        for i in 0..<(B * Self.Q * Self.K) {
            for e in 0..<per { viaScatter[(i / Self.K) * per + e] += weights.scalars[i] * patches.scalars[i * per + e] }
        }
        expectAllClose(doubles(out), viaScatter, relative: 1e-13, absolute: 1e-13, "wpsum vs scatter")
    }

    @Test("Empty slots contribute nothing, whatever their weight")
    func emptySlots() throws {
        var rng = SplitMix64(seed: 610)
        let video: Tensor<Double> = randomTensor([2, 1, 5, 5], &rng)
        let g = PatchGeometry(patchSize: 3)
        let p = Position(t: 1, h: 2, w: 3)
        let withEmpty = try WeightedPatchSum(geometry: g)(video, weights: makeTensor([1, 3], [0.5, 100, -7]),
                                                          indices: neighbourTensor([[[p, nil, nil]]], batched: false),
                                                          implementation: .reference)
        let alone = try WeightedPatchSum(geometry: g)(video, weights: makeTensor([1, 1], [0.5]),
                                                      indices: neighbourTensor([[[p]]], batched: false), implementation: .reference)
        expectSame(withEmpty, alone, "empty slots")
        let back = try WeightedPatchSum(geometry: g).backward(
            outputGradient: Tensor(repeating: 1, shape: [1, 1, 1, 3, 3]), video: video, weights: makeTensor([1, 3], [0.5, 100, -7]),
            indices: neighbourTensor([[[p, nil, nil]]], batched: false), implementation: .reference)
        #expect(back.weights.scalars[1] == 0)
        #expect(back.weights.scalars[2] == 0)
    }

    /// loss = ⟨R, wpsum(video, weights)⟩.
    @Test("Backward matches central differences (video and weights)", arguments: cases)
    func finiteDifferences(c: Case) throws {
        var rng = SplitMix64(seed: 620 + UInt64(c.ps * 3 + c.dilation))
        let B = c.batch ?? 1
        let lead = c.batch.map { [$0] } ?? []
        let g = PatchGeometry(patchSize: c.ps, dilation: c.dilation, anchor: c.anchor, border: c.border)
        let indices = neighbourTensor(randomNeighbours(batch: B, queries: Self.Q, k: Self.K, frames: Self.T, height: Self.H,
                                                       width: Self.W, &rng), batched: c.batch != nil)
        let video: Tensor<Double> = randomTensor(videoShape(batch: c.batch, Self.T, Self.C, Self.H, Self.W), &rng, -1, 1)
        let weights: Tensor<Double> = randomTensor(lead + [Self.Q, Self.K], &rng, -1, 1)
        let R: Tensor<Double> = randomTensor(lead + [Self.Q, 1, Self.C, c.ps, c.ps], &rng, -1, 1)
        let op = WeightedPatchSum(geometry: g)
        let loss = { (v: Tensor<Double>, w: Tensor<Double>) throws -> Double in
            dot(doubles(try op(v, weights: w, indices: indices, implementation: .reference)), doubles(R))
        }
        let back = try op.backward(outputGradient: R, video: video, weights: weights, indices: indices, implementation: .reference)
        #expect(back.video.shape == video.shape)
        #expect(back.weights.shape == weights.shape)
        try expectGradientMatchesFiniteDifferences(doubles(video), gradient: doubles(back.video),
                                                   coordinates: sampleCoordinates(video.shape, count: 60, &rng), &rng,
                                                   "∂/∂video \(c.testDescription)") {
            try loss(withScalars(video, $0), weights)
        }
        let numericWeights = try centralDifferences(doubles(weights)) { try loss(video, withScalars(weights, $0)) }
        expectGradient(doubles(back.weights), numericWeights, "∂/∂weights \(c.testDescription)")
    }

    @Test("wpsum → fold pipeline: one neighbour with weight 1 reproduces the unfold/fold round trip")
    func selfNeighbourPipeline() throws {
        var rng = SplitMix64(seed: 630)
        let g = PatchGeometry(patchSize: 3)
        let video: Tensor<Float> = randomTensor([2, 1, 6, 7], &rng, 0.5, 1.5)
        let grid = try QueryGrid(region: .whole(frames: 2, height: 6, width: 7), stride: 2)
        let positions = (0..<grid.count).map { [Optional(grid.position($0))] }
        let sums = try WeightedPatchSum(geometry: g)(video, weights: Tensor(repeating: 1, shape: [grid.count, 1]),
                                                     indices: neighbourTensor([positions], batched: false), implementation: .reference)
        let unfolded = try PatchUnfold(geometry: g)(video, grid: grid, implementation: .reference)
        expectSame(sums, unfolded, "wpsum of the query itself = unfold")
    }
}
