import DNLS
import DNLSTestSupport
import Testing

/// Batched == unbatched: query batches of a grid concatenate (search, iunfold) or accumulate
/// (ifold) to the single call, and a B = 2 video equals two B = 1 calls.
@Suite("Batching")
struct BatchingTests {
    static let batches: [Range<Int>] = [0..<7, 7..<8, 8..<20, 20..<41, 41..<75]

    @Test("Search over grid batches concatenates to one call", arguments: [Implementation.reference, .fast],
          SearchMetric.allCases)
    func searchBatches(implementation: Implementation, metric: SearchMetric) throws {
        var rng = SplitMix64(seed: 700)
        let video: Tensor<Float> = randomTensor([3, 2, 10, 9], &rng)
        let keys: Tensor<Float> = randomTensor([3, 2, 10, 9], &rng)
        let grid = try QueryGrid(region: Region(frames: 0..<3, rows: 1..<10, columns: 0..<9), stride: 2)
        #expect(grid.count == 75)
        for k: Int? in [3, nil] {
            let search = PatchSearch(geometry: PatchGeometry(patchSize: 3), window: SearchWindow(size: 3, temporalRadius: 1),
                                     k: k, metric: metric)
            let whole = try search(video, keys: keys, queries: .grid(grid), implementation: implementation)
            var distances = [Float](), indices = [Int32]()
            for batch in Self.batches {
                let part = try search(video, keys: keys, queries: .grid(grid, batch: batch), implementation: implementation)
                #expect(part.distances.shape == [batch.count, whole.distances.shape[1]])
                distances += part.distances.scalars
                indices += part.indices.scalars
            }
            expectSame(indices, whole.indices.scalars, "indices")
            if implementation == .reference {
                expectSame(distances, whole.distances.scalars, "distances")
            } else {
                expectAllClose(distances.map(Double.init), doubles(whole.distances), relative: 1e-5, absolute: 1e-5)
            }
        }
    }

    @Test("iunfold over batches concatenates; ifold accumulated over batches equals one call",
          arguments: Border.allCases, [Implementation.reference, .fast])
    func foldBatches(border: Border, implementation: Implementation) throws {
        var rng = SplitMix64(seed: 710)
        let shape = [3, 2, 10, 9]
        let video: Tensor<Float> = randomTensor(shape, &rng)
        let g = PatchGeometry(patchSize: 4, dilation: 1, border: border)
        let grid = try QueryGrid(region: Region(frames: 0..<3, rows: 1..<10, columns: 0..<9), stride: 2)
        let unfold = PatchUnfold(geometry: g), fold = PatchFold(geometry: g)
        let whole = try unfold(video, grid: grid, implementation: implementation)
        var parts = [Float]()
        var folded = Tensor<Float>(zeros: shape)
        for batch in Self.batches {
            let p = try unfold(video, grid: grid, batch: batch, implementation: implementation)
            #expect(p.shape == [batch.count, 1, 2, 4, 4])
            parts += p.scalars
            try fold.accumulate(p, grid: grid, batch: batch, into: &folded, implementation: implementation)
        }
        expectSame(parts, whole.scalars, "concatenated iunfold batches")
        let foldedOnce = try fold(whole, grid: grid, videoShape: shape, implementation: implementation)
        expectAllClose(folded, foldedOnce, relative: 1e-5, absolute: 1e-6, "accumulated ifold")
        // The fold backward (an unfold) of a batch is the matching rows of the full one.
        let back = try fold.backward(videoGradient: video, grid: grid, batch: 8..<20, implementation: implementation)
        expectSame(back.scalars, Array(whole.scalars[(8 * 32)..<(20 * 32)]), "fold backward of a batch")
    }

    /// Splits item `b` out of a `(B, …)` tensor.
    static func item<S: TensorScalar>(_ t: Tensor<S>, _ b: Int) -> Tensor<S> {
        let per = t.count / t.shape[0]
        return makeTensor(Array(t.shape.dropFirst()), Array(t.scalars[(b * per)..<((b + 1) * per)]))
    }

