import DNLS
@_exported import DNLSTestSupport
import Testing

// Shared helpers of the test suite (seeded random tensors, tolerances and the top-K comparison come
// from DNLSTestSupport): independent ("oracle")
// implementations of the patch semantics written from the rules of the Conventions article,
// comparison helpers and finite differences. Nothing here calls into the library's internals: the
// oracles only read public data (PatchGeometry's fields, tensor scalars) and do their own loops.

// MARK: - Tensors

/// A tensor from a shape and its row-major scalars (the count is right by construction).
func makeTensor<S: TensorScalar>(_ shape: [Int], _ scalars: [S]) -> Tensor<S> {
    try! Tensor(shape: shape, scalars: scalars)
}

/// A tensor with the same shape and the given scalars.
func withScalars<S: PatchScalar>(_ t: Tensor<S>, _ scalars: [Double]) -> Tensor<S> {
    makeTensor(t.shape, scalars.map { S($0) })
}

/// The scalars of a floating-point tensor as Doubles.
func doubles<S: PatchScalar>(_ t: Tensor<S>) -> [Double] { t.scalars.map { Double($0) } }

/// The video shape with or without the batch axis.
func videoShape(batch: Int?, _ T: Int, _ C: Int, _ H: Int, _ W: Int) -> [Int] {
    batch.map { [$0, T, C, H, W] } ?? [T, C, H, W]
}

/// A coordinate biased towards the two borders of an axis of `n` samples.
func nearBorder(_ n: Int, _ rng: inout SplitMix64) -> Int {
    if rng.chance(0.5) { return rng.int(0..<n) }
    return rng.pick([0, min(1, n - 1), max(n - 2, 0), n - 1])
}

/// Query positions `(B, Q, 3)` (or `(Q, 3)` when `batched` is false and there is one item).
func positionTensor(_ positions: [[Position]], batched: Bool) -> Tensor<Int32> {
    precondition(batched || positions.count == 1)
    let Q = positions[0].count
    var s = [Int32]()
    for item in positions {
        precondition(item.count == Q)
        for p in item { s += [Int32(p.t), Int32(p.h), Int32(p.w)] }
    }
    return makeTensor(batched ? [positions.count, Q, 3] : [Q, 3], s)
}

/// Neighbour indices `(B, Q, K, 3)` (or `(Q, K, 3)`); `nil` is the empty slot `(−1, −1, −1)`.
func neighbourTensor(_ neighbours: [[[Position?]]], batched: Bool) -> Tensor<Int32> {
    precondition(batched || neighbours.count == 1)
    let Q = neighbours[0].count, K = neighbours[0].first?.count ?? 0
    var s = [Int32]()
    for item in neighbours {
        for row in item {
            precondition(row.count == K)
            for p in row {
                if let p { s += [Int32(p.t), Int32(p.h), Int32(p.w)] } else { s += [-1, -1, -1] }
            }
        }
    }
    return makeTensor(batched ? [neighbours.count, Q, K, 3] : [Q, K, 3], s)
}

/// Random neighbour positions, biased towards the borders, with some empty slots.
func randomNeighbours(batch B: Int, queries Q: Int, k K: Int, frames T: Int, height H: Int, width W: Int,
                      empty: Double = 0.15, _ rng: inout SplitMix64) -> [[[Position?]]] {
    (0..<B).map { _ in
        (0..<Q).map { _ in
            (0..<K).map { _ -> Position? in
                if rng.chance(empty) { return nil }
                return Position(t: rng.int(0..<T), h: nearBorder(H, &rng), w: nearBorder(W, &rng))
            }
        }
    }
}

/// Neighbour positions read back from an index tensor `(B, Q, K, 3)` or `(Q, K, 3)`.
func neighbourList(_ indices: Tensor<Int32>) -> [[[Position?]]] {
    let s = indices.shape
    let (B, Q, K) = s.count == 4 ? (s[0], s[1], s[2]) : (1, s[0], s[1])
    return (0..<B).map { b in
        (0..<Q).map { q in
            (0..<K).map { m -> Position? in
                let o = ((b * Q + q) * K + m) * 3
                let t = Int(indices.scalars[o]), h = Int(indices.scalars[o + 1]), w = Int(indices.scalars[o + 2])
                if t == -1 && h == -1 && w == -1 { return nil }
                return Position(t: t, h: h, w: w)
            }
        }
    }
}

// MARK: - Independent oracle of the patch semantics

