import Testing
@testable import DNLS
import DNLSTestSupport

// The fast CPU backend against the reference, method by method, on fresh random inputs. Every
// fast method except `search` is meant to be bit-identical to `ReferenceBackend<Float>` (same
// accumulation order per output element), and deterministic: a second run gives the same bits.

/// Draws used by this file's sweep, on the library's seeded generator.
private extension SplitMix64 {
    mutating func coin() -> Bool { next() & 1 == 1 }

    /// Uniform in [−1, 1).
    mutating func float() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }

    mutating func floats(_ n: Int) -> [Float] { (0..<n).map { _ in float() } }

    /// A coordinate in `0..<n`, at or next to a border about 40 % of the time.
    mutating func coordinate(_ n: Int) -> Int {
        switch int(0...9) {
        case 0: return 0
        case 1: return n - 1
        case 2: return min(1, n - 1)
        case 3: return max(0, n - 2)
        default: return int(0...(n - 1))
        }
    }
}

/// One point of the parameter sweep.
struct FastBackendCase: Sendable, CustomTestStringConvertible {
    let geometry: PatchGeometry
    let shape: VideoShape
    let seed: UInt64

    var testDescription: String {
        "ps \(geometry.patchSize) dil \(geometry.dilation) \(geometry.anchor) \(geometry.border) "
            + "B\(shape.batch) T\(shape.frames) C\(shape.channels) \(shape.height)×\(shape.width)"
    }

    /// ps ∈ {1, 2, 3, 4, 7} × dilation {1, 2} × anchor × border, with B, C, T and the frame varying.
    static let sweep: [FastBackendCase] = {
        var cases: [FastBackendCase] = []
        var rng = SplitMix64(seed: 0xFA57)
        var i = 0
        for ps in [1, 2, 3, 4, 7] {
            for dilation in [1, 2] {
                for anchor in PatchAnchor.allCases {
                    for border in Border.allCases {
                        let g = PatchGeometry(patchSize: ps, dilation: dilation, anchor: anchor, border: border)
                        let H = g.span + rng.int(0...4), W = g.span + rng.int(0...5)
                        let shape = VideoShape(batch: 1 + i % 2, frames: 1 + (i / 2) % 3, channels: [1, 3, 5][i % 3],
                                               height: H, width: W, batched: true)
                        cases.append(FastBackendCase(geometry: g, shape: shape, seed: 1000 + UInt64(i) * 7919))
                        i += 1
                    }
                }
            }
        }
        return cases
    }()
}

/// The default fast backend and one forced to split even tiny inputs into many tasks and bands.
private let fastBackends: [(String, FastCPUBackend)] = [
    ("default", FastCPUBackend()),
    ("split", FastCPUBackend(tuning: FastTuning(minimumParallelWork: 1, tasks: 64))),
]

private func maxRelativeError(_ a: [Float], _ b: [Float]) -> Double {
    guard a.count == b.count else { return .infinity }
    var worst = 0.0
    for (x, y) in zip(a, b) where x.bitPattern != y.bitPattern {
        if x.isNaN || y.isNaN { return .nan }
        let d = abs(Double(x) - Double(y)) / max(abs(Double(y)), 1e-30)
        worst = max(worst, d)
    }
    return worst
}

/// Bit equality, reporting the largest relative error when it fails.
private func expectBits(_ actual: [Float], _ expected: [Float], _ what: String,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    let same = actual.count == expected.count && zip(actual, expected).allSatisfy { $0.bitPattern == $1.bitPattern }
    #expect(same, "\(what): not bit-identical (count \(actual.count) vs \(expected.count), max relative error \(maxRelativeError(actual, expected)))",
            sourceLocation: sourceLocation)
}

/// Neighbour triples `(B, Q, K, 3)`: `emptyPercent` % empty slots, the others often near the
/// borders (or uniform when `nearBorders` is false).
private func randomNeighbours(_ rng: inout SplitMix64, _ s: VideoShape, queries Q: Int, k K: Int,
                              emptyPercent: Int = 15, nearBorders: Bool = true) -> [Int32] {
    var out: [Int32] = []
    for _ in 0..<(s.batch * Q * K) {
        if rng.int(0...99) < emptyPercent {
            out += [-1, -1, -1]
        } else if nearBorders {
            out += [Int32(rng.int(0...(s.frames - 1))), Int32(rng.coordinate(s.height)), Int32(rng.coordinate(s.width))]
        } else {
            out += [Int32(rng.int(0...(s.frames - 1))), Int32(rng.int(0...(s.height - 1))),
                    Int32(rng.int(0...(s.width - 1)))]
        }
    }
    return out
}

