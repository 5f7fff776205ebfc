import DNLS
import DNLSTestSupport
import Testing

/// Search semantics, as the Conventions article states them: self-match, whole-window enumeration,
/// empty slots, tie order, metrics, the channel limit, and the reference search against an
/// independent oracle.
@Suite("Search semantics")
struct SearchTests {
    @Test("Self-search returns the query itself first, at distance 0", arguments: Border.allCases, PatchAnchor.allCases)
    func selfFirst(border: Border, anchor: PatchAnchor) throws {
        var rng = SplitMix64(seed: 101)
        let video: Tensor<Float> = randomTensor([3, 2, 10, 9], &rng)
        for ps in [1, 2, 3] {
            let search = PatchSearch(geometry: PatchGeometry(patchSize: ps, anchor: anchor, border: border),
                                     window: SearchWindow(size: 5, temporalRadius: 1), k: 4)
            let grid = try QueryGrid(region: .whole(frames: 3, height: 10, width: 9), stride: 3)
            let rows = searchRows(try search(video, queries: .grid(grid), implementation: .reference))[0]
            #expect(rows.count == grid.count)
            for (q, row) in rows.enumerated() {
                #expect(row[0].position == grid.position(q), "ps \(ps) query \(q)")
                #expect(row[0].distance == 0)
                #expect(row[1].distance > 0)
                #expect(zip(row, row.dropFirst()).allSatisfy { $0.distance <= $1.distance }, "ascending")
            }
        }
    }

    /// Hand-enumerated window: T = 3, H = 6, W = 8, ws = 3, stride 2, wt = 1.
    @Test("k = nil returns the whole window in enumeration order with empty out-of-frame slots")
    func wholeWindow() throws {
        var rng = SplitMix64(seed: 102)
        let video: Tensor<Double> = randomTensor([3, 1, 6, 8], &rng)
        let g = PatchGeometry(patchSize: 3)
        let search = PatchSearch(geometry: g, window: SearchWindow(size: 3, stride: 2, temporalRadius: 1), k: nil)
        let queries = [Position(t: 1, h: 0, w: 7), Position(t: 0, h: 5, w: 0), Position(t: 2, h: 3, w: 4)]
        // Frame orders by hand (T = 3, wt = 1): t=1 → [1, 2, 0]; t=0 → [0, 1, 2]; t=2 → [2, 1, 0].
        let orders = [[1, 2, 0], [0, 1, 2], [2, 1, 0]]
        let validCounts = [12, 12, 27] // (1,0,7): rows {0,2} × cols {5,7}; (0,5,0): {3,5} × {0,2}; (2,3,4): all
        let result = try search(video, queries: .positions(positionTensor([queries], batched: false)), implementation: .reference)
        #expect(result.distances.shape == [3, 27])
        #expect(result.indices.shape == [3, 27, 3])
        let rows = searchRows(result)[0]
        let v = VideoView(video)
        for (qi, q) in queries.enumerated() {
            var slot = 0, valid = 0
            for t in orders[qi] {
                for i in 0..<3 {
                    for j in 0..<3 {
                        let h = q.h + (i - 1) * 2, w = q.w + (j - 1) * 2
                        let got = rows[qi][slot]
                        if h >= 0, h < 6, w >= 0, w < 8 {
                            valid += 1
                            let n = Position(t: t, h: h, w: w)
                            #expect(got.position == n, "query \(q) slot \(slot)")
                            let d = OracleSearch.score(v, v, 0, q, n, g, channels: 1, metric: .l2)
                            #expect(abs(got.distance - d) <= 1e-12 * max(1, d))
                        } else {
                            #expect(got.position == nil, "query \(q) slot \(slot)")
                            #expect(got.distance == .infinity)
                        }
                        slot += 1
                    }
                }
            }
            #expect(valid == validCounts[qi])
        }
    }

    @Test("Ties are broken by enumeration order; empty slots come last",
          arguments: SearchMetric.allCases)
    func ties(metric: SearchMetric) throws {
        // A constant video with reflection: every candidate has the same score.
        let video = Tensor<Float>(repeating: 0.5, shape: [3, 2, 6, 7])
        let window = SearchWindow(size: 3, stride: 1, temporalRadius: 1)
        let q = Position(t: 2, h: 0, w: 6) // corner: rows {−1, 0, 1} × cols {5, 6, 7} → 4 valid per frame
        let order = [2, 1, 0]
        var expected = [Position]()
        for t in order { for h in [-1, 0, 1] { for w in [5, 6, 7] where h >= 0 && w < 7 { expected.append(Position(t: t, h: h, w: w)) } } }
        #expect(expected.count == 12)
        let tieScore: Double = metric == .l2 ? 0 : 0.25 * 2 * 9
        let empty: Double = metric == .l2 ? .infinity : -.infinity
        for k in [1, 5, 12, 27] {
            let search = PatchSearch(geometry: PatchGeometry(patchSize: 3), window: window, k: k, metric: metric)
            let rows = searchRows(try search(video, queries: .positions(positionTensor([[q]], batched: false)),
                                             implementation: .reference))[0][0]
            #expect(rows.count == k)
            for (m, c) in rows.enumerated() {
                if m < expected.count {
                    #expect(c.position == expected[m], "k \(k) slot \(m)")
                    #expect(c.distance == tieScore)
                } else {
                    #expect(c.position == nil, "k \(k) slot \(m)")
                    #expect(c.distance == empty)
                }
            }
        }
    }