/// A read-only `(B, T, C, H, W)` view of a video (or flow) tensor, in Double.
struct VideoView {
    let values: [Double]
    let B: Int, T: Int, C: Int, H: Int, W: Int

    init<S: PatchScalar>(_ t: Tensor<S>) {
        let s = t.shape.count == 5 ? t.shape : [1] + t.shape
        precondition(s.count == 5)
        values = t.scalars.map { Double($0) }
        (B, T, C, H, W) = (s[0], s[1], s[2], s[3], s[4])
    }

    init(zeros B: Int, _ T: Int, _ C: Int, _ H: Int, _ W: Int) {
        values = [Double](repeating: 0, count: B * T * C * H * W)
        (self.B, self.T, self.C, self.H, self.W) = (B, T, C, H, W)
    }

    func index(_ b: Int, _ t: Int, _ c: Int, _ h: Int, _ w: Int) -> Int { (((b * T + t) * C + c) * H + h) * W + w }
    func at(_ b: Int, _ t: Int, _ c: Int, _ h: Int, _ w: Int) -> Double { values[index(b, t, c, h, w)] }
}

/// The border rule written from the contract: reflect once about the first/last sample without
/// repeating the edge; anything still outside (or anything outside with `.zero`) reads nothing.
func oracleResolve(_ x: Int, length n: Int, border: Border) -> Int? {
    var y = x
    if border == .reflect {
        if y < 0 {
            y = -y
        } else if y > n - 1 {
            y = (n - 1) - (y - (n - 1))
        }
    }
    return (0..<n).contains(y) ? y : nil
}

/// Displacement of patch entry `a` from the patch position.
func oracleOffset(_ a: Int, _ g: PatchGeometry) -> Int {
    switch g.anchor {
    case .center: return g.dilation * (a - g.patchSize / 2)
    case .topLeft: return g.dilation * a
    }
}

/// The pixel `(row, column)` that entry `(a, e)` of the patch at `(h, w)` reads, or nil.
func oraclePixel(_ h: Int, _ w: Int, _ a: Int, _ e: Int, _ g: PatchGeometry, height H: Int, width W: Int) -> (Int, Int)? {
    guard let r = oracleResolve(h + oracleOffset(a, g), length: H, border: g.border),
          let c = oracleResolve(w + oracleOffset(e, g), length: W, border: g.border) else { return nil }
    return (r, c)
}

/// The patch `(C, ps, ps)` at `p` of batch item `b`; zeros for an empty slot.
func oraclePatch(_ v: VideoView, _ b: Int, _ p: Position?, _ g: PatchGeometry) -> [Double] {
    let ps = g.patchSize
    var out = [Double](repeating: 0, count: v.C * ps * ps)
    guard let p else { return out }
    for c in 0..<v.C {
        for a in 0..<ps {
            for e in 0..<ps {
                if let (r, col) = oraclePixel(p.h, p.w, a, e, g, height: v.H, width: v.W) {
                    out[(c * ps + a) * ps + e] = v.at(b, p.t, c, r, col)
                }
            }
        }
    }
    return out
}

/// Adds `weight · patch` (a `(C, ps, ps)` array) onto the pixels the patch at `p` reads.
func oracleDeposit(_ patch: ArraySlice<Double>, weight: Double, at p: Position?, batch b: Int, _ g: PatchGeometry,
                   into video: inout [Double], shape v: (B: Int, T: Int, C: Int, H: Int, W: Int)) {
    guard let p else { return }
    let ps = g.patchSize
    var o = patch.startIndex
    for c in 0..<v.C {
        for a in 0..<ps {
            for e in 0..<ps {
                if let (r, col) = oraclePixel(p.h, p.w, a, e, g, height: v.H, width: v.W) {
                    video[(((b * v.T + p.t) * v.C + c) * v.H + r) * v.W + col] += weight * patch[o]
                }
                o += 1
            }
        }
    }
}

/// Extracts every patch of a neighbour list: `(B, Q, K, C, ps, ps)` flattened.
func oracleScatter(_ v: VideoView, _ neighbours: [[[Position?]]], _ g: PatchGeometry) -> [Double] {
    var out = [Double]()
    for (b, item) in neighbours.enumerated() {
        for row in item { for p in row { out += oraclePatch(v, b, p, g) } }
    }
    return out
}

/// One candidate of the oracle search: its position (nil when outside the frame) and score.
struct OracleCandidate: Sendable, Equatable {
    var position: Position?
    var distance: Double
}