/// A query grid over a region touching at least one border of the frame, and a batch of it.
private func randomGrid(_ rng: inout SplitMix64, _ c: FastBackendCase) throws -> (QueryGrid, Range<Int>) {
    let s = c.shape
    func span(_ n: Int) -> Range<Int> {
        let lo = rng.coin() ? 0 : rng.int(0...(n / 2))
        let hi = (lo == 0 && rng.coin()) ? rng.int((lo + 1)...n) : n
        return lo..<hi
    }
    let t0 = rng.int(0...(s.frames - 1)), t1 = rng.int((t0 + 1)...s.frames)
    let region = Region(frames: t0..<t1, rows: span(s.height), columns: span(s.width))
    let stride = rng.int(1...3)
    var grid = try QueryGrid(region: region, stride: stride)
    if rng.coin() {
        let full = try QueryGrid(region: region, stride: stride, fullPatchesOf: c.geometry)
        if full.count > 0 { grid = full }
    }
    let lo = rng.int(0...(grid.count - 1))
    return (grid, lo..<rng.int((lo + 1)...grid.count))
}

@Suite("Fast CPU backend")
struct FastBackendTests {
    let reference = ReferenceBackend<Float>()

    /// extract, deposit (weights × weightSum), weightedSum and its backward, on neighbour and grid sites.
    @Test(arguments: FastBackendCase.sweep)
    func patchOperations(_ c: FastBackendCase) throws {
        var rng = SplitMix64(seed: c.seed)
        let s = c.shape, g = c.geometry, entries = s.channels * g.patchSize * g.patchSize
        let video = rng.floats(s.count)
        let Q = rng.int(2...6), K = rng.int(1...6)
        let (grid, batch) = try randomGrid(&rng, c)
        let siteSets = [
            ("neighbours", PatchSites(neighbours: randomNeighbours(&rng, s, queries: Q, k: K), queries: Q, k: K)),
            ("grid \(grid.region) stride \(grid.stride) batch \(batch)", PatchSites(grid: grid, batch: batch)),
        ]
        for (name, sites) in siteSets {
            let n = s.batch * sites.queries * sites.k
            let patches = rng.floats(n * entries), weights = rng.floats(n)
            let gradient = rng.floats(s.batch * sites.queries * entries)
            let base = rng.floats(s.count), sumBase = rng.floats(s.batch * s.frames * s.height * s.width)

            let extracted = reference.extract(video, shape: s, sites: sites, geometry: g)
            let summed = reference.weightedSum(video, shape: s, weights: weights, sites: sites, geometry: g)
            let back = reference.weightedSumBackward(video, shape: s, weights: weights, sites: sites, geometry: g,
                                                     gradient: gradient)
            for (label, fast) in fastBackends {
                let what = "\(label), \(name)"
                let e1 = fast.extract(video, shape: s, sites: sites, geometry: g)
                let e2 = fast.extract(video, shape: s, sites: sites, geometry: g)
                expectBits(e1, extracted, "extract \(what)")
                expectBits(e2, e1, "extract rerun \(what)")

                for useWeights in [false, true] {
                    for useSum in [false, true] {
                        let w = useWeights ? weights : nil
                        var v0 = base, v1 = base, v2 = base
                        var sum0: [Float]? = useSum ? sumBase : nil, sum1 = sum0, sum2 = sum0
                        reference.deposit(patches, weights: w, sites: sites, geometry: g, into: &v0, shape: s, weightSum: &sum0)
                        fast.deposit(patches, weights: w, sites: sites, geometry: g, into: &v1, shape: s, weightSum: &sum1)
                        fast.deposit(patches, weights: w, sites: sites, geometry: g, into: &v2, shape: s, weightSum: &sum2)
                        let how = "\(what), weights \(useWeights), weightSum \(useSum)"
                        expectBits(v1, v0, "deposit video \(how)")
                        expectBits(v2, v1, "deposit video rerun \(how)")
                        #expect((sum1 == nil) == (sum0 == nil))
                        if let sum0, let sum1, let sum2 {
                            expectBits(sum1, sum0, "deposit weightSum \(how)")
                            expectBits(sum2, sum1, "deposit weightSum rerun \(how)")
                        }
                    }
                }

                let s1 = fast.weightedSum(video, shape: s, weights: weights, sites: sites, geometry: g)
                let s2 = fast.weightedSum(video, shape: s, weights: weights, sites: sites, geometry: g)
                expectBits(s1, summed, "weightedSum \(what)")
                expectBits(s2, s1, "weightedSum rerun \(what)")

                let b1 = fast.weightedSumBackward(video, shape: s, weights: weights, sites: sites, geometry: g, gradient: gradient)
                let b2 = fast.weightedSumBackward(video, shape: s, weights: weights, sites: sites, geometry: g, gradient: gradient)
                expectBits(b1.video, back.video, "weightedSumBackward video \(what)")
                expectBits(b1.weights, back.weights, "weightedSumBackward weights \(what)")
                expectBits(b2.video, b1.video, "weightedSumBackward video rerun \(what)")
                expectBits(b2.weights, b1.weights, "weightedSumBackward weights rerun \(what)")
            }
        }
    }

