import DNLS
import Testing

/// Region query grids: raster numbering, batches and the `fullPatchesOf` (torch `unfold`) count.
@Suite("Query grids")
struct QueryGridTests {
    /// Region [top 4, left 8, bottom 60, right 50], stride 2 → 28 × 21 grid and
    /// query 500 at (0, 50, 42).
    @Test("Raster numbering, reference worked example")
    func workedExample() throws {
        let grid = try QueryGrid(region: Region(frames: 0..<3, rows: 4..<60, columns: 8..<50), stride: 2)
        #expect(grid.rows == 28)
        #expect(grid.columns == 21)
        #expect(grid.frames == 3)
        #expect(grid.count == 3 * 588)
        #expect(grid.origin == Position(t: 0, h: 4, w: 8))
        #expect(grid.position(500) == Position(t: 0, h: 50, w: 42))
        #expect(grid.position(0) == Position(t: 0, h: 4, w: 8))
        #expect(grid.position(20) == Position(t: 0, h: 4, w: 48))
        #expect(grid.position(21) == Position(t: 0, h: 6, w: 8))
        #expect(grid.position(588) == Position(t: 1, h: 4, w: 8))
        #expect(grid.position(3 * 588 - 1) == Position(t: 2, h: 58, w: 48))
        #expect(grid.queryNumber(at: Position(t: 0, h: 50, w: 42)) == 500)
        #expect(grid.queryNumber(at: Position(t: 2, h: 58, w: 48)) == 3 * 588 - 1)
    }

    @Test("A region starting at a later frame numbers from its first frame")
    func laterFrames() throws {
        let grid = try QueryGrid(region: Region(frames: 2..<4, rows: 1..<5, columns: 0..<3), stride: 1)
        #expect(grid.count == 2 * 4 * 3)
        #expect(grid.position(0) == Position(t: 2, h: 1, w: 0))
        #expect(grid.position(12) == Position(t: 3, h: 1, w: 0))
        #expect(grid.queryNumber(at: Position(t: 1, h: 1, w: 0)) == nil)
        #expect(grid.queryNumber(at: Position(t: 4, h: 1, w: 0)) == nil)
    }

    static let regions: [Region] = [
        Region(frames: 0..<2, rows: 0..<9, columns: 0..<7),
        Region(frames: 1..<3, rows: 3..<11, columns: 2..<13),
        Region(frames: 0..<1, rows: 5..<6, columns: 4..<5),
        Region(frames: 0..<3, rows: 2..<17, columns: 1..<4),
    ]

    @Test("Grid positions are the strided raster of the region, and numbers round-trip",
          arguments: regions, [1, 2, 3, 5])
    func rasterRoundTrip(region: Region, stride: Int) throws {
        let grid = try QueryGrid(region: region, stride: stride)
        // Independent enumeration: frame, then row, then column.
        var expected = [Position]()
        for t in region.t0..<region.t1 {
            for h in Swift.stride(from: region.top, to: region.bottom, by: stride) {
                for w in Swift.stride(from: region.left, to: region.right, by: stride) {
                    expected.append(Position(t: t, h: h, w: w))
                }
            }
        }
        #expect(grid.count == expected.count)
        #expect(grid.rows == (region.bottom - region.top + stride - 1) / stride)
        #expect(grid.columns == (region.right - region.left + stride - 1) / stride)
        #expect((0..<grid.count).map { grid.position($0) } == expected)
        for (q, p) in expected.enumerated() {
            #expect(grid.queryNumber(at: p) == q)
        }
        // Positions off the grid have no number.
        #expect(grid.queryNumber(at: Position(t: region.t0, h: region.top - 1, w: region.left)) == nil)
        #expect(grid.queryNumber(at: Position(t: region.t0, h: region.top, w: region.right + stride)) == nil)
        #expect(grid.queryNumber(at: Position(t: region.t1, h: region.top, w: region.left)) == nil)
        if stride > 1, region.right - region.left > 1 {
            #expect(grid.queryNumber(at: Position(t: region.t0, h: region.top, w: region.left + 1)) == nil)
        }
    }

