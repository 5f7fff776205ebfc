import DNLS
import DNLSTestSupport
import Testing

/// Every bad input throws the right `DNLSError` case naming the right argument; valid edge cases
/// (the empty marker (−1, −1, −1), k equal to the window) are accepted.
private let T = 2, C = 3, H = 8, W = 9

@Suite("Bad inputs")
struct BadInputTests {

    static var video: Tensor<Float> {
        var rng = SplitMix64(seed: 1)
        return randomTensor([T, C, H, W], &rng)
    }

    static var grid: QueryGrid { try! QueryGrid(region: .whole(frames: T, height: H, width: W), stride: 2) }

    static func search(ps: Int = 3, dilation: Int = 1, ws: Int = 3, stride: Int = 1, wt: Int = 1, k: Int? = 4,
                       channels: Int? = nil) -> PatchSearch {
        PatchSearch(geometry: PatchGeometry(patchSize: ps, dilation: dilation),
                    window: SearchWindow(size: ws, stride: stride, temporalRadius: wt), k: k, channels: channels)
    }

    // MARK: videos and keys

    @Test("Video of the wrong rank or with an empty axis")
    func videoShape() {
        let rank3 = Tensor<Float>(zeros: [C, H, W])
        let rank6 = Tensor<Float>(zeros: [1, 1, T, C, H, W])
        let empty = Tensor<Float>(zeros: [T, C, 0, W])
        for bad in [rank3, rank6, empty] {
            expectDNLSError(.shapeMismatch, argument: "video") { _ = try Self.search()(bad, queries: .grid(Self.grid)) }
            expectDNLSError(.shapeMismatch, argument: "video") {
                _ = try PatchScatter(geometry: PatchGeometry(patchSize: 3))(bad, indices: neighbourTensor([[[nil]]], batched: false))
            }
            expectDNLSError(.shapeMismatch, argument: "video") {
                _ = try PatchUnfold(geometry: PatchGeometry(patchSize: 3))(bad, grid: Self.grid)
            }
            expectDNLSError(.shapeMismatch, argument: "video") {
                _ = try WeightedPatchSum(geometry: PatchGeometry(patchSize: 3))(
                    bad, weights: Tensor(zeros: [1, 1]), indices: neighbourTensor([[[nil]]], batched: false))
            }
            expectDNLSError(.shapeMismatch, argument: "videoShape") {
                _ = try PatchFold(geometry: PatchGeometry(patchSize: 3))(Tensor<Float>(zeros: [1, 1, C, 3, 3]), grid: Self.grid,
                                                                         batch: 0..<1, videoShape: bad.shape)
            }
            expectDNLSError(.shapeMismatch, argument: "videoShape") {
                _ = try PatchGather(geometry: PatchGeometry(patchSize: 3))(Tensor<Float>(zeros: [1, 1, C, 3, 3]),
                                                                           indices: neighbourTensor([[[nil]]], batched: false),
                                                                           videoShape: bad.shape)
            }
            expectDNLSError(.shapeMismatch, argument: "videoShape") {
                _ = try PatchScatter(geometry: PatchGeometry(patchSize: 3)).backward(
                    patchGradient: Tensor<Float>(zeros: [1, 1, C, 3, 3]), indices: neighbourTensor([[[nil]]], batched: false),
                    videoShape: bad.shape)
            }
        }
    }

    @Test("Keys of another shape")
    func keysShape() {
        for keysShape in [[T, C, H, W + 1], [T + 1, C, H, W], [1, T, C, H, W], [T, 1, H, W]] {
            expectDNLSError(.shapeMismatch, argument: "keys") {
                _ = try Self.search()(Self.video, keys: Tensor(zeros: keysShape), queries: .grid(Self.grid))
            }
        }
    }

    // MARK: flows