    @Test("B = 2 equals two B = 1 calls, for every operation", arguments: [Implementation.reference, .fast])
    func twoItems(implementation: Implementation) throws {
        var rng = SplitMix64(seed: 720)
        let (T, C, H, W) = (3, 2, 8, 9)
        let video: Tensor<Float> = randomTensor([2, T, C, H, W], &rng)
        let keys: Tensor<Float> = randomTensor([2, T, C, H, W], &rng)
        let fflow: Tensor<Float> = randomTensor([2, T, 2, H, W], &rng, -2, 2)
        let bflow: Tensor<Float> = randomTensor([2, T, 2, H, W], &rng, -2, 2)
        let g = PatchGeometry(patchSize: 3, dilation: 2, border: .reflect)
        let queries = (0..<2).map { _ in (0..<6).map { _ in Position(t: rng.int(0..<T), h: nearBorder(H, &rng), w: nearBorder(W, &rng)) } }
        let search = PatchSearch(geometry: g, window: SearchWindow(size: 3, temporalRadius: 1), k: 4)
        let r = try search(video, keys: keys, queries: .positions(positionTensor(queries, batched: true)),
                           flows: Flows(forward: fflow, backward: bflow), implementation: implementation)
        let upstream: Tensor<Float> = randomTensor(r.distances.shape, &rng, -1, 1)
        let grads = try search.backward(distanceGradient: upstream, indices: r.indices, video: video, keys: keys,
                                        queries: .positions(positionTensor(queries, batched: true)), implementation: implementation)
        let neighbours = randomNeighbours(batch: 2, queries: 5, k: 3, frames: T, height: H, width: W, &rng)
        let indices = neighbourTensor(neighbours, batched: true)
        let weights: Tensor<Float> = randomTensor([2, 5, 3], &rng)
        let patches = try PatchScatter(geometry: g)(video, indices: indices, implementation: implementation)
        let gathered = try PatchGather(geometry: g)(patches, weights: weights, indices: indices, videoShape: video.shape,
                                                    implementation: implementation)
        let sums = try WeightedPatchSum(geometry: g)(video, weights: weights, indices: indices, implementation: implementation)
        let grid = try QueryGrid(region: Region(frames: 1..<3, rows: 0..<8, columns: 2..<9), stride: 3)
        let unfolded = try PatchUnfold(geometry: g)(video, grid: grid, implementation: implementation)
        let folded = try PatchFold(geometry: g)(unfolded, grid: grid, videoShape: video.shape, implementation: implementation)

        // The reference is exact; the fast backend may tile or sum differently per batch size.
        func same<S: PatchScalar>(_ a: Tensor<S>, _ b: Tensor<S>, _ what: String) {
            if implementation == .reference { expectSame(a, b, what) } else { expectAllClose(a, b, relative: 1e-5, absolute: 1e-6, what) }
        }
        func same(_ a: Tensor<Int32>, _ b: Tensor<Int32>, _ what: String) { expectSame(a, b, what) }
        for b in 0..<2 {
            let v = Self.item(video, b), k = Self.item(keys, b)
            let q = positionTensor([queries[b]], batched: false)
            let rb = try search(v, keys: k, queries: .positions(q),
                                flows: Flows(forward: Self.item(fflow, b), backward: Self.item(bflow, b)), implementation: implementation)
            same(rb.indices, Self.item(r.indices, b), "search indices, item \(b)")
            same(rb.distances, Self.item(r.distances, b), "search distances, item \(b)")
            let gb = try search.backward(distanceGradient: Self.item(upstream, b), indices: rb.indices, video: v, keys: k,
                                         queries: .positions(q), implementation: implementation)
            same(gb.video, Self.item(grads.video, b), "search video gradient, item \(b)")
            same(gb.keys!, Self.item(grads.keys!, b), "search keys gradient, item \(b)")
            let ib = neighbourTensor([neighbours[b]], batched: false)
            let pb = try PatchScatter(geometry: g)(v, indices: ib, implementation: implementation)
            same(pb, Self.item(patches, b), "scatter, item \(b)")
            let gab = try PatchGather(geometry: g)(pb, weights: Self.item(weights, b), indices: ib, videoShape: v.shape,
                                                   implementation: implementation)
            same(gab.video, Self.item(gathered.video, b), "gather, item \(b)")
            same(gab.weightSum, Self.item(gathered.weightSum, b), "gather weight sum, item \(b)")
            let sb = try WeightedPatchSum(geometry: g)(v, weights: Self.item(weights, b), indices: ib, implementation: implementation)
            same(sb, Self.item(sums, b), "wpsum, item \(b)")
            let ub = try PatchUnfold(geometry: g)(v, grid: grid, implementation: implementation)
            same(ub, Self.item(unfolded, b), "iunfold, item \(b)")
            let fb = try PatchFold(geometry: g)(ub, grid: grid, videoShape: v.shape, implementation: implementation)
            same(fb, Self.item(folded, b), "ifold, item \(b)")
        }
    }
}
