import DNLS
import DNLSTestSupport
import Testing

/// Optical-flow chaining, by the rules of the Conventions article: the window centre of each
/// visited frame, observed through a search with a 1 × 1 window and `k: nil`, whose indices are
/// exactly the chained centres.
@Suite("Flow chaining")
struct FlowChainTests {
    static let T = 5, H = 8, W = 10

    /// A flow tensor `(T, 2, H, W)` filled by `value(t, channel, h, w)`.
    static func flow<S: PatchScalar>(_ value: (Int, Int, Int, Int) -> Double, as _: S.Type = S.self) -> Tensor<S> {
        var s = [S]()
        for t in 0..<T { for c in 0..<2 { for h in 0..<H { for w in 0..<W { s.append(S(value(t, c, h, w))) } } } }
        return makeTensor([T, 2, H, W], s)
    }

    /// Query positions in every frame: corners, edges and the interior.
    static var queries: [Position] {
        var list = [Position]()
        for t in 0..<T {
            for (h, w) in [(0, 0), (H - 1, W - 1), (0, W - 1), (H - 1, 0), (5, 5), (3, 7), (1, 8)] {
                list.append(Position(t: t, h: h, w: w))
            }
        }
        return list
    }

    /// The per-slot frame centres returned by a ws = 1, k = nil search.
    static func chainedCentres<S: PatchScalar>(flows: Flows<S>, radius: Int = 2) throws -> [[Position?]] {
        var rng = SplitMix64(seed: 7)
        let video: Tensor<S> = randomTensor([T, 1, H, W], &rng)
        let search = PatchSearch(geometry: PatchGeometry(patchSize: 1), window: SearchWindow(size: 1, temporalRadius: radius),
                                 k: nil)
        let result = try search(video, queries: .positions(positionTensor([queries], batched: false)), flows: flows,
                                implementation: .reference)
        #expect(result.indices.shape == [queries.count, min(2 * radius + 1, T), 3])
        #expect(result.distances.scalars.allSatisfy { $0.isFinite }, "a clamped centre is always a valid candidate")
        return neighbourList(result.indices)[0]
    }

    /// Hand-written chain for a constant flow: every hop moves by (dy, dx), rounded half up
    /// (`floor(x + 0.5)`), then clamped into the frame.
    static func constantChain(_ q: Position, forward: (dx: Double, dy: Double), backward: (dx: Double, dy: Double)) -> [Position] {
        let hop = { (x: Int, d: Double, n: Int) in min(max(Int((Double(x) + d + 0.5).rounded(.down)), 0), n - 1) }
        // Frame order for T = 5, wt = 2 (all five frames; the Conventions article's table).
        let order: [[Int]] = [[0, 1, 2, 3, 4], [1, 2, 3, 4, 0], [2, 3, 4, 1, 0], [3, 4, 2, 1, 0], [4, 3, 2, 1, 0]]
        var centre: [Int: (Int, Int)] = [q.t: (q.h, q.w)]
        for n in order[q.t].dropFirst() {
            let (d, previous) = n > q.t ? (forward, centre[n - 1]!) : (backward, centre[n + 1]!)
            centre[n] = (hop(previous.0, d.dy, H), hop(previous.1, d.dx, W))
        }
        return order[q.t].map { Position(t: $0, h: centre[$0]!.0, w: centre[$0]!.1) }
    }