    @Test("Flows of the wrong shape")
    func flowShape() {
        let good = Tensor<Float>(zeros: [T, 2, H, W])
        for bad in [[T, 2, H, W - 1], [T, 3, H, W], [T - 1, 2, H, W], [1, T, 2, H, W], [2, H, W]] {
            expectDNLSError(.shapeMismatch, argument: "flows.forward") {
                _ = try Self.search()(Self.video, queries: .grid(Self.grid), flows: Flows(forward: Tensor(zeros: bad), backward: good))
            }
            expectDNLSError(.shapeMismatch, argument: "flows.backward") {
                _ = try Self.search()(Self.video, queries: .grid(Self.grid), flows: Flows(forward: good, backward: Tensor(zeros: bad)))
            }
        }
        // A batched video needs batched flows with the same B.
        let batched = Tensor<Float>(zeros: [2, T, C, H, W])
        expectDNLSError(.shapeMismatch, argument: "flows.forward") {
            _ = try Self.search()(batched, queries: .grid(Self.grid), flows: Flows(forward: good))
        }
        expectDNLSError(.shapeMismatch, argument: "flows.forward") {
            _ = try Self.search()(batched, queries: .grid(Self.grid), flows: Flows(forward: Tensor(zeros: [3, T, 2, H, W])))
        }
    }

    @Test("Non-finite flows are rejected with their position")
    func flowNaN() throws {
        var forward = Tensor<Float>(zeros: [T, 2, H, W])
        forward[1, 0, 3, 4] = .nan
        let error = expectDNLSError(.nonFinite, argument: "flows.forward") {
            _ = try Self.search()(Self.video, queries: .grid(Self.grid), flows: Flows(forward: forward))
        }
        if case let .nonFinite(_, position) = error {
            #expect(position == [1, 0, 3, 4])
        }
        var backward = Tensor<Double>(zeros: [T, 2, H, W])
        backward[0, 1, 7, 8] = -.infinity
        let e2 = expectDNLSError(.nonFinite, argument: "flows.backward") {
            _ = try Self.search()(Self.video.converted(to: Double.self), queries: .grid(Self.grid),
                                  flows: Flows(backward: backward), implementation: .reference)
        }
        if case let .nonFinite(_, position) = e2 {
            #expect(position == [0, 1, 7, 8])
        }
    }

    // MARK: geometry and window

    @Test("Patch size, dilation and span")
    func geometry() {
        expectDNLSError(.invalidArgument, argument: "patchSize") { _ = try Self.search(ps: 0)(Self.video, queries: .grid(Self.grid)) }
        expectDNLSError(.invalidArgument, argument: "patchSize") { _ = try Self.search(ps: -2)(Self.video, queries: .grid(Self.grid)) }
        expectDNLSError(.invalidArgument, argument: "dilation") {
            _ = try Self.search(dilation: 0)(Self.video, queries: .grid(Self.grid))
        }
        // Span (ps − 1)·dil + 1 larger than the frame: 9 > H = 8 (W = 9 alone would fit).
        expectDNLSError(.invalidArgument, argument: "patchSize") { _ = try Self.search(ps: 9)(Self.video, queries: .grid(Self.grid)) }
        expectDNLSError(.invalidArgument, argument: "patchSize") {
            _ = try Self.search(ps: 5, dilation: 2)(Self.video, queries: .grid(Self.grid))
        }
        // The largest span that fits is accepted.
        #expect(throws: Never.self) { _ = try Self.search(ps: 8)(Self.video, queries: .grid(Self.grid, batch: 0..<2)) }
        let bad = PatchGeometry(patchSize: 0)
        expectDNLSError(.invalidArgument, argument: "patchSize") {
            _ = try PatchScatter(geometry: bad)(Self.video, indices: neighbourTensor([[[nil]]], batched: false))
        }
        expectDNLSError(.invalidArgument, argument: "patchSize") { _ = try PatchUnfold(geometry: bad)(Self.video, grid: Self.grid) }
        expectDNLSError(.invalidArgument, argument: "patchSize") {
            _ = try PatchFold(geometry: PatchGeometry(patchSize: 10))(Tensor<Float>(zeros: [1, 1, C, 10, 10]), grid: Self.grid,
                                                                      batch: 0..<1, videoShape: [T, C, H, W])
        }
        expectDNLSError(.invalidArgument, argument: "dilation") {
            _ = try WeightedPatchSum(geometry: PatchGeometry(patchSize: 3, dilation: 0))(
                Self.video, weights: Tensor(zeros: [1, 1]), indices: neighbourTensor([[[nil]]], batched: false))
        }
    }

