import _Differentiation
import DNLS
import DNLSDifferentiation
import Testing

/// The prepared form of every operation against finite differences in Double on the reference
/// backend, with respect to each differentiated input.
@Suite struct OperationGradientTests {
    let geometry = PatchGeometry(patchSize: 3)
    let shape = [2, 3, 2, 7, 8]  // (B, T, C, H, W)

    /// Neighbours of a top-4 search on `video`: valid indices for the index-taking operations.
    func neighbours(_ video: Tensor<Double>) throws -> SearchResult<Double> {
        try PatchSearch(geometry: geometry, window: SearchWindow(size: 5, temporalRadius: 1), k: 4)(
            video, queries: .grid(try QueryGrid(region: .whole(frames: 3, height: 7, width: 8), stride: 2)),
            implementation: .reference)
    }

    @Test func search() throws {
        var rng = SplitMix64(seed: 11)
        let video = random([1, 3, 2, 7, 8], &rng), keys = random([1, 3, 2, 7, 8], &rng)
        // Queries two pixels in from the sides: the whole 5 × 5 window lies in the frame, so no
        // slot is empty (an empty slot's ±inf would make the difference quotients NaN).
        let grid = try QueryGrid(region: Region(frames: 0..<3, rows: 2..<5, columns: 2..<6), stride: 1)
        for (k, metric) in [(Optional(4), SearchMetric.l2), (nil, .l2), (5, .innerProduct)] {
            let prepared = try PatchSearch(geometry: geometry, window: SearchWindow(size: 5, temporalRadius: 1), k: k,
                                           metric: metric)
                .prepared(for: video, queries: .grid(grid), implementation: .reference)
            let distances = prepared(video).distances.scalars
            #expect(distances.allSatisfy { $0.isFinite })
            let name = "search k=\(k.map(String.init) ?? "nil") \(metric)"
            expectGradient("\(name): self-search", at: video, probes: 12) { prepared($0).distances.sum(alongAxis: 0) }
            expectGradient("\(name): w.r.t. the video", at: video, probes: 12) { prepared($0, keys: keys).distances }
            expectGradient("\(name): w.r.t. the keys", at: keys, probes: 12) { prepared(video, keys: $0).distances }
        }
    }

    @Test func searchWithFlowsAndChannels() throws {
        var rng = SplitMix64(seed: 12)
        let video = random(shape, &rng)
        let flows = Flows(forward: random([2, 3, 2, 7, 8], &rng, -1.5, 1.5), backward: random([2, 3, 2, 7, 8], &rng, -1.5, 1.5))
        let prepared = try PatchSearch(geometry: geometry, window: SearchWindow(size: 3, temporalRadius: 1), k: 3,
                                       channels: 1)
            .prepared(for: video, queries: .grid(try QueryGrid(region: .whole(frames: 3, height: 7, width: 8), stride: 3)),
                      flows: flows, implementation: .reference)
        expectGradient("search with flows, first channel only", at: video) { prepared($0).distances }
    }

    @Test func scatter() throws {
        var rng = SplitMix64(seed: 13)
        let video = random(shape, &rng), indices = try neighbours(video).indices
        let prepared = try PatchScatter(geometry: geometry).prepared(for: Double.self, videoShape: shape,
                                                                     implementation: .reference)
        expectGradient("scatter", at: video) { prepared($0, indices: indices) }
    }