/// An independent implementation of the search (whole window, enumeration order).
enum OracleSearch {
    /// Visiting order: the `2wt+1` frames shifted to fit in `[0, T)`, query frame first, later
    /// frames ascending, earlier frames descending.
    static func frameOrder(_ t: Int, frames T: Int, radius wt: Int) -> [Int] {
        var start = t - wt, end = t + wt + 1
        if start < 0 { end -= start; start = 0 }
        if end > T { start -= end - T; end = T }
        start = max(start, 0)
        return Array(t..<end) + Array((start..<t).reversed())
    }

    /// Window centre in each frame of `order`, chained hop by hop through the flows (sampled at the
    /// previous link's integer position, rounded half up, clamped into the frame).
    static func centres(_ b: Int, _ q: Position, order: [Int], forward: VideoView?, backward: VideoView?,
                        height H: Int, width W: Int) -> [Int: (h: Int, w: Int)] {
        var centre: [Int: (h: Int, w: Int)] = [q.t: (q.h, q.w)]
        for n in order.dropFirst() {
            let ahead = n > q.t
            let previousFrame = ahead ? n - 1 : n + 1
            let previous = centre[previousFrame]!
            let flow = ahead ? forward : backward
            let dx = flow?.at(b, previousFrame, 0, previous.h, previous.w) ?? 0
            let dy = flow?.at(b, previousFrame, 1, previous.h, previous.w) ?? 0
            let h = min(max(Int((Double(previous.h) + dy + 0.5).rounded(.down)), 0), H - 1)
            let w = min(max(Int((Double(previous.w) + dx + 0.5).rounded(.down)), 0), W - 1)
            centre[n] = (h, w)
        }
        return centre
    }

    /// Score of the query patch at `p` in `video` against the candidate at `n` in `keys`.
    static func score(_ video: VideoView, _ keys: VideoView, _ b: Int, _ p: Position, _ n: Position,
                      _ g: PatchGeometry, channels: Int, metric: SearchMetric) -> Double {
        let x = oraclePatch(video, b, p, g), y = oraclePatch(keys, b, n, g)
        let count = channels * g.patchSize * g.patchSize
        var d = 0.0
        for i in 0..<count {
            switch metric {
            case .l2: d += (x[i] - y[i]) * (x[i] - y[i])
            case .innerProduct: d += x[i] * y[i]
            }
        }
        return d
    }

    /// Every candidate of every query: `[b][q][enumeration]`.
    static func run<S: PatchScalar>(video: Tensor<S>, keys: Tensor<S>? = nil, queries: [[Position]],
                                    geometry g: PatchGeometry, window: SearchWindow, metric: SearchMetric,
                                    channels: Int? = nil, flows: Flows<S> = .none) -> [[[OracleCandidate]]] {
        let v = VideoView(video), kv = VideoView(keys ?? video)
        let fwd = flows.forward.map(VideoView.init), bwd = flows.backward.map(VideoView.init)
        let empty = metric == .l2 ? Double.infinity : -Double.infinity
        return queries.enumerated().map { b, list in
            list.map { q in
                let order = frameOrder(q.t, frames: v.T, radius: window.temporalRadius)
                let centre = centres(b, q, order: order, forward: fwd, backward: bwd, height: v.H, width: v.W)
                var out = [OracleCandidate]()
                for n in order {
                    let c = centre[n]!
                    for i in 0..<window.size {
                        for j in 0..<window.size {
                            let h = c.h + (i - (window.size - 1) / 2) * window.stride
                            let w = c.w + (j - (window.size - 1) / 2) * window.stride
                            if h >= 0, h < v.H, w >= 0, w < v.W {
                                let cand = Position(t: n, h: h, w: w)
                                out.append(OracleCandidate(position: cand, distance: score(
                                    v, kv, b, q, cand, g, channels: channels ?? v.C, metric: metric)))
                            } else {
                                out.append(OracleCandidate(position: nil, distance: empty))
                            }
                        }
                    }
                }
                return out
            }
        }
    }

    /// The `k` best valid candidates (stable: enumeration order breaks ties), padded with empty slots.
    static func topK(_ all: [OracleCandidate], k: Int, metric: SearchMetric) -> [OracleCandidate] {
        let valid = all.enumerated().filter { $0.element.position != nil }
        let sorted = valid.sorted { x, y in
            if x.element.distance != y.element.distance {
                return metric == .l2 ? x.element.distance < y.element.distance : x.element.distance > y.element.distance
            }
            return x.offset < y.offset
        }.map(\.element)
        let empty = OracleCandidate(position: nil, distance: metric == .l2 ? .infinity : -.infinity)
        return Array(sorted.prefix(k)) + Array(repeating: empty, count: max(0, k - sorted.count))
    }
}