    @Test("Window size, stride and temporal radius")
    func window() {
        expectDNLSError(.invalidArgument, argument: "window.size") { _ = try Self.search(ws: 0)(Self.video, queries: .grid(Self.grid)) }
        expectDNLSError(.invalidArgument, argument: "window.stride") {
            _ = try Self.search(stride: 0)(Self.video, queries: .grid(Self.grid))
        }
        expectDNLSError(.invalidArgument, argument: "window.temporalRadius") {
            _ = try Self.search(wt: -1)(Self.video, queries: .grid(Self.grid))
        }
    }

    @Test("k must be in 1…candidates or nil")
    func k() throws {
        expectDNLSError(.invalidArgument, argument: "k") { _ = try Self.search(k: 0)(Self.video, queries: .grid(Self.grid)) }
        expectDNLSError(.invalidArgument, argument: "k") { _ = try Self.search(k: -3)(Self.video, queries: .grid(Self.grid)) }
        // ws 3, wt 1, T = 2: 2 frames × 9 = 18 candidates.
        expectDNLSError(.invalidArgument, argument: "k") { _ = try Self.search(k: 19)(Self.video, queries: .grid(Self.grid)) }
        let all = try Self.search(k: 18)(Self.video, queries: .grid(Self.grid))
        #expect(all.distances.shape == [Self.grid.count, 18])
        let whole = try Self.search(k: nil)(Self.video, queries: .grid(Self.grid))
        #expect(whole.distances.shape == [Self.grid.count, 18])
    }

    @Test("channels must be in 1…C or nil")
    func channels() throws {
        expectDNLSError(.invalidArgument, argument: "channels") {
            _ = try Self.search(channels: 0)(Self.video, queries: .grid(Self.grid))
        }
        expectDNLSError(.invalidArgument, argument: "channels") {
            _ = try Self.search(channels: C + 1)(Self.video, queries: .grid(Self.grid))
        }
        _ = try Self.search(channels: C)(Self.video, queries: .grid(Self.grid, batch: 0..<1))
    }

    // MARK: queries, regions, batches

    @Test("Query positions outside the video, the empty marker, or of the wrong shape")
    func queryPositions() throws {
        for bad in [Position(t: T, h: 0, w: 0), Position(t: 0, h: H, w: 0), Position(t: 0, h: 0, w: -1),
                    Position(t: -1, h: -1, w: -1)] {
            expectDNLSError(.outOfRange, argument: "queries") {
                _ = try Self.search()(Self.video, queries: .positions(positionTensor([[Position(t: 0, h: 1, w: 1), bad]], batched: false)))
            }
        }
        expectDNLSError(.shapeMismatch, argument: "queries") {
            _ = try Self.search()(Self.video, queries: .positions(makeTensor([2, 2], [Int32](repeating: 0, count: 4))))
        }
        // Batched video: positions need the same B.
        let batched = Tensor<Float>(zeros: [2, T, C, H, W])
        expectDNLSError(.shapeMismatch, argument: "queries") {
            _ = try Self.search()(batched, queries: .positions(positionTensor([[Position(t: 0, h: 1, w: 1)]], batched: false)))
        }
        expectDNLSError(.shapeMismatch, argument: "queries") {
            _ = try Self.search()(batched, queries: .positions(positionTensor([[Position(t: 0, h: 1, w: 1)]], batched: true)))
        }
    }