    /// searchBackward: L2 and inner product, leading channels, self and cross search, explicit and
    /// grid queries, neighbour lists with empty slots.
    @Test(arguments: FastBackendCase.sweep)
    func searchBackward(_ c: FastBackendCase) throws {
        var rng = SplitMix64(seed: c.seed ^ 0x5EA2C4)
        let s = c.shape
        let video = rng.floats(s.count)
        let crossKeys = rng.floats(s.count)
        for metric in SearchMetric.allCases {
            for gridQueries in [false, true] {
                let selfSearch = rng.coin()
                let channels = rng.int(1...s.channels)
                let queries: Queries
                if gridQueries {
                    let (grid, batch) = try randomGrid(&rng, c)
                    queries = .grid(grid, batch: batch)
                } else {
                    let Q = rng.int(2...6)
                    var triples: [Int32] = []
                    for _ in 0..<(s.batch * Q) {
                        triples += [Int32(rng.int(0...(s.frames - 1))), Int32(rng.coordinate(s.height)),
                                    Int32(rng.coordinate(s.width))]
                    }
                    queries = .positions(try Tensor(shape: [s.batch, Q, 3], scalars: triples))
                }
                let list = try QueryList(queries, video: s)
                let K = rng.int(1...3)
                let problem = SearchProblem<Float>(
                    video: video, keys: selfSearch ? video : crossKeys, shape: s, queries: list,
                    geometry: c.geometry, window: SearchWindow(size: 3), k: K, metric: metric,
                    channels: channels, flows: .none)
                let indices = randomNeighbours(&rng, s, queries: list.count, k: K)
                let gradient = rng.floats(s.batch * list.count * K)
                let expected = reference.searchBackward(problem, indices: indices, gradient: gradient)
                for (label, fast) in fastBackends {
                    let what = "\(label), \(metric), \(gridQueries ? "grid" : "explicit") queries, "
                        + "\(selfSearch ? "self" : "cross"), channels \(channels)"
                    let r1 = fast.searchBackward(problem, indices: indices, gradient: gradient)
                    let r2 = fast.searchBackward(problem, indices: indices, gradient: gradient)
                    expectBits(r1.video, expected.video, "searchBackward video \(what)")
                    expectBits(r1.keys, expected.keys, "searchBackward keys \(what)")
                    expectBits(r2.video, r1.video, "searchBackward video rerun \(what)")
                    expectBits(r2.keys, r1.keys, "searchBackward keys rerun \(what)")
                }
            }
        }
    }

    /// One input large enough for the default tuning to go parallel (row bands, query chunks).
    @Test func largeInputUsesParallelPaths() throws {
        var rng = SplitMix64(seed: 0xB16)
        let g = PatchGeometry(patchSize: 7, dilation: 1, anchor: .center, border: .reflect)
        let s = VideoShape(batch: 1, frames: 2, channels: 3, height: 36, width: 30, batched: true)
        let Q = 90, K = 4, entries = s.channels * 49
        let sites = PatchSites(neighbours: randomNeighbours(&rng, s, queries: Q, k: K, emptyPercent: 3, nearBorders: false),
                               queries: Q, k: K)
        let video = rng.floats(s.count), patches = rng.floats(Q * K * entries), weights = rng.floats(Q * K)
        let fast = FastCPUBackend()

        expectBits(fast.extract(video, shape: s, sites: sites, geometry: g),
                   reference.extract(video, shape: s, sites: sites, geometry: g), "extract")

        var v0 = video, v1 = video
        var sum0: [Float]? = [Float](repeating: 0, count: s.frames * s.height * s.width), sum1 = sum0
        reference.deposit(patches, weights: weights, sites: sites, geometry: g, into: &v0, shape: s, weightSum: &sum0)
        fast.deposit(patches, weights: weights, sites: sites, geometry: g, into: &v1, shape: s, weightSum: &sum1)
        expectBits(v1, v0, "deposit video")
        expectBits(sum1 ?? [], sum0 ?? [], "deposit weightSum")

        let summed = fast.weightedSum(video, shape: s, weights: weights, sites: sites, geometry: g)
        expectBits(summed, reference.weightedSum(video, shape: s, weights: weights, sites: sites, geometry: g),
                   "weightedSum")
        let patchGradient = rng.floats(Q * entries)
        let back = fast.weightedSumBackward(video, shape: s, weights: weights, sites: sites, geometry: g,
                                            gradient: patchGradient)
        let backExpected = reference.weightedSumBackward(video, shape: s, weights: weights, sites: sites, geometry: g,
                                                         gradient: patchGradient)
        expectBits(back.video, backExpected.video, "weightedSumBackward video")
        expectBits(back.weights, backExpected.weights, "weightedSumBackward weights")

        let queries = try QueryList(.grid(try QueryGrid(region: .whole(frames: 2, height: 36, width: 30), stride: 3)),
                                    video: s)
        let problem = SearchProblem<Float>(
            video: video, keys: rng.floats(s.count), shape: s, queries: queries, geometry: g,
            window: SearchWindow(size: 5), k: K, metric: .l2, channels: 3, flows: .none)
        let indices = randomNeighbours(&rng, s, queries: queries.count, k: K)
        let gradient = rng.floats(queries.count * K)
        let expected = reference.searchBackward(problem, indices: indices, gradient: gradient)
        let actual = fast.searchBackward(problem, indices: indices, gradient: gradient)
        expectBits(actual.video, expected.video, "searchBackward video")
        expectBits(actual.keys, expected.keys, "searchBackward keys")
    }
}