/// A search result as `[b][q][slot]` candidates (`nil` position for the empty marker).
func searchRows<S: PatchScalar>(_ r: SearchResult<S>) -> [[[OracleCandidate]]] {
    let s = r.distances.shape
    let (B, Q, K) = s.count == 3 ? (s[0], s[1], s[2]) : (1, s[0], s[1])
    let positions = neighbourList(r.indices)
    return (0..<B).map { b in
        (0..<Q).map { q in
            (0..<K).map { m in
                OracleCandidate(position: positions[b][q][m], distance: Double(r.distances.scalars[(b * Q + q) * K + m]))
            }
        }
    }
}

/// Checks a search result against oracle candidates: same positions, scores within `relative`.
func expectSearchRows(_ actual: [[[OracleCandidate]]], _ expected: [[[OracleCandidate]]], relative: Double,
                      _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(what): batch count", sourceLocation: sourceLocation)
    var bad = 0, first = ""
    for (b, (x, y)) in zip(actual, expected).enumerated() {
        if x.count != y.count { bad += 1; first = "query count \(x.count) vs \(y.count)"; continue }
        for (q, (rx, ry)) in zip(x, y).enumerated() {
            if rx.count != ry.count { bad += 1; first = "slot count \(rx.count) vs \(ry.count)"; continue }
            for (m, (cx, cy)) in zip(rx, ry).enumerated() {
                let sameScore = cx.distance == cy.distance
                    || abs(cx.distance - cy.distance) <= relative * max(abs(cx.distance), abs(cy.distance), 1)
                if cx.position != cy.position || !sameScore {
                    bad += 1
                    if first.isEmpty {
                        first = "b \(b) q \(q) slot \(m): got \(cx.position.map { "\($0)" } ?? "empty") \(cx.distance), "
                            + "expected \(cy.position.map { "\($0)" } ?? "empty") \(cy.distance)"
                    }
                }
            }
        }
    }
    #expect(bad == 0, "\(what): \(bad) slots differ; first: \(first)", sourceLocation: sourceLocation)
}

// MARK: - Comparisons

/// Element-wise closeness: equal values (infinities included) pass; otherwise
/// `|a − b| ≤ max(absolute, relative · max(|a|, |b|))`. NaN never passes.
func expectAllClose(_ a: [Double], _ b: [Double], relative: Double = 0, absolute: Double = 0,
                    _ what: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    guard a.count == b.count else {
        Issue.record("\(what()): \(a.count) elements vs \(b.count)", sourceLocation: sourceLocation)
        return
    }
    var bad = 0, first = ""
    for i in a.indices {
        let x = a[i], y = b[i]
        if x == y { continue }
        let tolerance = max(absolute, relative * max(abs(x), abs(y)))
        if !(abs(x - y) <= tolerance) {
            bad += 1
            if first.isEmpty { first = "element \(i): \(x) vs \(y) (tolerance \(tolerance))" }
        }
    }
    #expect(bad == 0, "\(what()): \(bad) of \(a.count) elements differ; first \(first)", sourceLocation: sourceLocation)
}

/// Tensor version of ``expectAllClose(_:_:relative:absolute:_:sourceLocation:)`` that also checks shapes.
func expectAllClose<S: PatchScalar>(_ a: Tensor<S>, _ b: Tensor<S>, relative: Double = 0, absolute: Double = 0,
                                    _ what: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.shape == b.shape, "\(what()): shape \(a.shape) vs \(b.shape)", sourceLocation: sourceLocation)
    guard a.shape == b.shape else { return }
    expectAllClose(doubles(a), doubles(b), relative: relative, absolute: absolute, what(), sourceLocation: sourceLocation)
}

/// Exact equality of two arrays, reported as a count of differing elements (never the arrays).
func expectSame<T: Equatable>(_ a: [T], _ b: [T], _ what: @autoclosure () -> String = "",
                              sourceLocation: SourceLocation = #_sourceLocation) {
    guard a.count == b.count else {
        Issue.record("\(what()): \(a.count) elements vs \(b.count)", sourceLocation: sourceLocation)
        return
    }
    let differing = a.indices.filter { a[$0] != b[$0] }
    let first = differing.first.map { "first at \($0): \(a[$0]) vs \(b[$0])" } ?? ""
    #expect(differing.isEmpty, "\(what()): \(differing.count) of \(a.count) elements differ; \(first)",
            sourceLocation: sourceLocation)
}

