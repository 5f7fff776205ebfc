import DNLS
import DNLSTestSupport
import Testing

/// Finite-difference checks of the search backward, in Double with the reference backend.
///
/// With `k: nil` the returned indices are fixed by the geometry (and the flows, which are not
/// perturbed), so the loss `Σ g · d` over the finite slots is a smooth (quadratic or bilinear)
/// function of the videos, and central differences with step 1e-6 match the analytic gradient to
/// rounding.
@Suite("Search gradients")
struct SearchGradientTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var metric: SearchMetric
        var border: Border
        var ps: Int
        var dilation = 1
        var anchor = PatchAnchor.center
        var cross: Bool
        var wt = 0
        var flows = false
        var channels = 2
        var limit: Int? = nil
        var batch: Int? = nil
        var testDescription: String {
            "\(metric) \(border) ps \(ps) dil \(dilation) \(anchor) \(cross ? "cross" : "self") wt \(wt)"
                + (flows ? " flows" : "") + " C \(channels)" + (limit.map { " channels \($0)" } ?? "")
                + (batch.map { " B \($0)" } ?? "")
        }
    }

    static let cases: [Case] = {
        var list = [Case]()
        for metric in SearchMetric.allCases {
            for border in Border.allCases {
                for ps in [3, 4] {
                    for cross in [false, true] {
                        list.append(Case(metric: metric, border: border, ps: ps, cross: cross))
                    }
                }
            }
        }
        list.append(Case(metric: .l2, border: .reflect, ps: 3, dilation: 2, cross: true))
        list.append(Case(metric: .l2, border: .zero, ps: 4, dilation: 2, cross: false))
        list.append(Case(metric: .innerProduct, border: .reflect, ps: 4, dilation: 2, anchor: .topLeft, cross: true))
        list.append(Case(metric: .l2, border: .reflect, ps: 3, cross: true, wt: 1, flows: true))
        list.append(Case(metric: .l2, border: .zero, ps: 4, dilation: 2, cross: false, wt: 1, flows: true, batch: 2))
        list.append(Case(metric: .innerProduct, border: .reflect, ps: 3, cross: false, wt: 1, flows: true))
        list.append(Case(metric: .l2, border: .reflect, ps: 3, cross: true, channels: 3, limit: 1))
        list.append(Case(metric: .innerProduct, border: .zero, ps: 4, cross: false, channels: 3, limit: 2))
        return list
    }()

    @Test("Search backward matches central differences", arguments: cases)
    func finiteDifferences(c: Case) throws {
        var rng = SplitMix64(seed: 300 + UInt64(c.ps * 5 + c.dilation * 11 + c.wt * 3 + (c.cross ? 1 : 0)))
        let (T, C, H, W) = (c.wt > 0 ? 3 : 2, c.channels, 7, 8)
        let B = c.batch ?? 1
        let shape = videoShape(batch: c.batch, T, C, H, W)
        let video: Tensor<Double> = randomTensor(shape, &rng, -1, 1)
        let keys: Tensor<Double>? = c.cross ? randomTensor(shape, &rng, -1, 1) : nil
        var flows = Flows<Double>.none
        if c.flows {
            let fshape = videoShape(batch: c.batch, T, 2, H, W)
            flows = Flows(forward: randomTensor(fshape, &rng, -2, 2), backward: randomTensor(fshape, &rng, -2, 2))
        }
        // Queries at the corners, on the edges and inside, in every frame.
        let spots = [(0, 0), (H - 1, W - 1), (0, W - 2), (3, 4), (H - 2, 1)]
        let queries = (0..<B).map { _ in (0..<T).flatMap { t in spots.map { Position(t: t, h: $0.0, w: $0.1) } } }
        let queryTensor = positionTensor(queries, batched: c.batch != nil)
        let g = PatchGeometry(patchSize: c.ps, dilation: c.dilation, anchor: c.anchor, border: c.border)
        let search = PatchSearch(geometry: g, window: SearchWindow(size: 3, stride: 2, temporalRadius: c.wt), k: nil,
                                 metric: c.metric, channels: c.limit)
        let base = try search(video, keys: keys, queries: .positions(queryTensor), flows: flows, implementation: .reference)
        // Random upstream gradient, zero on the empty slots.
        let finite = base.distances.scalars.map { $0.isFinite }
        let upstream = finite.map { $0 ? rng.uniform(-1, 1) : 0 }
        #expect(finite.contains(false), "the test should include empty slots")

        let loss = { (v: Tensor<Double>, k: Tensor<Double>?) throws -> Double in
            let r = try search(v, keys: k, queries: .positions(queryTensor), flows: flows, implementation: .reference)
            if r.indices != base.indices { Issue.record("indices must not move under the perturbation") }
            var s = 0.0
            for (i, d) in r.distances.scalars.enumerated() where finite[i] { s += upstream[i] * d }
            return s
        }
        let grads = try search.backward(distanceGradient: withScalars(base.distances, upstream), indices: base.indices,
                                        video: video, keys: keys, queries: .positions(queryTensor), implementation: .reference)
        #expect(grads.video.shape == video.shape)
        #expect((grads.keys == nil) == (keys == nil))

        let coordinates = sampleCoordinates(video.shape, count: 40, &rng)
        try expectGradientMatchesFiniteDifferences(doubles(video), gradient: doubles(grads.video), coordinates: coordinates,
                                                   &rng, "∂/∂video \(c.testDescription)") {
            try loss(withScalars(video, $0), keys)
        }
        if let keys, let gk = grads.keys {
            try expectGradientMatchesFiniteDifferences(doubles(keys), gradient: doubles(gk), coordinates: coordinates,
                                                       &rng, "∂/∂keys \(c.testDescription)") {
                try loss(video, withScalars(keys, $0))
            }
        }
        if let limit = c.limit {
            // Channels ≥ the limit do not enter the distance: their gradient is exactly zero.
            let plane = H * W
            for (i, x) in grads.video.scalars.enumerated() where (i / plane) % C >= limit {
                #expect(x == 0)
            }
            for (i, x) in (grads.keys?.scalars ?? []).enumerated() where (i / plane) % C >= limit {
                #expect(x == 0)
            }
        }
    }

    @Test("Top-K backward equals the whole-window backward restricted to the kept candidates")
    func topKBackward() throws {
        var rng = SplitMix64(seed: 310)
        let video: Tensor<Double> = randomTensor([3, 2, 8, 8], &rng)
        let keys: Tensor<Double> = randomTensor([3, 2, 8, 8], &rng)
        let g = PatchGeometry(patchSize: 3, border: .reflect)
        let window = SearchWindow(size: 3, temporalRadius: 1)
        let grid = try QueryGrid(region: .whole(frames: 3, height: 8, width: 8), stride: 3)
        let top = PatchSearch(geometry: g, window: window, k: 4)
        let all = PatchSearch(geometry: g, window: window, k: nil)
        let r = try top(video, keys: keys, queries: .grid(grid), implementation: .reference)
        let full = try all(video, keys: keys, queries: .grid(grid), implementation: .reference)
        let upstream: Tensor<Double> = randomTensor(r.distances.shape, &rng, -1, 1)
        // Spread the top-K upstream onto the whole-window slots holding the same candidates.
        let kept = neighbourList(r.indices)[0], window_ = neighbourList(full.indices)[0]
        var spread = [Double](repeating: 0, count: full.distances.count)
        for q in 0..<grid.count {
            for m in 0..<4 {
                let slot = window_[q].firstIndex(of: kept[q][m])!
                spread[q * window_[q].count + slot] = upstream.scalars[q * 4 + m]
            }
        }
        let a = try top.backward(distanceGradient: upstream, indices: r.indices, video: video, keys: keys,
                                 queries: .grid(grid), implementation: .reference)
        let b = try all.backward(distanceGradient: withScalars(full.distances, spread), indices: full.indices,
                                 video: video, keys: keys, queries: .grid(grid), implementation: .reference)
        expectAllClose(a.video, b.video, relative: 1e-12, absolute: 1e-12, "video")
        expectAllClose(a.keys!, b.keys!, relative: 1e-12, absolute: 1e-12, "keys")
    }

    @Test("Self-search gradient is the sum of the query-side and key-side gradients")
    func selfIsSumOfSides() throws {
        var rng = SplitMix64(seed: 311)
        let video: Tensor<Double> = randomTensor([2, 1, 7, 7], &rng)
        let search = PatchSearch(geometry: PatchGeometry(patchSize: 3), window: SearchWindow(size: 3, temporalRadius: 1), k: 5)
        let grid = try QueryGrid(region: .whole(frames: 2, height: 7, width: 7), stride: 2)
        let r = try search(video, queries: .grid(grid), implementation: .reference)
        let upstream: Tensor<Double> = randomTensor(r.distances.shape, &rng, -1, 1)
        let selfGrad = try search.backward(distanceGradient: upstream, indices: r.indices, video: video,
                                           queries: .grid(grid), implementation: .reference)
        let cross = try search.backward(distanceGradient: upstream, indices: r.indices, video: video, keys: video,
                                        queries: .grid(grid), implementation: .reference)
        #expect(selfGrad.keys == nil)
        let sum = zip(cross.video.scalars, cross.keys!.scalars).map { $0 + $1 }
        expectAllClose(doubles(selfGrad.video), sum, relative: 1e-12, absolute: 1e-14, "self = video + keys parts")
    }
}