    /// torch.nn.functional.unfold places `(L − span) / stride + 1` patches along an axis of `L`.
    @Test("fullPatchesOf with a top-left anchor matches torch unfold's count",
          arguments: [1, 2, 3, 4, 5], [1, 2, 3])
    func torchUnfoldCount(ps: Int, dilation: Int) throws {
        for stride in 1...3 {
            for (top, bottom, left, right) in [(0, 16, 0, 13), (2, 15, 3, 9), (1, 6, 0, 16)] {
                let region = Region(frames: 0..<2, rows: top..<bottom, columns: left..<right)
                let g = PatchGeometry(patchSize: ps, dilation: dilation, anchor: .topLeft)
                let grid = try QueryGrid(region: region, stride: stride, fullPatchesOf: g)
                let span = (ps - 1) * dilation + 1
                let torchCount = { (L: Int) in L >= span ? (L - span) / stride + 1 : 0 }
                #expect(grid.rows == torchCount(bottom - top))
                #expect(grid.columns == torchCount(right - left))
                #expect(grid.count == 2 * torchCount(bottom - top) * torchCount(right - left))
                if grid.count > 0 {
                    #expect(grid.origin == Position(t: 0, h: top, w: left))
                    // Query (t, i, j) is the patch whose top-left corner is (top + i·s, left + j·s).
                    let last = grid.position(grid.count - 1)
                    #expect(last == Position(t: 1, h: top + (grid.rows - 1) * stride, w: left + (grid.columns - 1) * stride))
                    #expect(last.h + (ps - 1) * dilation < bottom)
                    #expect(last.w + (ps - 1) * dilation < right)
                    // One more step would stick out.
                    #expect(last.h + stride + (ps - 1) * dilation >= bottom)
                    #expect(last.w + stride + (ps - 1) * dilation >= right)
                }
            }
        }
    }

    @Test("fullPatchesOf with a centred anchor keeps every patch inside the region",
          arguments: [1, 2, 3, 4, 5], [1, 2])
    func centredFullPatches(ps: Int, dilation: Int) throws {
        let region = Region(frames: 0..<1, rows: 2..<15, columns: 1..<12)
        let g = PatchGeometry(patchSize: ps, dilation: dilation, anchor: .center)
        for stride in 1...3 {
            let grid = try QueryGrid(region: region, stride: stride, fullPatchesOf: g)
            // The first full patch's centre sits dilation·(ps/2) inside the region.
            let before = dilation * (ps / 2)
            #expect(grid.origin == Position(t: 0, h: 2 + before, w: 1 + before))
            var rows = 0
            while 2 + rows * stride + (ps - 1) * dilation < 15 { rows += 1 }
            var columns = 0
            while 1 + columns * stride + (ps - 1) * dilation < 12 { columns += 1 }
            #expect(grid.rows == rows)
            #expect(grid.columns == columns)
            for q in 0..<grid.count {
                let p = grid.position(q)
                let top = p.h - before, left = p.w - before
                #expect(top >= 2 && top + (ps - 1) * dilation < 15)
                #expect(left >= 1 && left + (ps - 1) * dilation < 12)
            }
        }
    }

    @Test("fullPatchesOf is empty when the patch does not fit")
    func emptyFullGrid() throws {
        let region = Region(frames: 0..<2, rows: 0..<4, columns: 0..<10)
        let grid = try QueryGrid(region: region, stride: 1, fullPatchesOf: PatchGeometry(patchSize: 3, dilation: 2))
        #expect(grid.rows == 0)
        #expect(grid.columns == 6) // (10 − 5) / 1 + 1
        #expect(grid.count == 0)
    }

    @Test("Region helpers")
    func regionHelpers() {
        let r = Region.whole(frames: 3, height: 7, width: 9)
        #expect(r.frames == 0..<3)
        #expect(r.rows == 0..<7)
        #expect(r.columns == 0..<9)
        let s = Region(frames: 1..<2, rows: 3..<4, columns: 5..<8)
        #expect((s.t0, s.t1, s.top, s.bottom, s.left, s.right) == (1, 2, 3, 4, 5, 8))
    }
}