/// Exact equality of two tensors (shape and elements), reported without dumping them.
func expectSame<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>, _ what: @autoclosure () -> String = "",
                                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.shape == b.shape, "\(what()): shape \(a.shape) vs \(b.shape)", sourceLocation: sourceLocation)
    guard a.shape == b.shape else { return }
    expectSame(a.scalars, b.scalars, what(), sourceLocation: sourceLocation)
}

/// Bitwise identity of two Float tensors (NaN payloads and signed zeros included).
func expectBitwiseEqual(_ a: Tensor<Float>, _ b: Tensor<Float>, _ what: String = "",
                        sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.shape == b.shape, "\(what): shape", sourceLocation: sourceLocation)
    let differing = zip(a.scalars, b.scalars).filter { $0.bitPattern != $1.bitPattern }.count
    #expect(differing == 0 && a.count == b.count, "\(what): \(differing) elements differ bitwise",
            sourceLocation: sourceLocation)
}

func dot(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    var s = 0.0
    for i in a.indices { s += a[i] * b[i] }
    return s
}

func norm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }

/// Checks `⟨A x, y⟩ = ⟨x, Aᵀ y⟩` within `relative · ‖A x‖ · ‖y‖` (and `‖x‖ · ‖Aᵀ y‖`).
func expectAdjoint(ax: [Double], y: [Double], x: [Double], aty: [Double], relative: Double = 1e-12,
                   _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    let lhs = dot(ax, y), rhs = dot(x, aty)
    let scale = max(norm(ax) * norm(y), norm(x) * norm(aty))
    #expect(scale > 0, "\(what): degenerate adjoint test (all zero)", sourceLocation: sourceLocation)
    #expect(abs(lhs - rhs) <= relative * scale, "\(what): ⟨Ax, y⟩ = \(lhs), ⟨x, Aᵀy⟩ = \(rhs)",
            sourceLocation: sourceLocation)
}

// MARK: - Finite differences

/// Central differences of `f` at `x`, one coordinate at a time.
func centralDifferences(_ x: [Double], step h: Double = 1e-6, _ f: ([Double]) throws -> Double) rethrows -> [Double] {
    var x = x
    var g = [Double](repeating: 0, count: x.count)
    for i in x.indices {
        let x0 = x[i]
        let up = x0 + h, down = x0 - h
        x[i] = up
        let fu = try f(x)
        x[i] = down
        let fd = try f(x)
        x[i] = x0
        g[i] = (fu - fd) / (up - down)
    }
    return g
}

/// Central differences of `f` at `x` for the coordinates `at` only (in that order).
func centralDifferences(_ x: [Double], at coordinates: [Int], step h: Double = 1e-6,
                        _ f: ([Double]) throws -> Double) rethrows -> [Double] {
    var x = x
    return try coordinates.map { i in
        let x0 = x[i]
        let up = x0 + h, down = x0 - h
        x[i] = up
        let fu = try f(x)
        x[i] = down
        let fd = try f(x)
        x[i] = x0
        return (fu - fd) / (up - down)
    }
}

/// About `count` distinct flat indices of a tensor of `shape`, half of them on the frame border
/// (first/last row or column of the last two axes), sorted.
func sampleCoordinates(_ shape: [Int], count: Int, _ rng: inout SplitMix64) -> [Int] {
    let n = shape.reduce(1, *)
    guard count < n else { return Array(0..<n) }
    let H = shape[shape.count - 2], W = shape[shape.count - 1]
    var chosen = Set<Int>()
    while chosen.count < count {
        let plane = rng.int(0..<(n / (H * W)))
        var h = rng.int(0..<H), w = rng.int(0..<W)
        if rng.chance(0.5) {
            if rng.chance(0.5) { h = rng.pick([0, H - 1]) } else { w = rng.pick([0, W - 1]) }
        }
        chosen.insert((plane * H + h) * W + w)
    }
    return chosen.sorted()
}