    @Test("Inner product is sorted descending and picks the largest scores")
    func innerProductDescending() throws {
        var rng = SplitMix64(seed: 103)
        let video: Tensor<Double> = randomTensor([2, 3, 9, 9], &rng, -1, 1)
        let keys: Tensor<Double> = randomTensor([2, 3, 9, 9], &rng, -1, 1)
        let g = PatchGeometry(patchSize: 3, border: .zero)
        let window = SearchWindow(size: 5, stride: 1, temporalRadius: 1)
        let queries = [Position(t: 0, h: 4, w: 4), Position(t: 1, h: 0, w: 0), Position(t: 1, h: 8, w: 3)]
        let all = OracleSearch.run(video: video, keys: keys, queries: [queries], geometry: g, window: window,
                                   metric: .innerProduct)
        for k in [1, 5, 50] {
            let search = PatchSearch(geometry: g, window: window, k: k, metric: .innerProduct)
            let rows = searchRows(try search(video, keys: keys, queries: .positions(positionTensor([queries], batched: false)),
                                             implementation: .reference))
            for row in rows[0] {
                #expect(zip(row, row.dropFirst()).allSatisfy { $0.distance >= $1.distance }, "descending")
            }
            expectSearchRows(rows, [all[0].map { OracleSearch.topK($0, k: k, metric: .innerProduct) }], relative: 1e-12,
                             "inner product top \(k)")
        }
        // The corner query (1, 0, 0) has 3 × 3 valid cells per frame: slots 18… of k = 50 are −inf / empty.
        let search = PatchSearch(geometry: g, window: window, k: 50, metric: .innerProduct)
        let corner = searchRows(try search(video, keys: keys, queries: .positions(positionTensor([[queries[1]]], batched: false)),
                                           implementation: .reference))[0][0]
        #expect(corner[17].position != nil)
        #expect(corner[18...].allSatisfy { $0.position == nil && $0.distance == -.infinity })
    }

    @Test("The channel limit equals searching a video whose extra channels are zero",
          arguments: SearchMetric.allCases, [1, 2])
    func channelLimit(metric: SearchMetric, channels: Int) throws {
        var rng = SplitMix64(seed: 104)
        let video: Tensor<Float> = randomTensor([2, 3, 8, 8], &rng)
        let keys: Tensor<Float> = randomTensor([2, 3, 8, 8], &rng)
        let zeroed = { (t: Tensor<Float>) -> Tensor<Float> in
            var s = t.scalars
            for i in s.indices where (i / 64) % 3 >= channels { s[i] = 0 }
            return makeTensor(t.shape, s)
        }
        let grid = try QueryGrid(region: .whole(frames: 2, height: 8, width: 8), stride: 2)
        for k: Int? in [nil, 3] {
            let limited = PatchSearch(geometry: PatchGeometry(patchSize: 3), window: SearchWindow(size: 3, temporalRadius: 1),
                                      k: k, metric: metric, channels: channels)
            let all = PatchSearch(geometry: PatchGeometry(patchSize: 3), window: SearchWindow(size: 3, temporalRadius: 1),
                                  k: k, metric: metric)
            let a = try limited(video, keys: keys, queries: .grid(grid), implementation: .reference)
            let b = try all(zeroed(video), keys: zeroed(keys), queries: .grid(grid), implementation: .reference)
            expectAllClose(a.distances, b.distances, relative: 1e-6, "distances with channels \(channels)")
            expectSame(a.indices, b.indices, "indices with channels \(channels)")
            // And the limit really changes something compared to all channels.
            let c = try all(video, keys: keys, queries: .grid(grid), implementation: .reference)
            #expect(a.distances != c.distances)
        }
    }

    struct OracleCase: Sendable, CustomTestStringConvertible {
        var ps: Int, dilation: Int, anchor: PatchAnchor, border: Border
        var ws: Int, stride: Int, wt: Int, k: Int?, metric: SearchMetric
        var batch: Int?, channels: Int, limit: Int?, cross: Bool, flows: Bool
        var testDescription: String {
            "ps \(ps) dil \(dilation) \(anchor) \(border) ws \(ws)/\(stride) wt \(wt) k \(k.map(String.init) ?? "nil") "
                + "\(metric) B \(batch.map(String.init) ?? "-") C \(channels)/\(limit.map(String.init) ?? "all")"
                + (cross ? " cross" : " self") + (flows ? " flows" : "")
        }
    }