    @Test func gather() throws {
        var rng = SplitMix64(seed: 14)
        let indices = try neighbours(random(shape, &rng)).indices
        let Q = indices.shape[1]
        let patches = random([2, Q, 4, 2, 3, 3], &rng), weights = random([2, Q, 4], &rng, 0.2, 1)
        let prepared = try PatchGather(geometry: geometry).prepared(for: Double.self, videoShape: shape,
                                                                    implementation: .reference)
        expectGradient("gather: video w.r.t. the patches", at: patches) { prepared($0, weights: weights, indices: indices).video }
        expectGradient("gather: video w.r.t. the weights", at: weights) { prepared(patches, weights: $0, indices: indices).video }
        expectGradient("gather: weight sum w.r.t. the weights", at: weights) {
            prepared(patches, weights: $0, indices: indices).weightSum
        }
        expectGradient("gather: both w.r.t. the weights", at: weights) {
            let out = prepared(patches, weights: $0, indices: indices)
            return out.video.sum() + out.weightSum.sum()
        }
        expectGradient("gather with unit weights", at: patches) { prepared($0, indices: indices).video }
        // Only the weight sum used: the patches get a zero gradient (a real one: the weight sum
        // does not depend on them), the weights a non-zero one.
        let (gp, gw) = gradient(at: patches, weights) { p, w in prepared(p, weights: w, indices: indices).weightSum.sum() }
        #expect(gp.scalars.allSatisfy { $0 == 0 } && gw.scalars.contains { $0 != 0 })
    }

    @Test func unfoldAndFold() throws {
        var rng = SplitMix64(seed: 15)
        let video = random(shape, &rng)
        let grid = try QueryGrid(region: Region(frames: 1..<3, rows: 0..<6, columns: 2..<8), stride: 2)
        let unfold = try PatchUnfold(geometry: geometry).prepared(for: Double.self, videoShape: shape, grid: grid,
                                                                  batch: 3..<14, implementation: .reference)
        let fold = try PatchFold(geometry: geometry).prepared(for: Double.self, videoShape: shape, grid: grid,
                                                              batch: 3..<14, implementation: .reference)
        expectGradient("unfold", at: video) { unfold($0) }
        let patches = random([2, 11, 1, 2, 3, 3], &rng)
        expectGradient("fold", at: patches) { fold($0) }
        expectGradient("fold ∘ unfold", at: video) { fold(unfold($0)) }
    }

    @Test func weightedPatchSum() throws {
        var rng = SplitMix64(seed: 16)
        let video = random(shape, &rng), indices = try neighbours(video).indices
        let weights = random([2, indices.shape[1], 4], &rng)
        let prepared = try WeightedPatchSum(geometry: geometry).prepared(for: Double.self, videoShape: shape,
                                                                         implementation: .reference)
        expectGradient("wpsum w.r.t. the video", at: video) { prepared($0, weights: weights, indices: indices) }
        expectGradient("wpsum w.r.t. the weights", at: weights) { prepared(video, weights: $0, indices: indices) }
    }

    @Test func preparationThrowsTheOperationsErrors() throws {
        let video = Tensor<Double>(zeros: [1, 2, 1, 4, 4])
        let grid = try QueryGrid(region: .whole(frames: 2, height: 4, width: 4))
        #expect(throws: DNLSError.self) {
            _ = try PatchSearch(geometry: geometry, window: SearchWindow(size: 9), k: 4).prepared(for: video, queries: .grid(grid))
        }
        #expect(throws: DNLSError.self) {
            _ = try PatchSearch(geometry: geometry, window: SearchWindow(size: 3), k: 40).prepared(for: video, queries: .grid(grid))
        }
        #expect(throws: DNLSError.self) {
            _ = try PatchUnfold(geometry: PatchGeometry(patchSize: 9)).prepared(for: Double.self, videoShape: [1, 2, 1, 4, 4],
                                                                              grid: grid)
        }
        #expect(throws: DNLSError.self) {
            _ = try PatchFold(geometry: geometry).prepared(for: Double.self, videoShape: [1, 2, 1, 4, 4], grid: grid,
                                                           batch: 0..<40)
        }
        #expect(throws: DNLSError.self) {
            _ = try PatchScatter(geometry: geometry).prepared(for: Double.self, videoShape: [4, 4])
        }
        // Double on a GPU is refused when prepared, not when differentiated.
        #expect(throws: DNLSError.self) {
            _ = try PatchGather(geometry: geometry).prepared(for: Double.self, videoShape: [1, 2, 1, 4, 4], on: .cuda(0))
        }
    }
}