/// Checks `⟨∇f, u⟩` against `(f(x + h u) − f(x − h u)) / 2h` for random ±1 directions `u`.
func expectDirectionalDerivatives(_ x: [Double], gradient: [Double], directions: Int = 3, step h: Double = 1e-6,
                                  relative: Double = 1e-6, _ rng: inout SplitMix64, _ what: String = "",
                                  sourceLocation: SourceLocation = #_sourceLocation,
                                  _ f: ([Double]) throws -> Double) rethrows {
    for _ in 0..<directions {
        let u = x.map { _ in rng.chance(0.5) ? 1.0 : -1.0 }
        let up = zip(x, u).map { $0 + h * $1 }, down = zip(x, u).map { $0 - h * $1 }
        let numeric = (try f(up) - f(down)) / (2 * h)
        let analytic = dot(gradient, u)
        let scale = max(1, zip(gradient, u).reduce(0) { $0 + abs($1.0 * $1.1) })
        #expect(abs(numeric - analytic) <= relative * scale,
                "\(what): directional derivative \(analytic) vs finite difference \(numeric)", sourceLocation: sourceLocation)
    }
}

/// Checks an analytic gradient against finite differences sampled at `coordinates` plus random
/// directional derivatives over every coordinate.
func expectGradientMatchesFiniteDifferences(_ x: [Double], gradient: [Double], coordinates: [Int],
                                            relative: Double = 1e-6, _ rng: inout SplitMix64, _ what: String = "",
                                            sourceLocation: SourceLocation = #_sourceLocation,
                                            _ f: ([Double]) throws -> Double) rethrows {
    let numeric = try centralDifferences(x, at: coordinates, f)
    let scale = max(1, gradient.map(abs).max() ?? 0)
    expectAllClose(coordinates.map { gradient[$0] }, numeric, absolute: relative * scale, what, sourceLocation: sourceLocation)
    #expect(gradient.contains { $0 != 0 }, "\(what): the gradient is identically zero", sourceLocation: sourceLocation)
    try expectDirectionalDerivatives(x, gradient: gradient, relative: relative, &rng, what, sourceLocation: sourceLocation, f)
}

/// Checks an analytic gradient against finite differences: `|a − n| ≤ relative · max(1, max|a|)`.
func expectGradient(_ analytic: [Double], _ numeric: [Double], relative: Double = 1e-6, _ what: String = "",
                    sourceLocation: SourceLocation = #_sourceLocation) {
    let scale = max(1, analytic.map(abs).max() ?? 0)
    expectAllClose(analytic, numeric, absolute: relative * scale, what, sourceLocation: sourceLocation)
    #expect(analytic.contains { $0 != 0 }, "\(what): the gradient is identically zero", sourceLocation: sourceLocation)
}

// MARK: - Errors

/// The case of a ``DNLSError``, without its payload.
enum DNLSErrorKind: Sendable, Equatable {
    case invalidArgument, shapeMismatch, outOfRange, nonFinite, deviceMismatch, unavailable, outOfMemory, workspaceTooSmall
    case deviceFailure
    case fileAccess, fileFormat
}

extension DNLSError {
    var kind: DNLSErrorKind {
        switch self {
        case .invalidArgument: return .invalidArgument
        case .shapeMismatch: return .shapeMismatch
        case .outOfRange: return .outOfRange
        case .nonFinite: return .nonFinite
        case .deviceMismatch: return .deviceMismatch
        case .unavailable: return .unavailable
        case .outOfMemory: return .outOfMemory
        case .workspaceTooSmall: return .workspaceTooSmall
        case .deviceFailure: return .deviceFailure
        case .fileAccess: return .fileAccess
        case .fileFormat: return .fileFormat
        }
    }

    /// The argument the error names (nil for `.unavailable`, `.outOfMemory`, `.deviceFailure` and the
    /// file errors).
    var argumentName: String? {
        switch self {
        case let .invalidArgument(argument, _, _): return argument
        case let .shapeMismatch(argument, _, _): return argument
        case let .outOfRange(argument, _, _): return argument
        case let .nonFinite(argument, _): return argument
        case let .deviceMismatch(argument, _, _): return argument
        case .unavailable, .outOfMemory, .workspaceTooSmall, .deviceFailure, .fileAccess, .fileFormat: return nil
        }
    }
}

/// Expects `body` to throw a ``DNLSError`` of `kind` naming `argument`; returns the error.
@discardableResult
func expectDNLSError(_ kind: DNLSErrorKind, argument: String?, sourceLocation: SourceLocation = #_sourceLocation,
                     _ body: () throws -> Void) -> DNLSError? {
    let error = #expect(throws: DNLSError.self, sourceLocation: sourceLocation) { try body() }
    guard let error else { return nil }
    #expect(error.kind == kind, "wrong case: \(error)", sourceLocation: sourceLocation)
    #expect(error.argumentName == argument, "wrong argument: \(error)", sourceLocation: sourceLocation)
    return error
}