    @Test("Grid regions and batches")
    func regions() throws {
        expectDNLSError(.invalidArgument, argument: "region") {
            _ = try QueryGrid(region: Region(frames: 0..<1, rows: 3..<3, columns: 0..<4))
        }
        expectDNLSError(.invalidArgument, argument: "region") {
            _ = try QueryGrid(region: Region(frames: 1..<1, rows: 0..<3, columns: 0..<4))
        }
        expectDNLSError(.invalidArgument, argument: "region") {
            _ = try QueryGrid(region: Region(frames: 0..<1, rows: 0..<3, columns: 5..<5), stride: 1,
                              fullPatchesOf: PatchGeometry(patchSize: 3))
        }
        expectDNLSError(.invalidArgument, argument: "stride") { _ = try QueryGrid(region: .whole(frames: 1, height: 4, width: 4), stride: 0) }
        expectDNLSError(.invalidArgument, argument: "geometry") {
            _ = try QueryGrid(region: .whole(frames: 1, height: 4, width: 4), stride: 1, fullPatchesOf: PatchGeometry(patchSize: 0))
        }
        let g = PatchGeometry(patchSize: 3)
        for region in [Region(frames: 0..<(T + 1), rows: 0..<4, columns: 0..<4),
                       Region(frames: 0..<1, rows: 0..<(H + 1), columns: 0..<4),
                       Region(frames: 0..<1, rows: 0..<4, columns: -1..<4)] {
            let outside = try QueryGrid(region: region)
            expectDNLSError(.outOfRange, argument: "grid.region") { _ = try PatchUnfold(geometry: g)(Self.video, grid: outside) }
            expectDNLSError(.outOfRange, argument: "grid.region") {
                _ = try PatchFold(geometry: g)(Tensor<Float>(zeros: [outside.count, 1, C, 3, 3]), grid: outside,
                                               videoShape: [T, C, H, W])
            }
            expectDNLSError(.outOfRange, argument: "grid.region") { _ = try Self.search()(Self.video, queries: .grid(outside)) }
        }
        let n = Self.grid.count
        for batch in [0..<(n + 1), n..<(n + 2), -1..<3] {
            expectDNLSError(.outOfRange, argument: "batch") { _ = try PatchUnfold(geometry: g)(Self.video, grid: Self.grid, batch: batch) }
            expectDNLSError(.outOfRange, argument: "batch") {
                _ = try PatchFold(geometry: g)(Tensor<Float>(zeros: [batch.count, 1, C, 3, 3]), grid: Self.grid, batch: batch,
                                               videoShape: [T, C, H, W])
            }
            expectDNLSError(.outOfRange, argument: "batch") { _ = try Self.search()(Self.video, queries: .grid(Self.grid, batch: batch)) }
        }
        // The last query and an empty batch are fine.
        _ = try PatchUnfold(geometry: g)(Self.video, grid: Self.grid, batch: (n - 1)..<n)
        let none = try PatchUnfold(geometry: g)(Self.video, grid: Self.grid, batch: n..<n)
        #expect(none.shape == [0, 1, C, 3, 3])
    }

    // MARK: indices

