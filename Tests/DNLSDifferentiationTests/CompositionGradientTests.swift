import _Differentiation
import DNLS
import DNLSConformance
import DNLSDifferentiation
import Testing

/// Gradients through whole pipelines: the non-local means of a search, against finite
/// differences in Double on the reference backend; the fast CPU backend and (where a GPU is
/// present) CUDA against the Double reference; cotangents that accumulate when one video feeds
/// several operations.
@Suite struct CompositionGradientTests {
    /// search → softmax(−d / h) → wpsum → fold → normalise by the patch count → MSE.
    struct NonLocalMeans {
        let search: PreparedSearch<Double>
        let wpsum: PreparedWeightedPatchSum<Double>
        let fold: PreparedFold<Double>
        let count: Tensor<Double>, target: Tensor<Double>
        let h: Double

        init(shape: [Int], k: Int?, target: Tensor<Double>) throws {
            let geometry = PatchGeometry(patchSize: 3)
            let (T, H, W) = (shape[1], shape[3], shape[4])
            // Queries one pixel in from the sides: the 3 × 3 window never leaves the frame and
            // the 3 × 3 patches still cover every pixel.
            let grid = try QueryGrid(region: Region(frames: 0..<T, rows: 1..<H - 1, columns: 1..<W - 1))
            let probe = Tensor<Double>(zeros: shape)
            search = try PatchSearch(geometry: geometry, window: SearchWindow(size: 3, temporalRadius: 1), k: k)
                .prepared(for: probe, queries: .grid(grid), implementation: .reference)
            wpsum = try WeightedPatchSum(geometry: geometry).prepared(for: Double.self, videoShape: shape,
                                                                      implementation: .reference)
            fold = try PatchFold(geometry: geometry).prepared(for: Double.self, videoShape: shape, grid: grid,
                                                              implementation: .reference)
            count = try PatchFold(geometry: geometry)(Tensor(repeating: 1, shape: [shape[0], grid.count, 1, shape[2], 3, 3]),
                                                      grid: grid, videoShape: shape, implementation: .reference)
            self.target = target
            h = 0.5
        }

        @differentiable(reverse)
        func loss(_ video: Tensor<Double>) -> Tensor<Double> {
            let found = search(video)
            let weights = found.distances.scaled(by: -1 / h).softmax()
            let estimate = fold(wpsum(video, weights: weights, indices: found.indices)) / count
            return meanSquaredError(predicted: estimate, expected: target)
        }
    }

    @Test(arguments: [Optional(5), nil])
    func nonLocalMeansAgainstFiniteDifferences(k: Int?) throws {
        var rng = SplitMix64(seed: 21)
        let shape = [1, 3, 2, 6, 7]
        let clean = random(shape, &rng, 0, 1)
        let noisy = clean + random(shape, &rng, -0.3, 0.3)
        let pipeline = try NonLocalMeans(shape: shape, k: k, target: clean)
        #expect(pipeline.count.scalars.allSatisfy { $0 > 0 }, "every pixel is covered by a patch")
        let problems = gradientProblems(at: noisy, probes: 20, tolerance: 1e-5) { pipeline.loss($0).sum() }
        #expect(problems.isEmpty, "\(problems.prefix(5).joined(separator: "\n"))")
    }

    @Test func learnedWeightingOnTheFastBackendMatchesTheReference() {
        let problems = ConformanceSuite.checkDifferentiation(.cpu)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    static let cudaUnavailable: String? = {
        do { try Device.cuda(0).checkAvailable(); return nil } catch { return "\(error)" }
    }()

    @Test(.enabled(if: cudaUnavailable == nil, "no usable GPU here: \(cudaUnavailable ?? "")"))
    func learnedWeightingOnTheGPUMatchesTheReference() {
        let problems = ConformanceSuite.checkDifferentiation(.cuda(0))
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test(.enabled(if: cudaUnavailable == nil, "no usable GPU here: \(cudaUnavailable ?? "")"))
    func tensorMathOnTheGPUMatchesTheCPU() {
        let problems = ConformanceSuite.checkTensorMath(.cuda(0))
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test func tensorMathCheckPassesOnTheCPUItself() {
        // The check compares a device with the CPU; on the CPU itself it must find nothing.
        #expect(ConformanceSuite.checkTensorMath(.cpu).isEmpty)
    }

    @Test func cotangentsAccumulateWhenOneVideoFeedsSeveralOperations() throws {
        var rng = SplitMix64(seed: 22)
        let shape = [2, 2, 2, 6, 6]
        let video = random(shape, &rng)
        let geometry = PatchGeometry(patchSize: 3)
        let grid = try QueryGrid(region: .whole(frames: 2, height: 6, width: 6), stride: 2)
        let unfold = try PatchUnfold(geometry: geometry).prepared(for: Double.self, videoShape: shape, grid: grid,
                                                                  implementation: .reference)
        let scatter = try PatchScatter(geometry: geometry).prepared(for: Double.self, videoShape: shape,
                                                                    implementation: .reference)
        let search = try PatchSearch(geometry: geometry, window: SearchWindow(size: 3, temporalRadius: 1), k: 3)
            .prepared(for: video, queries: .grid(grid), implementation: .reference)
        let indices = search(video).indices
        let r1 = random(unfold(video).shape, &rng), r2 = random(scatter(video, indices: indices).shape, &rng)

        let first = gradient(at: video) { (unfold($0) * r1).sum() }
        let second = gradient(at: video) { (scatter($0, indices: indices) * r2).sum() }
        let third = gradient(at: video) { $0.scaled(by: 3).sum() }
        let both = gradient(at: video) { v in
            (unfold(v) * r1).sum() + (scatter(v, indices: indices) * r2).sum() + v.scaled(by: 3).sum()
        }
        let sum = zip(zip(first.scalars, second.scalars), third.scalars).map { $0.0 + $0.1 + $1 }
        #expect(zip(both.scalars, sum).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($1)) })
        expectGradient("video used three times", at: video) { v in
            (unfold(v) * r1).sum() + (scatter(v, indices: indices) * r2).sum() + v.scaled(by: 3).sum()
        }

        // A self-search is a search of the video in itself: its gradient is the sum of the
        // gradients w.r.t. the query video and the keys of the same search with keys = video.
        let selfGradient = gradient(at: video) { search($0).distances.sum() }
        let (asVideo, asKeys) = gradient(at: video, video) { v, k in search(v, keys: k).distances.sum() }
        #expect(zip(selfGradient.scalars, zip(asVideo.scalars, asKeys.scalars))
            .allSatisfy { abs($0 - ($1.0 + $1.1)) <= 1e-12 * max(1, abs($0)) })
    }

    @Test func gradientsAreBitwiseReproducible() throws {
        var rng = SplitMix64(seed: 23)
        let shape = [1, 3, 2, 6, 7]
        let clean = random(shape, &rng, 0, 1), noisy = clean + random(shape, &rng, -0.3, 0.3)
        let pipeline = try NonLocalMeans(shape: shape, k: 4, target: clean)
        let a = valueWithGradient(at: noisy, of: pipeline.loss), b = valueWithGradient(at: noisy, of: pipeline.loss)
        #expect(a.value == b.value && a.gradient == b.gradient)
    }
}
