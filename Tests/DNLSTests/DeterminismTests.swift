import DNLS
import DNLSTestSupport
import Testing

/// The fast backend is deterministic: the same inputs give bitwise-identical outputs on every run,
/// for the search and for every deposit-based (scatter-add) operation. `.automatic` is the fast
/// backend for Float, so it agrees bitwise too.
@Suite("Determinism")
struct DeterminismTests {
    static let (T, C, H, W) = (3, 3, 16, 18)

    struct Inputs {
        var video: Tensor<Float>, keys: Tensor<Float>
        var flows: Flows<Float>
        var grid: QueryGrid
        var indices: Tensor<Int32>
        var weights: Tensor<Float>
        var patches: Tensor<Float>
        var videoGradient: Tensor<Float>
    }

    static func inputs() throws -> Inputs {
        var rng = SplitMix64(seed: 900)
        let shape = [T, C, H, W]
        let video: Tensor<Float> = randomTensor(shape, &rng)
        let keys: Tensor<Float> = randomTensor(shape, &rng)
        let flows = Flows(forward: randomTensor([T, 2, H, W], &rng, -2, 2) as Tensor<Float>,
                          backward: randomTensor([T, 2, H, W], &rng, -2, 2) as Tensor<Float>)
        let grid = try QueryGrid(region: .whole(frames: T, height: H, width: W), stride: 2)
        // Many neighbours landing on the same pixels, so scatter-adds collide.
        let neighbours = randomNeighbours(batch: 1, queries: 300, k: 6, frames: T, height: H, width: W, empty: 0.05, &rng)
        let indices = neighbourTensor(neighbours, batched: false)
        let weights: Tensor<Float> = randomTensor([300, 6], &rng, -1, 1)
        let patches: Tensor<Float> = randomTensor([300, 6, C, 5, 5], &rng, -1, 1)
        let videoGradient: Tensor<Float> = randomTensor(shape, &rng, -1, 1)
        return Inputs(video: video, keys: keys, flows: flows, grid: grid, indices: indices, weights: weights, patches: patches,
                      videoGradient: videoGradient)
    }

    @Test("Search forward and backward are bitwise reproducible", arguments: [false, true], SearchMetric.allCases)
    func search(withFlows: Bool, metric: SearchMetric) throws {
        let x = try Self.inputs()
        let search = PatchSearch(geometry: PatchGeometry(patchSize: 5), window: SearchWindow(size: 7, temporalRadius: 1), k: 6,
                                 metric: metric)
        let flows = withFlows ? x.flows : .none
        var runs = [SearchResult<Float>]()
        var grads = [SearchGradients<Float>]()
        for implementation in [Implementation.fast, .fast, .automatic] {
            let r = try search(x.video, keys: x.keys, queries: .grid(x.grid), flows: flows, implementation: implementation)
            runs.append(r)
            var rng = SplitMix64(seed: 901)
            let upstream: Tensor<Float> = randomTensor(r.distances.shape, &rng, -1, 1)
            grads.append(try search.backward(distanceGradient: upstream, indices: runs[0].indices, video: x.video, keys: x.keys,
                                             queries: .grid(x.grid), implementation: implementation))
        }
        for i in 1..<runs.count {
            expectBitwiseEqual(runs[i].distances, runs[0].distances, "distances, run \(i)")
            expectSame(runs[i].indices, runs[0].indices, "indices, run \(i)")
            expectBitwiseEqual(grads[i].video, grads[0].video, "video gradient, run \(i)")
            expectBitwiseEqual(grads[i].keys!, grads[0].keys!, "keys gradient, run \(i)")
        }
        // Self-search backward too (both gradient parts summed into one).
        let r = try search(x.video, queries: .grid(x.grid), implementation: .fast)
        let g1 = try search.backward(distanceGradient: r.distances, indices: r.indices, video: x.video, queries: .grid(x.grid),
                                     implementation: .fast)
        let g2 = try search.backward(distanceGradient: r.distances, indices: r.indices, video: x.video, queries: .grid(x.grid),
                                     implementation: .fast)
        expectBitwiseEqual(g1.video, g2.video, "self-search gradient")
    }