    @Test("Neighbour indices outside the video are rejected; the empty marker is accepted")
    func indices() throws {
        let g = PatchGeometry(patchSize: 3)
        let scatter = PatchScatter(geometry: g)
        for bad in [[Int32(T), 0, 0], [0, Int32(H), 0], [0, 0, Int32(W)], [0, -1, 0], [-1, 0, 0], [-1, -1, 0],
                    [-2, -2, -2]] {
            let indices = makeTensor([1, 2, 3], [0, 1, 1] + bad)
            expectDNLSError(.outOfRange, argument: "indices") { _ = try scatter(Self.video, indices: indices) }
            expectDNLSError(.outOfRange, argument: "indices") {
                _ = try scatter.backward(patchGradient: Tensor<Float>(zeros: [1, 2, C, 3, 3]), indices: indices, videoShape: [T, C, H, W])
            }
            expectDNLSError(.outOfRange, argument: "indices") {
                _ = try PatchGather(geometry: g)(Tensor<Float>(zeros: [1, 2, C, 3, 3]), indices: indices, videoShape: [T, C, H, W])
            }
            expectDNLSError(.outOfRange, argument: "indices") {
                _ = try WeightedPatchSum(geometry: g)(Self.video, weights: Tensor(zeros: [1, 2]), indices: indices)
            }
        }
        expectDNLSError(.shapeMismatch, argument: "indices") {
            _ = try scatter(Self.video, indices: makeTensor([1, 2, 2], [Int32](repeating: 0, count: 4)))
        }
        expectDNLSError(.shapeMismatch, argument: "indices") {
            _ = try scatter(Self.video, indices: makeTensor([2, 3], [Int32](repeating: 0, count: 6)))
        }
        // (−1, −1, −1) is the empty marker, accepted everywhere.
        let empty = makeTensor([1, 2, 3], [0, 1, 1, -1, -1, -1] as [Int32])
        let patches = try scatter(Self.video, indices: empty)
        #expect(patches.shape == [1, 2, C, 3, 3])
        _ = try scatter.backward(patchGradient: patches, indices: empty, videoShape: [T, C, H, W])
        _ = try PatchGather(geometry: g)(patches, weights: Tensor(repeating: 1, shape: [1, 2]), indices: empty, videoShape: [T, C, H, W])
        _ = try WeightedPatchSum(geometry: g)(Self.video, weights: Tensor(repeating: 1, shape: [1, 2]), indices: empty)
    }

    @Test("Search backward checks its gradient and indices")
    func searchBackward() throws {
        let search = Self.search()
        let r = try search(Self.video, queries: .grid(Self.grid))
        expectDNLSError(.shapeMismatch, argument: "distanceGradient") {
            _ = try search.backward(distanceGradient: Tensor(zeros: [Self.grid.count, 5]), indices: r.indices, video: Self.video,
                                    queries: .grid(Self.grid))
        }
        expectDNLSError(.shapeMismatch, argument: "indices") {
            _ = try search.backward(distanceGradient: r.distances, indices: makeTensor([Self.grid.count, 4, 2],
                                    [Int32](repeating: 0, count: Self.grid.count * 8)), video: Self.video, queries: .grid(Self.grid))
        }
        var scalars = r.indices.scalars
        scalars[1] = Int32(H)
        expectDNLSError(.outOfRange, argument: "indices") {
            _ = try search.backward(distanceGradient: r.distances, indices: makeTensor(r.indices.shape, scalars), video: Self.video,
                                    queries: .grid(Self.grid))
        }
        // Empty slots are fine.
        scalars[0] = -1; scalars[1] = -1; scalars[2] = -1
        _ = try search.backward(distanceGradient: r.distances, indices: makeTensor(r.indices.shape, scalars), video: Self.video,
                                queries: .grid(Self.grid))
        expectDNLSError(.shapeMismatch, argument: "keys") {
            _ = try search.backward(distanceGradient: r.distances, indices: r.indices, video: Self.video,
                                    keys: Tensor(zeros: [T, C, H, W + 1]), queries: .grid(Self.grid))
        }
    }

    // MARK: weights and patch tensors