    static let oracleCases: [OracleCase] = [
        OracleCase(ps: 3, dilation: 1, anchor: .center, border: .reflect, ws: 3, stride: 1, wt: 0, k: nil, metric: .l2,
                   batch: nil, channels: 1, limit: nil, cross: false, flows: false),
        OracleCase(ps: 2, dilation: 2, anchor: .center, border: .zero, ws: 4, stride: 1, wt: 1, k: 5, metric: .l2,
                   batch: 2, channels: 2, limit: nil, cross: true, flows: true),
        OracleCase(ps: 4, dilation: 1, anchor: .topLeft, border: .reflect, ws: 5, stride: 2, wt: 2, k: nil,
                   metric: .innerProduct, batch: nil, channels: 3, limit: 2, cross: true, flows: true),
        OracleCase(ps: 5, dilation: 1, anchor: .center, border: .reflect, ws: 3, stride: 3, wt: 1, k: 7, metric: .innerProduct,
                   batch: 1, channels: 2, limit: nil, cross: false, flows: true),
        OracleCase(ps: 1, dilation: 1, anchor: .topLeft, border: .zero, ws: 6, stride: 1, wt: 0, k: 10, metric: .l2,
                   batch: nil, channels: 3, limit: 1, cross: false, flows: false),
        OracleCase(ps: 3, dilation: 2, anchor: .topLeft, border: .zero, ws: 2, stride: 2, wt: 2, k: nil, metric: .l2,
                   batch: 2, channels: 1, limit: nil, cross: true, flows: true),
        OracleCase(ps: 3, dilation: 1, anchor: .center, border: .reflect, ws: 5, stride: 1, wt: 1, k: 45, metric: .l2,
                   batch: nil, channels: 2, limit: nil, cross: true, flows: false),
    ]

    @Test("Reference search equals an independent whole-window oracle", arguments: oracleCases)
    func matchesOracle(c: OracleCase) throws {
        var rng = SplitMix64(seed: 200 + UInt64(c.ps * 31 + c.ws * 7 + c.wt))
        let (T, H, W) = (4, 9, 11)
        let B = c.batch ?? 1
        let shape = videoShape(batch: c.batch, T, c.channels, H, W)
        let video: Tensor<Double> = randomTensor(shape, &rng)
        let keys: Tensor<Double>? = c.cross ? randomTensor(shape, &rng) : nil
        var flows = Flows<Double>.none
        if c.flows {
            let fshape = videoShape(batch: c.batch, T, 2, H, W)
            flows = Flows(forward: randomTensor(fshape, &rng, -2.3, 2.3), backward: randomTensor(fshape, &rng, -2.3, 2.3))
        }
        let queries = (0..<B).map { _ in
            (0..<6).map { _ in Position(t: rng.int(0..<T), h: nearBorder(H, &rng), w: nearBorder(W, &rng)) }
        }
        let g = PatchGeometry(patchSize: c.ps, dilation: c.dilation, anchor: c.anchor, border: c.border)
        let window = SearchWindow(size: c.ws, stride: c.stride, temporalRadius: c.wt)
        let search = PatchSearch(geometry: g, window: window, k: c.k, metric: c.metric, channels: c.limit)
        let result = try search(video, keys: keys, queries: .positions(positionTensor(queries, batched: c.batch != nil)),
                                flows: flows, implementation: .reference)
        let slots = c.k ?? min(2 * c.wt + 1, T) * c.ws * c.ws
        #expect(result.distances.shape == (c.batch.map { [$0] } ?? []) + [6, slots])
        #expect(result.indices.shape == (c.batch.map { [$0] } ?? []) + [6, slots, 3])
        var expected = OracleSearch.run(video: video, keys: keys, queries: queries, geometry: g, window: window,
                                        metric: c.metric, channels: c.limit, flows: flows)
        if let k = c.k { expected = expected.map { $0.map { OracleSearch.topK($0, k: k, metric: c.metric) } } }
        expectSearchRows(searchRows(result), expected, relative: 1e-12, c.testDescription)
    }

    @Test("Grid queries and explicit positions give the same search")
    func gridVersusPositions() throws {
        var rng = SplitMix64(seed: 105)
        let video: Tensor<Float> = randomTensor([3, 2, 9, 10], &rng)
        let grid = try QueryGrid(region: Region(frames: 1..<3, rows: 2..<9, columns: 0..<7), stride: 2)
        let search = PatchSearch(geometry: PatchGeometry(patchSize: 3), window: SearchWindow(size: 3, temporalRadius: 1), k: 4)
        let batch = 3..<17
        let positions = batch.map { grid.position($0) }
        let a = try search(video, queries: .grid(grid, batch: batch), implementation: .reference)
        let b = try search(video, queries: .positions(positionTensor([positions], batched: false)), implementation: .reference)
        expectSame(a.distances, b.distances, "distances")
        expectSame(a.indices, b.indices, "indices")
    }
}
