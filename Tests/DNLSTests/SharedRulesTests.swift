import Testing
@testable import DNLS

/// The rules every backend shares (`dnls_rules.h`, which the kernels compile and the CPU backends
/// call), checked against their definitions written out here on random and edge-case inputs.
@Suite("Shared rules")
struct SharedRulesTests {
    /// The flow hop as defined: x moved by d, rounded half up, clamped into [0, last], in `S`.
    static func hop<S: PatchScalar>(_ x: Int, _ d: S, last: Int) -> S {
        Swift.min(Swift.max((S(x) + d + 0.5).rounded(.down), 0), S(last))
    }

    @Test("The flow hop rounds half up and clamps, in Float and in Double")
    func flowHop() {
        var rng = SplitMix64(seed: 21)
        func check<S: PatchScalar>(_: S.Type) {
            for _ in 0..<20_000 {
                let n = Int.random(in: 1...300, using: &rng), x = Int.random(in: 0..<n, using: &rng)
                // Whole and half displacements (the rounding edge), and arbitrary ones.
                let d: S = switch Int.random(in: 0..<3, using: &rng) {
                case 0: S(Int.random(in: -2 * n...2 * n, using: &rng)) + 0.5
                case 1: S(Int.random(in: -2 * n...2 * n, using: &rng))
                default: S(Double.random(in: -2 * Double(n)...2 * Double(n), using: &rng))
                }
                let got = S.flowHop(S(x), d, last: S(n - 1))
                #expect(got == Self.hop(x, d, last: n - 1), "x \(x) d \(d) n \(n)")
                #expect(FlowChain<S>.hop(x, d, n) == Int(got))
            }
        }
        check(Float.self)
        check(Double.self)
        #expect(Float.flowHop(3, 0.5, last: 9) == 4 && Float.flowHop(3, -0.5, last: 9) == 3)  // half up, both ways
        #expect(Float.flowHop(0, -7.2, last: 9) == 0 && Float.flowHop(8, 3.9, last: 9) == 9)  // clamped
    }

    /// The ranking as defined: smaller key first, ties to the smaller number, NaN after every number.
    static func ahead<S: PatchScalar>(_ ka: S, _ ea: Int, _ kb: S, _ eb: Int) -> Bool {
        switch (ka.isNaN, kb.isNaN) {
        case (true, true): ea < eb
        case (true, false): false
        case (false, true): true
        case (false, false): ka < kb || (ka == kb && ea < eb)
        }
    }

    @Test("The ranking is the key order with ties by number and NaN last, a strict total order")
    func ranking() {
        var rng = SplitMix64(seed: 22)
        func check<S: PatchScalar>(_: S.Type) {
            let special: [S] = [.nan, .infinity, -.infinity, 0, -0.0, 1, -1, .leastNonzeroMagnitude]
            var items: [(S, Int)] = []
            for e in 0..<400 {
                let key = Bool.random(using: &rng) ? special.randomElement(using: &rng)! : S(Int.random(in: -3...3, using: &rng))
                items.append((key, e))
            }
            for (ka, ea) in items.prefix(120) {
                for (kb, eb) in items.prefix(120) {
                    let got = S.ranksAhead(ka, ea, of: kb, eb)
                    #expect(got == Self.ahead(ka, ea, kb, eb), "\(ka) #\(ea) vs \(kb) #\(eb)")
                    if ea != eb { #expect(got != S.ranksAhead(kb, eb, of: ka, ea)) }  // exactly one goes first
                }
            }
            let sorted = items.sorted { S.ranksAhead($0.0, $0.1, of: $1.0, $1.1) }
            for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(S.ranksAhead(a.0, a.1, of: b.0, b.1)) }
        }
        check(Float.self)
        check(Double.self)
    }

    @Test("Candidate numbers count frame slots, then window rows, then columns, and decode back")
    func candidateNumbers() {
        for ws in [1, 2, 3, 7, 21] {
            var expected = 0
            for slot in 0..<5 {
                for row in 0..<ws {
                    for col in 0..<ws {
                        #expect(CandidateNumber.of(slot: slot, row: row, col: col, windowSize: ws) == expected)
                        let back = CandidateNumber.position(of: expected, windowSize: ws)
                        #expect(back.slot == slot && back.row == row && back.col == col)
                        expected += 1
                    }
                }
            }
        }
    }

    @Test("Grid numbers and positions invert each other, and positions off the grid have none")
    func gridNumbering() throws {
        var rng = SplitMix64(seed: 23)
        for _ in 0..<200 {
            let (T, H, W) = (Int.random(in: 1...4, using: &rng), Int.random(in: 1...20, using: &rng), Int.random(in: 1...20, using: &rng))
            let t0 = Int.random(in: 0..<T, using: &rng), top = Int.random(in: 0..<H, using: &rng), left = Int.random(in: 0..<W, using: &rng)
            let region = Region(frames: t0..<T, rows: top..<H, columns: left..<W)
            let grid = try QueryGrid(region: region, stride: Int.random(in: 1...4, using: &rng))
            var onGrid = Set<[Int]>()
            for q in 0..<grid.count {
                let p = grid.position(q)
                // Raster order written out: frame, then row, then column.
                let perFrame = grid.rows * grid.columns, r = q % perFrame
                #expect(p == Position(t: t0 + q / perFrame, h: top + grid.stride * (r / grid.columns),
                                      w: left + grid.stride * (r % grid.columns)))
                #expect(grid.queryNumber(at: p) == q)
                onGrid.insert([p.t, p.h, p.w])
            }
            for t in -1...T { for h in -1...H { for w in -1...W where !onGrid.contains([t, h, w]) {
                #expect(grid.queryNumber(at: Position(t: t, h: h, w: w)) == nil)
            } } }
        }
    }

    @Test("A window of 2³¹ or more candidates per query is refused, not numbered past 32 bits")
    func candidateNumbersStayIn32Bits() throws {
        // One row of 23 171 pixels admits a window of 46 341 columns: 46 341² > 2³¹ − 1 candidates.
        let video = Tensor<Float>(repeating: 0, shape: [1, 1, 1, 23_171])
        let search = PatchSearch(geometry: PatchGeometry(patchSize: 1), window: SearchWindow(size: 46_341), k: 1)
        #expect {
            _ = try search(video, queries: .grid(try QueryGrid(region: .whole(frames: 1, height: 1, width: 1))))
        } throws: { error in
            guard case let .invalidArgument(argument, _, _) = error as? DNLSError else { return false }
            return argument == "window"
        }
    }
}