    @Test("NaN weights are rejected by gather and wpsum")
    func nanWeights() {
        let g = PatchGeometry(patchSize: 3)
        let indices = neighbourTensor([[[Position(t: 0, h: 1, w: 1), Position(t: 1, h: 2, w: 2)]]], batched: false)
        let weights = makeTensor([1, 2], [0.5, Float.nan])
        let patches = Tensor<Float>(zeros: [1, 2, C, 3, 3])
        let gather = PatchGather(geometry: g)
        let e1 = expectDNLSError(.nonFinite, argument: "weights") {
            _ = try gather(patches, weights: weights, indices: indices, videoShape: [T, C, H, W])
        }
        if case let .nonFinite(_, position) = e1 { #expect(position == [0, 1]) }
        expectDNLSError(.nonFinite, argument: "weights") {
            var v = Tensor<Float>(zeros: [T, C, H, W]), s = Tensor<Float>(zeros: [T, 1, H, W])
            try gather.accumulate(patches, weights: weights, indices: indices, into: &v, weightSum: &s)
        }
        expectDNLSError(.nonFinite, argument: "weights") {
            _ = try gather.backward(videoGradient: Tensor(zeros: [T, C, H, W]), patches: patches, weights: weights, indices: indices)
        }
        expectDNLSError(.nonFinite, argument: "weights") {
            _ = try WeightedPatchSum(geometry: g)(Self.video, weights: makeTensor([1, 2], [Float.infinity, 1]), indices: indices)
        }
        expectDNLSError(.nonFinite, argument: "weights") {
            _ = try WeightedPatchSum(geometry: g).backward(outputGradient: Tensor(zeros: [1, 1, C, 3, 3]), video: Self.video,
                                                           weights: weights, indices: indices)
        }
    }

    @Test("Weights, patches and gradients of the wrong shape")
    func tensorShapes() {
        let g = PatchGeometry(patchSize: 3)
        let indices = neighbourTensor([[[Position(t: 0, h: 1, w: 1), nil]]], batched: false) // Q 1, K 2
        let patches = Tensor<Float>(zeros: [1, 2, C, 3, 3])
        let gather = PatchGather(geometry: g)
        for bad in [[1, 3, C, 3, 3], [1, 2, C + 1, 3, 3], [1, 2, C, 3, 4], [2, C, 3, 3]] {
            expectDNLSError(.shapeMismatch, argument: "patches") {
                _ = try gather(Tensor<Float>(zeros: bad), indices: indices, videoShape: [T, C, H, W])
            }
            expectDNLSError(.shapeMismatch, argument: "patchGradient") {
                _ = try PatchScatter(geometry: g).backward(patchGradient: Tensor<Float>(zeros: bad), indices: indices,
                                                           videoShape: [T, C, H, W])
            }
        }
        expectDNLSError(.shapeMismatch, argument: "weights") {
            _ = try gather(patches, weights: Tensor(zeros: [1, 3]), indices: indices, videoShape: [T, C, H, W])
        }
        expectDNLSError(.shapeMismatch, argument: "weightSum") {
            var v = Tensor<Float>(zeros: [T, C, H, W]), s = Tensor<Float>(zeros: [T, C, H, W])
            try gather.accumulate(patches, indices: indices, into: &v, weightSum: &s)
        }
        expectDNLSError(.shapeMismatch, argument: "weightSumGradient") {
            _ = try gather.backward(videoGradient: Tensor(zeros: [T, C, H, W]), weightSumGradient: Tensor(zeros: [T, C, H, W]),
                                    patches: patches, weights: Tensor(zeros: [1, 2]), indices: indices)
        }
        expectDNLSError(.shapeMismatch, argument: "videoGradient") {
            _ = try gather.backward(videoGradient: Tensor(zeros: [C, H, W]), patches: patches, indices: indices)
        }
        let wpsum = WeightedPatchSum(geometry: g)
        expectDNLSError(.shapeMismatch, argument: "weights") {
            _ = try wpsum(Self.video, weights: Tensor(zeros: [2, 2]), indices: indices)
        }
        expectDNLSError(.shapeMismatch, argument: "outputGradient") {
            _ = try wpsum.backward(outputGradient: Tensor(zeros: [1, 2, C, 3, 3]), video: Self.video,
                                   weights: Tensor(zeros: [1, 2]), indices: indices)
        }
    }

    @Test("Fold patch tensors of the wrong shape")
    func foldShapes() {
        let g = PatchGeometry(patchSize: 3)
        let fold = PatchFold(geometry: g)
        let batch = 2..<7
        for bad in [[5, 2, C, 3, 3], [4, 1, C, 3, 3], [5, 1, C - 1, 3, 3], [5, 1, C, 3, 2], [5, C, 3, 3],
                    [1, 5, 1, C, 3, 3]] {
            expectDNLSError(.shapeMismatch, argument: "patches") {
                _ = try fold(Tensor<Float>(zeros: bad), grid: Self.grid, batch: batch, videoShape: [T, C, H, W])
            }
            expectDNLSError(.shapeMismatch, argument: "patches") {
                var v = Tensor<Float>(zeros: [T, C, H, W])
                try fold.accumulate(Tensor<Float>(zeros: bad), grid: Self.grid, batch: batch, into: &v)
            }
        }
        expectDNLSError(.shapeMismatch, argument: "video") {
            var v = Tensor<Float>(zeros: [C, H, W])
            try fold.accumulate(Tensor<Float>(zeros: [5, 1, C, 3, 3]), grid: Self.grid, batch: batch, into: &v)
        }
    }

    /// The backward of an operation names its own parameters, not those of the forward it reuses.
    @Test("iunfold / ifold backward name their own arguments")
    func foldBackwardNames() {
        let g = PatchGeometry(patchSize: 3)
        expectDNLSError(.shapeMismatch, argument: "patchGradient") {
            _ = try PatchUnfold(geometry: g).backward(patchGradient: Tensor<Float>(zeros: [4, 1, C, 3, 3]), grid: Self.grid,
                                                      batch: 0..<5, videoShape: [T, C, H, W])
        }
        expectDNLSError(.shapeMismatch, argument: "videoGradient") {
            _ = try PatchFold(geometry: g).backward(videoGradient: Tensor<Float>(zeros: [C, H, W]), grid: Self.grid)
        }
    }

    // MARK: backends and tensors

    @Test("Double with the fast backend is unavailable; reference and automatic work")
    func doubleFast() throws {
        let video = Self.video.converted(to: Double.self)
        let g = PatchGeometry(patchSize: 3)
        let indices = neighbourTensor([[[Position(t: 0, h: 1, w: 1)]]], batched: false)
        expectDNLSError(.unavailable, argument: nil) { _ = try Self.search()(video, queries: .grid(Self.grid), implementation: .fast) }
        expectDNLSError(.unavailable, argument: nil) { _ = try PatchScatter(geometry: g)(video, indices: indices, implementation: .fast) }
        expectDNLSError(.unavailable, argument: nil) {
            _ = try PatchGather(geometry: g)(Tensor<Double>(zeros: [1, 1, C, 3, 3]), indices: indices, videoShape: [T, C, H, W],
                                             implementation: .fast)
        }
        expectDNLSError(.unavailable, argument: nil) { _ = try PatchUnfold(geometry: g)(video, grid: Self.grid, implementation: .fast) }
        expectDNLSError(.unavailable, argument: nil) {
            _ = try WeightedPatchSum(geometry: g)(video, weights: Tensor(repeating: 1, shape: [1, 1]), indices: indices,
                                                  implementation: .fast)
        }
        _ = try Self.search()(video, queries: .grid(Self.grid, batch: 0..<2), implementation: .reference)
        _ = try Self.search()(video, queries: .grid(Self.grid, batch: 0..<2), implementation: .automatic)
    }

    @Test("Tensor construction checks its element count and extents")
    func tensors() {
        expectDNLSError(.shapeMismatch, argument: "scalars") { _ = try Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3]) }
        expectDNLSError(.invalidArgument, argument: "shape") { _ = try Tensor<Float>(shape: [2, -3], scalars: []) }
        expectDNLSError(.shapeMismatch, argument: "shape") { _ = try Tensor<Float>(zeros: [2, 3]).reshaped([4, 2]) }
    }
}