    @Test("Constant flow (1.4, −0.6) / (−1.4, 0.6): centres round half up per hop and clamp at the edge")
    func constantFlow() throws {
        let f: Tensor<Float> = Self.flow { _, c, _, _ in c == 0 ? 1.4 : -0.6 }
        let b: Tensor<Float> = Self.flow { _, c, _, _ in c == 0 ? -1.4 : 0.6 }
        let got = try Self.chainedCentres(flows: Flows(forward: f, backward: b))
        for (q, row) in zip(Self.queries, got) {
            #expect(row == Self.constantChain(q, forward: (1.4, -0.6), backward: (-1.4, 0.6)), "query \(q)")
        }
        // By hand, query (2, 5, 5): frame 3 = (floor(5 − 0.6 + 0.5), floor(5 + 1.4 + 0.5)) = (4, 6),
        // frame 4 = (floor(3.9), floor(7.9)) = (3, 7); frame 1 = (floor(6.1), floor(4.1)) = (6, 4),
        // frame 0 = (floor(7.1), floor(3.1)) = (7, 3).
        let i = Self.queries.firstIndex(of: Position(t: 2, h: 5, w: 5))!
        #expect(got[i] == [Position(t: 2, h: 5, w: 5), Position(t: 3, h: 4, w: 6), Position(t: 4, h: 3, w: 7),
                           Position(t: 1, h: 6, w: 4), Position(t: 0, h: 7, w: 3)])
        // Clamping: from the right edge, moving right stays on the last column.
        let j = Self.queries.firstIndex(of: Position(t: 0, h: 0, w: 9))!
        #expect(got[j] == [Position(t: 0, h: 0, w: 9), Position(t: 1, h: 0, w: 9), Position(t: 2, h: 0, w: 9),
                           Position(t: 3, h: 0, w: 9), Position(t: 4, h: 0, w: 9)])
    }

    @Test("Exact halves round up: +0.5 moves, −0.5 stays")
    func halves() throws {
        let f: Tensor<Double> = Self.flow { _, c, _, _ in c == 0 ? 0.5 : -0.5 }
        let b: Tensor<Double> = Self.flow { _, c, _, _ in c == 0 ? -0.5 : 0.5 }
        let got = try Self.chainedCentres(flows: Flows(forward: f, backward: b))
        for (q, row) in zip(Self.queries, got) {
            #expect(row == Self.constantChain(q, forward: (0.5, -0.5), backward: (-0.5, 0.5)), "query \(q)")
        }
        let i = Self.queries.firstIndex(of: Position(t: 2, h: 5, w: 5))!
        // Forward: column +1 per hop, row unchanged. Backward: column unchanged, row +1 per hop.
        #expect(got[i] == [Position(t: 2, h: 5, w: 5), Position(t: 3, h: 5, w: 6), Position(t: 4, h: 5, w: 7),
                           Position(t: 1, h: 6, w: 5), Position(t: 0, h: 7, w: 5)])
    }

    @Test("A missing flow is zero displacement; one direction may be given alone")
    func missingFlow() throws {
        let none = try Self.chainedCentres(flows: Flows<Float>.none)
        for (q, row) in zip(Self.queries, none) {
            #expect(row == Self.constantChain(q, forward: (0, 0), backward: (0, 0)))
        }
        let f: Tensor<Float> = Self.flow { _, c, _, _ in c == 0 ? -2 : 1 }
        let onlyForward = try Self.chainedCentres(flows: Flows(forward: f))
        for (q, row) in zip(Self.queries, onlyForward) {
            #expect(row == Self.constantChain(q, forward: (-2, 1), backward: (0, 0)), "query \(q)")
        }
    }

    /// A position-dependent flow: the chain must sample it at the previous link's integer position.
    /// Values are multiples of 1/4 so Float and Double round identically; halves test round-half-up.
    @Test("Varying flow is sampled at the previous link, accumulating along the chain")
    func varyingFlow() throws {
        let fx = { (t: Int, h: Int, w: Int) in Double((h * 3 + w * 5 + t) % 7 - 3) * 0.75 }
        let fy = { (t: Int, h: Int, w: Int) in Double((h * 5 + w * 2 + 2 * t) % 9 - 4) * 0.5 }
        let bx = { (t: Int, h: Int, w: Int) in Double((h + w * 3 + 4 * t) % 5 - 2) * 1.25 }
        let by = { (t: Int, h: Int, w: Int) in Double((h * 7 + w + t) % 6 - 3) * 0.5 }
        let f: Tensor<Float> = Self.flow { t, c, h, w in c == 0 ? fx(t, h, w) : fy(t, h, w) }
        let b: Tensor<Float> = Self.flow { t, c, h, w in c == 0 ? bx(t, h, w) : by(t, h, w) }
        for radius in [1, 2] {
            let got = try Self.chainedCentres(flows: Flows(forward: f, backward: b), radius: radius)
            for (q, row) in zip(Self.queries, got) {
                // Hand-written chain: frame order for T = 5, then hop by hop.
                var start = q.t - radius, end = q.t + radius + 1
                if start < 0 { end -= start; start = 0 }
                if end > Self.T { start -= end - Self.T; end = Self.T }
                let order = Array(q.t..<end) + Array((start..<q.t).reversed())
                var centre: [Int: (h: Int, w: Int)] = [q.t: (q.h, q.w)]
                for n in order.dropFirst() {
                    let p = n > q.t ? n - 1 : n + 1
                    let c = centre[p]!
                    let dx = n > q.t ? fx(p, c.h, c.w) : bx(p, c.h, c.w)
                    let dy = n > q.t ? fy(p, c.h, c.w) : by(p, c.h, c.w)
                    let h = Int((Double(c.h) + dy + 0.5).rounded(.down)), w = Int((Double(c.w) + dx + 0.5).rounded(.down))
                    centre[n] = (min(max(h, 0), Self.H - 1), min(max(w, 0), Self.W - 1))
                }
                #expect(row == order.map { Position(t: $0, h: centre[$0]!.h, w: centre[$0]!.w) }, "query \(q), wt \(radius)")
            }
        }
    }

    @Test("The window is centred on the chained centre; cells outside the frame are empty")
    func windowAroundChainedCentre() throws {
        var rng = SplitMix64(seed: 11)
        let video: Tensor<Double> = randomTensor([Self.T, 2, Self.H, Self.W], &rng)
        let f: Tensor<Double> = Self.flow { t, c, h, w in c == 0 ? Double((h + 2 * w + t) % 5) - 2.25 : Double((3 * h + w) % 4) - 1.5 }
        let b: Tensor<Double> = Self.flow { t, c, h, w in c == 0 ? Double((2 * h + w + t) % 3) - 0.75 : Double((h + w) % 5) - 2.5 }
        let flows = Flows(forward: f, backward: b)
        let g = PatchGeometry(patchSize: 3, dilation: 1)
        let window = SearchWindow(size: 3, stride: 2, temporalRadius: 2)
        let search = PatchSearch(geometry: g, window: window, k: nil)
        let result = try search(video, queries: .positions(positionTensor([Self.queries], batched: false)), flows: flows,
                                implementation: .reference)
        let expected = OracleSearch.run(video: video, queries: [Self.queries], geometry: g, window: window, metric: .l2,
                                        flows: flows)
        expectSearchRows(searchRows(result), expected, relative: 1e-12, "k = nil around flow-moved centres")
    }

    @Test("Batch items use their own flows")
    func batchedFlows() throws {
        var rng = SplitMix64(seed: 5)
        let (T, H, W) = (Self.T, Self.H, Self.W)
        let video: Tensor<Float> = randomTensor([2, T, 1, H, W], &rng)
        var fs = [Float](), bs = [Float]()
        for item in 0..<2 {
            for _ in 0..<T { for c in 0..<2 { for _ in 0..<(H * W) {
                fs.append(item == 0 ? (c == 0 ? 1.4 : -0.6) : (c == 0 ? -1 : 2))
                bs.append(item == 0 ? (c == 0 ? -1.4 : 0.6) : (c == 0 ? 0.5 : 0.5))
            } } }
        }
        let flows = Flows(forward: makeTensor([2, T, 2, H, W], fs), backward: makeTensor([2, T, 2, H, W], bs))
        let search = PatchSearch(geometry: PatchGeometry(patchSize: 1), window: SearchWindow(size: 1, temporalRadius: 2), k: nil)
        let result = try search(video, queries: .positions(positionTensor([Self.queries, Self.queries], batched: true)),
                                flows: flows, implementation: .reference)
        let got = neighbourList(result.indices)
        for (i, q) in Self.queries.enumerated() {
            #expect(got[0][i] == Self.constantChain(q, forward: (1.4, -0.6), backward: (-1.4, 0.6)), "item 0 \(q)")
            #expect(got[1][i] == Self.constantChain(q, forward: (-1, 2), backward: (0.5, 0.5)), "item 1 \(q)")
        }
    }
}
