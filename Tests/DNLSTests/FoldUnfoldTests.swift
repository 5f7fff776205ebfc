import DNLS
import DNLSTestSupport
import Testing

/// iunfold / ifold: the torch `unfold` / `fold` equivalences re-derived as loops, region unfolds
/// against an independent loop, coverage counts and the round trip `fold(unfold(x)) / fold(1) == x`.
@Suite("Fold and unfold")
struct FoldUnfoldTests {
    struct TorchCase: Sendable, CustomTestStringConvertible {
        var ps: Int, dilation: Int, stride: Int
        var testDescription: String { "ps \(ps) dil \(dilation) stride \(stride)" }
    }

    static let torchCases: [TorchCase] = [
        TorchCase(ps: 1, dilation: 1, stride: 1), TorchCase(ps: 2, dilation: 1, stride: 1),
        TorchCase(ps: 3, dilation: 1, stride: 2), TorchCase(ps: 3, dilation: 2, stride: 1),
        TorchCase(ps: 4, dilation: 1, stride: 3), TorchCase(ps: 4, dilation: 2, stride: 2),
        TorchCase(ps: 5, dilation: 1, stride: 4), TorchCase(ps: 2, dilation: 3, stride: 2),
    ]

    /// `F.unfold(x, ps, dilation, padding=0, stride)` of a `(T, C, h, w)` crop at (top, left),
    /// rows ordered `(t, i, j)`, columns `(c, a, b)`: patch `(i, j)` entry `(a, b)` reads
    /// `(top + i·s + a·dil, left + j·s + b·dil)`.
    static func torchUnfold(_ v: VideoView, top: Int, left: Int, height: Int, width: Int, frames: Range<Int>,
                            ps: Int, dilation: Int, stride: Int) -> [Double] {
        let span = (ps - 1) * dilation + 1
        let nh = (height - span) / stride + 1, nw = (width - span) / stride + 1
        var out = [Double]()
        for t in frames {
            for i in 0..<nh {
                for j in 0..<nw {
                    for c in 0..<v.C {
                        for a in 0..<ps {
                            for b in 0..<ps {
                                out.append(v.at(0, t, c, top + i * stride + a * dilation, left + j * stride + b * dilation))
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// `F.fold` of the same layout: every entry added to the pixel it came from (overlaps summed).
    static func torchFold(_ patches: [Double], T: Int, C: Int, H: Int, W: Int, top: Int, left: Int, height: Int, width: Int,
                          frames: Range<Int>, ps: Int, dilation: Int, stride: Int) -> [Double] {
        let span = (ps - 1) * dilation + 1
        let nh = (height - span) / stride + 1, nw = (width - span) / stride + 1
        var out = [Double](repeating: 0, count: T * C * H * W)
        var o = 0
        for t in frames {
            for i in 0..<nh {
                for j in 0..<nw {
                    for c in 0..<C {
                        for a in 0..<ps {
                            for b in 0..<ps {
                                let h = top + i * stride + a * dilation, w = left + j * stride + b * dilation
                                out[((t * C + c) * H + h) * W + w] += patches[o]
                                o += 1
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    @Test("Top-left anchor, full patches, zero border: iunfold == torch unfold and ifold == torch fold",
          arguments: torchCases)
    func torchEquivalence(c: TorchCase) throws {
        var rng = SplitMix64(seed: 400 + UInt64(c.ps * 10 + c.dilation * 3 + c.stride))
        let (T, C, H, W) = (2, 2, 13, 11)
        let x: Tensor<Double> = randomTensor([T, C, H, W], &rng)
        let g = PatchGeometry(patchSize: c.ps, dilation: c.dilation, anchor: .topLeft, border: .zero)
        // The whole frame (torch on the video) and a crop (torch on the cropped video).
        for region in [Region.whole(frames: T, height: H, width: W), Region(frames: 1..<2, rows: 2..<12, columns: 1..<9)] {
            let grid = try QueryGrid(region: region, stride: c.stride, fullPatchesOf: g)
            let height = region.bottom - region.top, width = region.right - region.left
            let expected = Self.torchUnfold(VideoView(x), top: region.top, left: region.left, height: height, width: width,
                                            frames: region.frames, ps: c.ps, dilation: c.dilation, stride: c.stride)
            let unfolded = try PatchUnfold(geometry: g)(x, grid: grid, implementation: .reference)
            #expect(unfolded.shape == [grid.count, 1, C, c.ps, c.ps])
            #expect(unfolded.count == expected.count)
            expectAllClose(doubles(unfolded), expected, "unfold \(region)")

            let patches: Tensor<Double> = randomTensor(unfolded.shape, &rng, -1, 1)
            let folded = try PatchFold(geometry: g)(patches, grid: grid, videoShape: [T, C, H, W], implementation: .reference)
            let expectedFold = Self.torchFold(doubles(patches), T: T, C: C, H: H, W: W, top: region.top, left: region.left,
                                              height: height, width: width, frames: region.frames, ps: c.ps,
                                              dilation: c.dilation, stride: c.stride)
            expectAllClose(doubles(folded), expectedFold, relative: 1e-14, absolute: 1e-14, "fold \(region)")
        }
    }

    /// Independent region unfold: every grid position of the region, patch entries read through the
    /// border rule (patches may stick out of the region and of the frame).
    @Test("Region iunfold and ifold equal independent loops", arguments: Border.allCases, PatchAnchor.allCases)
    func regionLoops(border: Border, anchor: PatchAnchor) throws {
        var rng = SplitMix64(seed: 410)
        let (T, C, H, W) = (3, 2, 9, 10)
        let x: Tensor<Double> = randomTensor([T, C, H, W], &rng)
        let v = VideoView(x)
        for (ps, dilation) in [(3, 1), (4, 1), (2, 2), (5, 2)] {
            let g = PatchGeometry(patchSize: ps, dilation: dilation, anchor: anchor, border: border)
            for region in [Region(frames: 0..<3, rows: 0..<9, columns: 0..<10), Region(frames: 1..<3, rows: 0..<5, columns: 4..<10),
                           Region(frames: 2..<3, rows: 6..<9, columns: 0..<3)] {
                for stride in [1, 2, 3] {
                    let grid = try QueryGrid(region: region, stride: stride)
                    var positions = [Position]()
                    for t in region.frames {
                        for h in Swift.stride(from: region.top, to: region.bottom, by: stride) {
                            for w in Swift.stride(from: region.left, to: region.right, by: stride) {
                                positions.append(Position(t: t, h: h, w: w))
                            }
                        }
                    }
                    let batch = 1..<positions.count
                    let expected = batch.flatMap { oraclePatch(v, 0, positions[$0], g) }
                    let got = try PatchUnfold(geometry: g)(x, grid: grid, batch: batch, implementation: .reference)
                    expectAllClose(doubles(got), expected, "unfold ps \(ps) dil \(dilation) \(region) stride \(stride)")

                    let patches: Tensor<Double> = randomTensor(got.shape, &rng, -1, 1)
                    var expectedFold = [Double](repeating: 0, count: x.count)
                    let per = C * ps * ps
                    for (i, q) in batch.enumerated() {
                        oracleDeposit(patches.scalars[(i * per)..<((i + 1) * per)], weight: 1, at: positions[q], batch: 0, g,
                                      into: &expectedFold, shape: (1, T, C, H, W))
                    }
                    let folded = try PatchFold(geometry: g)(patches, grid: grid, batch: batch, videoShape: [T, C, H, W],
                                                            implementation: .reference)
                    expectAllClose(doubles(folded), expectedFold, relative: 1e-13, absolute: 1e-13,
                                   "fold ps \(ps) dil \(dilation) \(region) stride \(stride)")
                }
            }
        }
    }

    /// 1-D counts for ps 3, H 5, full frame, zero border (torch's `fold` of ones with padding 1
    /// gives the same): stride 1 → [2, 3, 3, 3, 2], stride 2 → [1, 2, 1, 2, 1]. With reflection,
    /// the mirrored reads add to the pixels next to the edges: stride 1 → [2, 4, 3, 4, 2]. 2-D
    /// counts are products.
    @Test("Coverage counts of fold(ones), worked examples", arguments: [
        (Border.zero, 1, [2.0, 3, 3, 3, 2]),
        (Border.zero, 2, [1.0, 2, 1, 2, 1]),
        (Border.reflect, 1, [2.0, 4, 3, 4, 2]),
        (Border.reflect, 2, [1.0, 3, 1, 3, 1]),
    ])
    func coverageCounts(border: Border, stride: Int, counts: [Double]) throws {
        let g = PatchGeometry(patchSize: 3, border: border)
        let grid = try QueryGrid(region: .whole(frames: 1, height: 5, width: 5), stride: stride)
        let ones = Tensor<Double>(repeating: 1, shape: [grid.count, 1, 1, 3, 3])
        let z = try PatchFold(geometry: g)(ones, grid: grid, videoShape: [1, 1, 5, 5], implementation: .reference)
        var expected = [Double]()
        for h in 0..<5 { for w in 0..<5 { expected.append(counts[h] * counts[w]) } }
        #expect(z.scalars == expected)
    }

    struct RoundTrip: Sendable, CustomTestStringConvertible {
        var border: Border, anchor: PatchAnchor, ps: Int, stride: Int
        var testDescription: String { "\(border) \(anchor) ps \(ps) stride \(stride)" }
    }

    static let roundTrips: [RoundTrip] = {
        var list = [RoundTrip]()
        for border in Border.allCases {
            for anchor in PatchAnchor.allCases {
                for ps in [2, 3, 4, 5] {
                    for stride in [1, 2, 3] {
                        list.append(RoundTrip(border: border, anchor: anchor, ps: ps, stride: stride))
                    }
                }
            }
        }
        return list
    }()

    @Test("fold(unfold(x)) / fold(1) == x on covered pixels; uncovered pixels get nothing", arguments: roundTrips)
    func roundTrip(c: RoundTrip) throws {
        var rng = SplitMix64(seed: 420 + UInt64(c.ps * 7 + c.stride))
        let (T, C, H, W) = (2, 2, 11, 9)
        let x: Tensor<Double> = randomTensor([T, C, H, W], &rng, 0.5, 1.5)
        for dilation in [1, 2] {
            let g = PatchGeometry(patchSize: c.ps, dilation: dilation, anchor: c.anchor, border: c.border)
            for region in [Region.whole(frames: T, height: H, width: W), Region(frames: 0..<1, rows: 0..<6, columns: 4..<9),
                           Region(frames: 1..<2, rows: 5..<11, columns: 0..<4), Region(frames: 0..<2, rows: 3..<8, columns: 2..<7)] {
                let grid = try QueryGrid(region: region, stride: c.stride)
                let unfold = PatchUnfold(geometry: g), fold = PatchFold(geometry: g)
                let patches = try unfold(x, grid: grid, implementation: .reference)
                let numerator = try fold(patches, grid: grid, videoShape: [T, C, H, W], implementation: .reference)
                let z = try fold(Tensor<Double>(repeating: 1, shape: patches.shape), grid: grid, videoShape: [T, C, H, W],
                                 implementation: .reference)
                // Independent coverage count: how many (query, a, b) read each pixel.
                var count = [Double](repeating: 0, count: T * H * W)
                for q in 0..<grid.count {
                    let p = grid.position(q)
                    for a in 0..<c.ps {
                        for b in 0..<c.ps {
                            if let (r, col) = oraclePixel(p.h, p.w, a, b, g, height: H, width: W) {
                                count[(p.t * H + r) * W + col] += 1
                            }
                        }
                    }
                }
                var bad = 0, covered = 0, uncovered = 0
                for t in 0..<T {
                    for ch in 0..<C {
                        for h in 0..<H {
                            for w in 0..<W {
                                let i = ((t * C + ch) * H + h) * W + w, n = count[(t * H + h) * W + w]
                                if z.scalars[i] != n { bad += 1 }
                                if n > 0 {
                                    covered += 1
                                    let ratio = numerator.scalars[i] / z.scalars[i]
                                    if !(abs(ratio - x.scalars[i]) <= 1e-14 * abs(x.scalars[i])) { bad += 1 }
                                } else {
                                    uncovered += 1
                                    if numerator.scalars[i] != 0 { bad += 1 }
                                }
                            }
                        }
                    }
                }
                #expect(bad == 0, "dil \(dilation) \(region): \(bad) pixels wrong (\(covered) covered, \(uncovered) not)")
                // Every pixel of the region is covered at stride 1.
                if c.stride == 1 {
                    for t in region.frames {
                        for h in region.rows { for w in region.columns { #expect(count[(t * H + h) * W + w] > 0) } }
                    }
                }
            }
        }
    }

    @Test("Uncovered pixels exist and stay zero: ps 3, stride 4 leaves rows 2, 6, …")
    func uncoveredRows() throws {
        let g = PatchGeometry(patchSize: 3, border: .zero)
        let grid = try QueryGrid(region: .whole(frames: 1, height: 9, width: 9), stride: 4)
        let x = Tensor<Double>(repeating: 2, shape: [1, 1, 9, 9])
        let p = try PatchUnfold(geometry: g)(x, grid: grid, implementation: .reference)
        let folded = try PatchFold(geometry: g)(p, grid: grid, videoShape: [1, 1, 9, 9], implementation: .reference)
        let z = try PatchFold(geometry: g)(Tensor(repeating: 1, shape: p.shape), grid: grid, videoShape: [1, 1, 9, 9],
                                           implementation: .reference)
        // Centres 0, 4, 8 cover rows {0, 1} ∪ {3, 4, 5} ∪ {7, 8}: rows/columns 2 and 6 are uncovered.
        let coveredRows: Set = [0, 1, 3, 4, 5, 7, 8]
        for h in 0..<9 {
            for w in 0..<9 {
                let inside = coveredRows.contains(h) && coveredRows.contains(w)
                #expect((z[0, 0, h, w] > 0) == inside)
                #expect(folded[0, 0, h, w] == (inside ? 2 * z[0, 0, h, w] : 0))
            }
        }
    }

    @Test("ifold accumulate adds to the existing video")
    func accumulateAdds() throws {
        var rng = SplitMix64(seed: 430)
        let g = PatchGeometry(patchSize: 3)
        let grid = try QueryGrid(region: .whole(frames: 2, height: 6, width: 6), stride: 2)
        let p: Tensor<Double> = randomTensor([grid.count, 1, 1, 3, 3], &rng)
        let start: Tensor<Double> = randomTensor([2, 1, 6, 6], &rng)
        var video = start
        try PatchFold(geometry: g).accumulate(p, grid: grid, into: &video, implementation: .reference)
        let alone = try PatchFold(geometry: g)(p, grid: grid, videoShape: [2, 1, 6, 6], implementation: .reference)
        expectAllClose(doubles(video), zip(start.scalars, alone.scalars).map { $0 + $1 }, relative: 1e-15, "accumulate")
    }
}
