import DNLS
import DNLSTestSupport
import Testing

/// The adjoint identity ⟨A x, y⟩ = ⟨x, Aᵀ y⟩ for every linear operation, in Double with the
/// reference backend, with random indices that include empty slots and positions near the borders.
@Suite("Adjoint identities")
struct AdjointTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var ps: Int, dilation: Int, anchor: PatchAnchor, border: Border, batch: Int?
        var testDescription: String {
            "ps \(ps) dil \(dilation) \(anchor) \(border)" + (batch.map { " B \($0)" } ?? "")
        }
    }

    static let cases: [Case] = {
        var list = [Case]()
        for border in Border.allCases {
            for anchor in PatchAnchor.allCases {
                for (ps, dilation) in [(1, 1), (2, 1), (3, 1), (4, 2), (3, 2), (5, 1)] {
                    list.append(Case(ps: ps, dilation: dilation, anchor: anchor, border: border,
                                     batch: ps == 3 && dilation == 1 ? 2 : nil))
                }
            }
        }
        return list
    }()

    static let (T, C, H, W, Q, K) = (3, 2, 7, 8, 6, 4)

    func geometry(_ c: Case) -> PatchGeometry {
        PatchGeometry(patchSize: c.ps, dilation: c.dilation, anchor: c.anchor, border: c.border)
    }

    func seed(_ c: Case, _ salt: UInt64) -> UInt64 {
        salt &* 1000 &+ UInt64(c.ps * 17 + c.dilation * 5 + (c.anchor == .center ? 1 : 0) + (c.border == .zero ? 2 : 0))
    }

    @Test("scatter: patches = E video", arguments: cases)
    func scatter(c: Case) throws {
        var rng = SplitMix64(seed: seed(c, 1))
        let B = c.batch ?? 1
        let shape = videoShape(batch: c.batch, Self.T, Self.C, Self.H, Self.W)
        let x: Tensor<Double> = randomTensor(shape, &rng, -1, 1)
        let indices = neighbourTensor(randomNeighbours(batch: B, queries: Self.Q, k: Self.K, frames: Self.T, height: Self.H,
                                                       width: Self.W, &rng), batched: c.batch != nil)
        let op = PatchScatter(geometry: geometry(c))
        let ax = try op(x, indices: indices, implementation: .reference)
        let y: Tensor<Double> = randomTensor(ax.shape, &rng, -1, 1)
        let aty = try op.backward(patchGradient: y, indices: indices, videoShape: shape, implementation: .reference)
        #expect(aty.shape == shape)
        expectAdjoint(ax: doubles(ax), y: doubles(y), x: doubles(x), aty: doubles(aty), c.testDescription)
    }

    @Test("gather: video = Σ w · patch, linear in the patches and in the weights", arguments: cases)
    func gather(c: Case) throws {
        var rng = SplitMix64(seed: seed(c, 2))
        let B = c.batch ?? 1
        let shape = videoShape(batch: c.batch, Self.T, Self.C, Self.H, Self.W)
        let lead = c.batch.map { [$0] } ?? []
        let indices = neighbourTensor(randomNeighbours(batch: B, queries: Self.Q, k: Self.K, frames: Self.T, height: Self.H,
                                                       width: Self.W, &rng), batched: c.batch != nil)
        let patches: Tensor<Double> = randomTensor(lead + [Self.Q, Self.K, Self.C, c.ps, c.ps], &rng, -1, 1)
        let weights: Tensor<Double> = randomTensor(lead + [Self.Q, Self.K], &rng, 0.1, 2)
        let op = PatchGather(geometry: geometry(c))
        // Linear in the patches for fixed weights.
        let out = try op(patches, weights: weights, indices: indices, videoShape: shape, implementation: .reference)
        let y: Tensor<Double> = randomTensor(shape, &rng, -1, 1)
        let s: Tensor<Double> = randomTensor(out.weightSum.shape, &rng, -1, 1)
        let back = try op.backward(videoGradient: y, patches: patches, weights: weights, indices: indices,
                                   implementation: .reference)
        expectAdjoint(ax: doubles(out.video), y: doubles(y), x: doubles(patches), aty: doubles(back.patches),
                      "patches → video, \(c.testDescription)")
        // Linear in the weights for fixed patches: w → (video, weightSum).
        let both = try op.backward(videoGradient: y, weightSumGradient: s, patches: patches, weights: weights,
                                   indices: indices, implementation: .reference)
        expectAdjoint(ax: doubles(out.video) + doubles(out.weightSum), y: doubles(y) + doubles(s), x: doubles(weights),
                      aty: doubles(both.weights!), "weights → (video, weightSum), \(c.testDescription)")
        // The weight-sum gradient does not change the patch gradient.
        expectSame(both.patches, back.patches, "patch gradient with and without the weight-sum gradient")
    }

    @Test("wpsum: linear in the video for fixed weights, and in the weights for a fixed video", arguments: cases)
    func weightedPatchSum(c: Case) throws {
        var rng = SplitMix64(seed: seed(c, 3))
        let B = c.batch ?? 1
        let shape = videoShape(batch: c.batch, Self.T, Self.C, Self.H, Self.W)
        let lead = c.batch.map { [$0] } ?? []
        let indices = neighbourTensor(randomNeighbours(batch: B, queries: Self.Q, k: Self.K, frames: Self.T, height: Self.H,
                                                       width: Self.W, &rng), batched: c.batch != nil)
        let x: Tensor<Double> = randomTensor(shape, &rng, -1, 1)
        let weights: Tensor<Double> = randomTensor(lead + [Self.Q, Self.K], &rng, -1, 1)
        let op = WeightedPatchSum(geometry: geometry(c))
        let ax = try op(x, weights: weights, indices: indices, implementation: .reference)
        #expect(ax.shape == lead + [Self.Q, 1, Self.C, c.ps, c.ps])
        let y: Tensor<Double> = randomTensor(ax.shape, &rng, -1, 1)
        let back = try op.backward(outputGradient: y, video: x, weights: weights, indices: indices, implementation: .reference)
        expectAdjoint(ax: doubles(ax), y: doubles(y), x: doubles(x), aty: doubles(back.video), "video, \(c.testDescription)")
        expectAdjoint(ax: doubles(ax), y: doubles(y), x: doubles(weights), aty: doubles(back.weights),
                      "weights, \(c.testDescription)")
    }

    static let regions: [Region] = [
        Region(frames: 0..<3, rows: 0..<7, columns: 0..<8),     // whole frame
        Region(frames: 1..<3, rows: 0..<4, columns: 3..<8),     // touching top and right
        Region(frames: 0..<2, rows: 2..<7, columns: 0..<5),     // touching bottom and left
        Region(frames: 1..<2, rows: 2..<5, columns: 2..<6),     // interior
    ]

    @Test("iunfold / ifold: unfold over a region and fold back", arguments: cases, [1, 2, 3])
    func unfoldFold(c: Case, stride: Int) throws {
        var rng = SplitMix64(seed: seed(c, 4) &+ UInt64(stride))
        let shape = videoShape(batch: c.batch, Self.T, Self.C, Self.H, Self.W)
        let g = geometry(c)
        for region in Self.regions {
            let grid = try QueryGrid(region: region, stride: stride)
            let batch = (grid.count / 4)..<grid.count
            let unfold = PatchUnfold(geometry: g), fold = PatchFold(geometry: g)
            let x: Tensor<Double> = randomTensor(shape, &rng, -1, 1)
            let ax = try unfold(x, grid: grid, batch: batch, implementation: .reference)
            let y: Tensor<Double> = randomTensor(ax.shape, &rng, -1, 1)
            let aty = try unfold.backward(patchGradient: y, grid: grid, batch: batch, videoShape: shape, implementation: .reference)
            expectAdjoint(ax: doubles(ax), y: doubles(y), x: doubles(x), aty: doubles(aty), "iunfold \(region) \(c.testDescription)")
            // ifold is the other direction: patches → video.
            let p: Tensor<Double> = randomTensor(ax.shape, &rng, -1, 1)
            let fp = try fold(p, grid: grid, batch: batch, videoShape: shape, implementation: .reference)
            let v: Tensor<Double> = randomTensor(shape, &rng, -1, 1)
            let ftv = try fold.backward(videoGradient: v, grid: grid, batch: batch, implementation: .reference)
            expectAdjoint(ax: doubles(fp), y: doubles(v), x: doubles(p), aty: doubles(ftv), "ifold \(region) \(c.testDescription)")
        }
    }

    @Test("Empty slots read zero patches and receive nothing")
    func emptySlots() throws {
        var rng = SplitMix64(seed: 9)
        let x: Tensor<Double> = randomTensor([2, 1, 5, 5], &rng)
        let indices = neighbourTensor([[[nil, Position(t: 1, h: 0, w: 4)], [nil, nil]]], batched: false)
        let op = PatchScatter(geometry: PatchGeometry(patchSize: 3))
        let p = try op(x, indices: indices, implementation: .reference)
        #expect(p.shape == [2, 2, 1, 3, 3])
        #expect(p.scalars[0..<9].allSatisfy { $0 == 0 })
        #expect(p.scalars[18..<36].allSatisfy { $0 == 0 })
        // Entry (1, 1) of the patch at (1, 0, 4) is the pixel itself.
        #expect(p.scalars[9 + 4] == x[1, 0, 0, 4])
        let onlyEmpty = neighbourTensor([[[nil, nil], [nil, nil]]], batched: false)
        let back = try op.backward(patchGradient: Tensor<Double>(repeating: 1, shape: [2, 2, 1, 3, 3]), indices: onlyEmpty,
                                   videoShape: [2, 1, 5, 5], implementation: .reference)
        #expect(back.scalars.allSatisfy { $0 == 0 })
    }
}