    @Test("Deposit-based operations are bitwise reproducible")
    func deposits() throws {
        let x = try Self.inputs()
        let shape = x.video.shape
        let g = PatchGeometry(patchSize: 5, dilation: 1, border: .reflect)
        for implementation in [Implementation.fast, .automatic] {
            let a = try PatchScatter(geometry: g).backward(patchGradient: x.patches, indices: x.indices, videoShape: shape,
                                                           implementation: .fast)
            let b = try PatchScatter(geometry: g).backward(patchGradient: x.patches, indices: x.indices, videoShape: shape,
                                                           implementation: implementation)
            expectBitwiseEqual(a, b, "scatter backward")

            let ga = try PatchGather(geometry: g)(x.patches, weights: x.weights, indices: x.indices, videoShape: shape,
                                                  implementation: .fast)
            let gb = try PatchGather(geometry: g)(x.patches, weights: x.weights, indices: x.indices, videoShape: shape,
                                                  implementation: implementation)
            expectBitwiseEqual(ga.video, gb.video, "gather video")
            expectBitwiseEqual(ga.weightSum, gb.weightSum, "gather weight sum")
            let gba = try PatchGather(geometry: g).backward(videoGradient: x.videoGradient, weightSumGradient: ga.weightSum,
                                                            patches: x.patches, weights: x.weights, indices: x.indices,
                                                            implementation: .fast)
            let gbb = try PatchGather(geometry: g).backward(videoGradient: x.videoGradient, weightSumGradient: ga.weightSum,
                                                            patches: x.patches, weights: x.weights, indices: x.indices,
                                                            implementation: implementation)
            expectBitwiseEqual(gba.patches, gbb.patches, "gather backward, patches")
            expectBitwiseEqual(gba.weights!, gbb.weights!, "gather backward, weights")

            let wa = try WeightedPatchSum(geometry: g)(x.video, weights: x.weights, indices: x.indices, implementation: .fast)
            let wb = try WeightedPatchSum(geometry: g)(x.video, weights: x.weights, indices: x.indices, implementation: implementation)
            expectBitwiseEqual(wa, wb, "wpsum")
            var rng = SplitMix64(seed: 902)
            let upstream: Tensor<Float> = randomTensor(wa.shape, &rng, -1, 1)
            let wba = try WeightedPatchSum(geometry: g).backward(outputGradient: upstream, video: x.video, weights: x.weights,
                                                                 indices: x.indices, implementation: .fast)
            let wbb = try WeightedPatchSum(geometry: g).backward(outputGradient: upstream, video: x.video, weights: x.weights,
                                                                 indices: x.indices, implementation: implementation)
            expectBitwiseEqual(wba.video, wbb.video, "wpsum backward, video")
            expectBitwiseEqual(wba.weights, wbb.weights, "wpsum backward, weights")

            let unfolded = try PatchUnfold(geometry: g)(x.video, grid: x.grid, implementation: .fast)
            expectBitwiseEqual(unfolded, try PatchUnfold(geometry: g)(x.video, grid: x.grid, implementation: implementation), "iunfold")
            let fa = try PatchFold(geometry: g)(unfolded, grid: x.grid, videoShape: shape, implementation: .fast)
            let fb = try PatchFold(geometry: g)(unfolded, grid: x.grid, videoShape: shape, implementation: implementation)
            expectBitwiseEqual(fa, fb, "ifold")
            let ua = try PatchUnfold(geometry: g).backward(patchGradient: unfolded, grid: x.grid, videoShape: shape,
                                                           implementation: .fast)
            let ub = try PatchUnfold(geometry: g).backward(patchGradient: unfolded, grid: x.grid, videoShape: shape,
                                                           implementation: implementation)
            expectBitwiseEqual(ua, ub, "iunfold backward")
        }
    }
}
