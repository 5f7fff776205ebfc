import Testing
@testable import DNLS
import DNLSTestSupport

/// The fast search kernels (box-filtered without flow, direct with flow) against the reference.
@Suite struct FastSearchTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var ps: Int, dilation: Int, ws: Int, windowStride: Int, wt: Int, k: Int?
        var metric: SearchMetric, border: Border, anchor: PatchAnchor, flow: Bool, queryStride: Int, seed: UInt64
        var testDescription: String {
            "ps\(ps) d\(dilation) ws\(ws)/\(windowStride) wt\(wt) k\(k.map(String.init) ?? "all") \(metric) \(border) \(anchor) flow:\(flow) qs\(queryStride)"
        }
    }

    static let cases: [Case] = {
        var rng = SplitMix64(seed: 42)
        return (0..<32).map { n in
            Case(ps: [1, 2, 3, 4, 5, 7][rng.below(6)], dilation: 1 + rng.below(2), ws: [1, 3, 4, 7][rng.below(4)],
                 windowStride: 1 + rng.below(2), wt: rng.below(3), k: [1, 3, 7, nil][rng.below(4)],
                 metric: rng.below(2) == 0 ? .l2 : .innerProduct, border: rng.below(2) == 0 ? .reflect : .zero,
                 anchor: rng.below(2) == 0 ? .center : .topLeft, flow: rng.below(2) == 0, queryStride: 1 + rng.below(3),
                 seed: UInt64(1000 + n))
        }
    }()

    @Test(arguments: cases)
    func matchesReference(_ c: Case) throws {
        var rng = SplitMix64(seed: c.seed)
        let B = 1 + rng.below(2), T = 1 + rng.below(4), C = 1 + rng.below(3), H = 8 + rng.below(6), W = 8 + rng.below(6)
        let video = Tensor<Float>(uncheckedShape: [B, T, C, H, W], scalars: (0..<B * T * C * H * W).map { _ in rng.unit() })
        let keys = Tensor<Float>(uncheckedShape: [B, T, C, H, W], scalars: (0..<B * T * C * H * W).map { _ in rng.unit() })
        let flowShape = [B, T, 2, H, W]
        let flows = c.flow
            ? Flows(forward: Tensor(uncheckedShape: flowShape, scalars: (0..<B * T * 2 * H * W).map { _ in 6 * rng.unit() - 3 }),
                    backward: Tensor(uncheckedShape: flowShape, scalars: (0..<B * T * 2 * H * W).map { _ in 6 * rng.unit() - 3 }))
            : Flows<Float>.none
        let geometry = PatchGeometry(patchSize: min(c.ps, 4), dilation: c.dilation, anchor: c.anchor, border: c.border)
        let window = SearchWindow(size: c.ws, stride: c.windowStride, temporalRadius: c.wt)
        let candidates = window.candidateCount(videoFrames: T)
        let search = PatchSearch(geometry: geometry, window: window, k: c.k.map { min($0, candidates) }, metric: c.metric)
        let grid = try QueryGrid(region: Region(frames: 0..<T, rows: 1..<H, columns: 0..<W - 1), stride: c.queryStride)
        let fast = try search(video, keys: keys, queries: .grid(grid), flows: flows, implementation: .fast)
        let reference = try search(video, keys: keys, queries: .grid(grid), flows: flows, implementation: .reference)
        // Exhaustive reference table to look up the true distance of any returned candidate.
        var all = search; all.k = nil
        let table = try all(video, keys: keys, queries: .grid(grid), flows: flows, implementation: .reference)
        let mismatch = try searchMismatch(fast, reference, wholeWindow: search.k == nil ? nil : table, metric: search.metric,
                                          tolerance: .float32)
        #expect(mismatch == nil, "\(mismatch ?? "")")
        // Deterministic: a second run is bitwise equal.
        let again = try search(video, keys: keys, queries: .grid(grid), flows: flows, implementation: .fast)
        #expect(again.distances.scalars.map(\.bitPattern) == fast.distances.scalars.map(\.bitPattern))
        #expect(again.indices == fast.indices)
    }
}

/// Draws used by this file's random cases, on the library's seeded generator.
private extension SplitMix64 {
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func unit() -> Float { Float(next() >> 40) / Float(1 << 24) }
}
