import DNLS
import DNLSTestSupport
import Testing

/// The fast CPU backend against the reference, through the public API, on a randomized sweep of
/// parameters (Float, random inputs so there are no ties). Search top-K is compared robustly: the
/// fast backend may sum in another order, so its distances are checked after sorting and every
/// neighbour it returns is looked up in the reference's whole-window table.
@Suite("Fast versus reference")
struct FastVersusReferenceTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var seed: UInt64
        var ps = 3, dilation = 1, ws = 3, windowStride = 1, wt = 0
        var k: Int? = 4
        var metric = SearchMetric.l2, border = Border.reflect, anchor = PatchAnchor.center
        var batch: Int? = nil
        var C = 1, T = 2, H = 8, W = 8
        var flows = false
        var grid: Bool = true
        var queryStride = 1
        var limit: Int? = nil

        init(seed: UInt64) {
            self.seed = seed
            var rng = SplitMix64(seed: 0xFA57 &+ seed)
            ps = rng.pick([1, 2, 3, 5, 7])
            dilation = rng.pick([1, 2])
            ws = rng.pick([1, 3, 5, 8])
            windowStride = rng.pick([1, 2])
            wt = rng.pick([0, 1, 2])
            k = rng.pick([1, 4, nil])
            metric = rng.pick(SearchMetric.allCases)
            border = rng.pick(Border.allCases)
            anchor = rng.pick(PatchAnchor.allCases)
            batch = rng.pick([nil, 1, 2])
            C = rng.pick([1, 3])
            limit = C == 3 && rng.chance(0.3) ? rng.pick([1, 2]) : nil
            T = rng.int(1...4)
            let span = (ps - 1) * dilation + 1
            H = rng.int(max(span, 4)...max(span, 14))
            W = rng.int(max(span, 4)...16)
            flows = rng.chance(0.5)
            grid = rng.chance(0.6)
            queryStride = rng.int(1...4)
            let candidates = min(2 * wt + 1, T) * ws * ws
            if let kk = k { k = min(kk, candidates) }
        }

        var testDescription: String {
            "#\(seed): ps \(ps) dil \(dilation) \(anchor) \(border) ws \(ws)/\(windowStride) wt \(wt) "
                + "k \(k.map(String.init) ?? "nil") \(metric) B \(batch.map(String.init) ?? "-") C \(C)"
                + (limit.map { "/\($0)" } ?? "") + " \(T)×\(H)×\(W)" + (flows ? " flows" : "")
                + (grid ? " grid/\(queryStride)" : " positions")
        }
    }

    static let cases = (0..<100).map { Case(seed: UInt64($0)) }

    @Test("The sweep covers every parameter value")
    func coverage() {
        let c = Self.cases
        #expect(Set(c.map(\.ps)) == [1, 2, 3, 5, 7])
        #expect(Set(c.map(\.dilation)) == [1, 2])
        #expect(Set(c.map(\.ws)) == [1, 3, 5, 8])
        #expect(Set(c.map(\.windowStride)) == [1, 2])
        #expect(Set(c.map(\.wt)) == [0, 1, 2])
        #expect(c.contains { $0.k == nil } && c.contains { $0.k == 1 } && c.contains { $0.k == 4 })
        #expect(Set(c.map(\.metric)).count == 2 && Set(c.map(\.border)).count == 2 && Set(c.map(\.anchor)).count == 2)
        #expect(c.contains { $0.batch == 2 } && c.contains { $0.batch == nil } && Set(c.map(\.C)) == [1, 3])
        #expect(c.contains { $0.flows } && c.contains { !$0.flows } && c.contains { $0.grid } && c.contains { !$0.grid })
        #expect(c.contains { $0.grid && $0.queryStride > 1 } && c.contains { $0.limit != nil })
    }

    /// Closeness for Float results of different summation orders.
    static func close(_ fast: Tensor<Float>, _ reference: Tensor<Float>, _ what: String,
                      sourceLocation: SourceLocation = #_sourceLocation) {
        let scale = max(1, reference.scalars.lazy.filter(\.isFinite).map { abs(Double($0)) }.max() ?? 0)
        expectAllClose(fast, reference, relative: 1e-4, absolute: 1e-5 * scale, what, sourceLocation: sourceLocation)
    }

    @Test("Every operation, forward and backward", arguments: cases)
    func sweep(c: Case) throws {
        var rng = SplitMix64(seed: 0x5EED &+ c.seed)
        let B = c.batch ?? 1
        let shape = videoShape(batch: c.batch, c.T, c.C, c.H, c.W)
        let lead = c.batch.map { [$0] } ?? []
        let video: Tensor<Float> = randomTensor(shape, &rng)
        let keys: Tensor<Float>? = rng.chance(0.5) ? randomTensor(shape, &rng) : nil
        var flows = Flows<Float>.none
        if c.flows {
            let fshape = videoShape(batch: c.batch, c.T, 2, c.H, c.W)
            flows = Flows(forward: randomTensor(fshape, &rng, -2.5, 2.5), backward: rng.chance(0.8) ? randomTensor(fshape, &rng, -2.5, 2.5) : nil)
        }
        let g = PatchGeometry(patchSize: c.ps, dilation: c.dilation, anchor: c.anchor, border: c.border)
        let window = SearchWindow(size: c.ws, stride: c.windowStride, temporalRadius: c.wt)

        // Queries: a grid batch over a region that may touch the borders, or explicit positions.
        let top = rng.int(0..<(c.H / 2)), left = rng.int(0..<(c.W / 2))
        let region = Region(frames: rng.int(0..<c.T)..<c.T, rows: top..<rng.int((top + 1)...c.H),
                            columns: left..<rng.int((left + 1)...c.W))
        let grid = try QueryGrid(region: region, stride: c.queryStride)
        let start = rng.int(0..<grid.count)
        let batch = start..<min(grid.count, start + 20)
        let queries: Queries
        if c.grid {
            queries = .grid(grid, batch: batch)
        } else {
            let list = (0..<B).map { _ in
                (0..<12).map { _ in Position(t: rng.int(0..<c.T), h: nearBorder(c.H, &rng), w: nearBorder(c.W, &rng)) }
            }
            queries = .positions(positionTensor(list, batched: c.batch != nil))
        }

        // MARK: search forward
        let search = PatchSearch(geometry: g, window: window, k: c.k, metric: c.metric, channels: c.limit)
        let fast = try search(video, keys: keys, queries: queries, flows: flows, implementation: .fast)
        let reference = try search(video, keys: keys, queries: queries, flows: flows, implementation: .reference)
        #expect(fast.distances.shape == reference.distances.shape)
        #expect(fast.indices.shape == reference.indices.shape)
        let distanceScale = Double(c.ps * c.ps * (c.limit ?? c.C))
        // Sums of up to ps² · C terms in two orders: relative 1e-4, not below 1e-5 per term summed.
        let tolerance = Tolerance(relative: 1e-4, scale: 0.1 * distanceScale)
        var table: SearchResult<Float>?
        if c.k != nil {
            let whole = PatchSearch(geometry: g, window: window, k: nil, metric: c.metric, channels: c.limit)
            table = try whole(video, keys: keys, queries: queries, flows: flows, implementation: .reference)
        }
        let mismatch = try searchMismatch(fast, reference, wholeWindow: table, metric: c.metric, tolerance: tolerance)
        #expect(mismatch == nil, "\(mismatch ?? "")")

        // MARK: search backward (same indices for both backends)
        let upstream: Tensor<Float> = randomTensor(reference.distances.shape, &rng, -1, 1)
        let gradFast = try search.backward(distanceGradient: upstream, indices: reference.indices, video: video, keys: keys,
                                           queries: queries, implementation: .fast)
        let gradReference = try search.backward(distanceGradient: upstream, indices: reference.indices, video: video, keys: keys,
                                                queries: queries, implementation: .reference)
        Self.close(gradFast.video, gradReference.video, "search backward, video")
        #expect((gradFast.keys == nil) == (gradReference.keys == nil))
        if let a = gradFast.keys, let b = gradReference.keys { Self.close(a, b, "search backward, keys") }

        // MARK: scatter / gather / wpsum on random neighbours with empty slots
        let K = c.k ?? 3, Q = 7
        let indices = neighbourTensor(randomNeighbours(batch: B, queries: Q, k: K, frames: c.T, height: c.H, width: c.W, &rng),
                                      batched: c.batch != nil)
        let scatter = PatchScatter(geometry: g)
        let patches = try scatter(video, indices: indices, implementation: .reference)
        Self.close(try scatter(video, indices: indices, implementation: .fast), patches, "scatter")
        let patchGradient: Tensor<Float> = randomTensor(patches.shape, &rng, -1, 1)
        Self.close(try scatter.backward(patchGradient: patchGradient, indices: indices, videoShape: shape, implementation: .fast),
                   try scatter.backward(patchGradient: patchGradient, indices: indices, videoShape: shape, implementation: .reference),
                   "scatter backward")

        let gather = PatchGather(geometry: g)
        let weights: Tensor<Float> = randomTensor(lead + [Q, K], &rng, 0.1, 1)
        let useWeights = rng.chance(0.7) ? weights : nil
        let gf = try gather(patchGradient, weights: useWeights, indices: indices, videoShape: shape, implementation: .fast)
        let gr = try gather(patchGradient, weights: useWeights, indices: indices, videoShape: shape, implementation: .reference)
        Self.close(gf.video, gr.video, "gather video")
        Self.close(gf.weightSum, gr.weightSum, "gather weight sum")
        let videoGradient: Tensor<Float> = randomTensor(shape, &rng, -1, 1)
        let sumGradient: Tensor<Float> = randomTensor(gr.weightSum.shape, &rng, -1, 1)
        let gbf = try gather.backward(videoGradient: videoGradient, weightSumGradient: sumGradient, patches: patchGradient,
                                      weights: useWeights, indices: indices, implementation: .fast)
        let gbr = try gather.backward(videoGradient: videoGradient, weightSumGradient: sumGradient, patches: patchGradient,
                                      weights: useWeights, indices: indices, implementation: .reference)
        Self.close(gbf.patches, gbr.patches, "gather backward, patches")
        #expect((gbf.weights == nil) == (gbr.weights == nil))
        if let a = gbf.weights, let b = gbr.weights { Self.close(a, b, "gather backward, weights") }

        let wpsum = WeightedPatchSum(geometry: g)
        let signed: Tensor<Float> = randomTensor(lead + [Q, K], &rng, -1, 1)
        let sums = try wpsum(video, weights: signed, indices: indices, implementation: .reference)
        Self.close(try wpsum(video, weights: signed, indices: indices, implementation: .fast), sums, "wpsum")
        let sumsGradient: Tensor<Float> = randomTensor(sums.shape, &rng, -1, 1)
        let wbf = try wpsum.backward(outputGradient: sumsGradient, video: video, weights: signed, indices: indices, implementation: .fast)
        let wbr = try wpsum.backward(outputGradient: sumsGradient, video: video, weights: signed, indices: indices,
                                     implementation: .reference)
        Self.close(wbf.video, wbr.video, "wpsum backward, video")
        Self.close(wbf.weights, wbr.weights, "wpsum backward, weights")

        // MARK: iunfold / ifold on the grid batch
        let unfold = PatchUnfold(geometry: g), fold = PatchFold(geometry: g)
        let unfolded = try unfold(video, grid: grid, batch: batch, implementation: .reference)
        Self.close(try unfold(video, grid: grid, batch: batch, implementation: .fast), unfolded, "iunfold")
        let foldInput: Tensor<Float> = randomTensor(unfolded.shape, &rng, -1, 1)
        Self.close(try fold(foldInput, grid: grid, batch: batch, videoShape: shape, implementation: .fast),
                   try fold(foldInput, grid: grid, batch: batch, videoShape: shape, implementation: .reference), "ifold")
        Self.close(try unfold.backward(patchGradient: foldInput, grid: grid, batch: batch, videoShape: shape, implementation: .fast),
                   try unfold.backward(patchGradient: foldInput, grid: grid, batch: batch, videoShape: shape,
                                       implementation: .reference), "iunfold backward")
        Self.close(try fold.backward(videoGradient: videoGradient, grid: grid, batch: batch, implementation: .fast),
                   try fold.backward(videoGradient: videoGradient, grid: grid, batch: batch, implementation: .reference),
                   "ifold backward")
        var accumulatedFast = videoGradient, accumulatedReference = videoGradient
        try fold.accumulate(foldInput, grid: grid, batch: batch, into: &accumulatedFast, implementation: .fast)
        try fold.accumulate(foldInput, grid: grid, batch: batch, into: &accumulatedReference, implementation: .reference)
        Self.close(accumulatedFast, accumulatedReference, "ifold accumulate")
    }
}
