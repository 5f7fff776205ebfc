import Testing
@testable import DNLS

/// How the box-filtered search divides its units of work over blocks (`BoxSearchPlan.split`), and
/// the part slots through which blocks that share a tile hand their lists to search_box_merge:
/// checked on the host with the kernels' own index formulas.
@Suite struct BoxSearchSplitTests {
    func plan(channels: Int, side: Int, frames: Int = 5, stride: Int = 1, window: Int = 21) throws -> BoxSearchPlan {
        let grid = try QueryGrid(region: .whole(frames: frames, height: side, width: side), stride: stride)
        return try #require(BoxSearchPlan(geometry: PatchGeometry(patchSize: 7),
                                          window: SearchWindow(size: window, stride: 1, temporalRadius: 2),
                                          channels: channels, batch: 1, grid: grid, multiprocessors: 132,
                                          sharedMemoryLimit: 227 * 1024))
    }

    @Test func s3SpreadsItsUnitsOverEveryBlockSlot() throws {
        let p = try plan(channels: 16, side: 256, stride: 4)
        // 320 tiles × 5 frames × 11 groups of two window rows = 17 600 units over 132 × 3 slots:
        // 45 a block (the busiest slot had a whole tile, 55, before).
        let split = p.split(frameSlots: 5, kept: 10, multiprocessors: 132)
        #expect(split == BoxSearchPlan.Split(unitsPerBlock: 45, blocks: 392, sharesTiles: true, partLists: 2 * 392 * 64))
        #expect(p.constants(for: split).definitions["BOX_SPLIT"] == "1")
        // Every candidate written at its slot: no lists to join.
        #expect(p.split(frameSlots: 5, kept: nil, multiprocessors: 132).partLists == 0)
        // Lists too long for the part budget: one block per tile.
        let long = p.split(frameSlots: 5, kept: 2000, multiprocessors: 132)
        #expect(long == BoxSearchPlan.Split(unitsPerBlock: 55, blocks: 320, sharesTiles: false, partLists: 0))
        #expect(p.constants(for: long).definitions["BOX_SPLIT"] == "0")
    }

    @Test func wholeTilesWhenSpreadingGainsLittle() throws {
        // S1: a unit is a whole frame slot (all 21 window rows per step): 1600 units over 396
        // slots is still five a block.
        let s1 = try plan(channels: 3, side: 128)
        #expect(!s1.split(frameSlots: 5, kept: 10, multiprocessors: 132).sharesTiles)
        // S4: 1280 tiles in 4.85 waves of 264; spreading would save 3 %.
        let s4 = try plan(channels: 3, side: 512, stride: 4)
        let split = s4.split(frameSlots: 5, kept: 10, multiprocessors: 132)
        #expect(split == BoxSearchPlan.Split(unitsPerBlock: 55, blocks: 1280, sharesTiles: false, partLists: 0))
        // No multiprocessor count (a driver that reports none): one block per tile.
        #expect(!s4.split(frameSlots: 5, kept: 10, multiprocessors: 0).sharesTiles)
    }

    /// Over a sweep of shapes: the blocks cover every unit once; each tile that blocks share
    /// leaves one list per block in a part slot of its own, and the merge kernel reads exactly
    /// those slots (simulating search_forward_box's segments and search_box_merge's lookup).
    @Test func partSlotsMatchBetweenTheSearchAndTheMerge() throws {
        var sharing = 0
        for (channels, side, frames, stride, window) in [(16, 256, 5, 4, 21), (3, 40, 2, 1, 9), (5, 37, 3, 2, 7),
                                                         (16, 64, 1, 4, 21), (1, 24, 4, 1, 4)] {
            let p = try plan(channels: channels, side: side, frames: frames, stride: stride, window: window)
            let frameSlots = min(5, frames)
            for multiprocessors in [1, 7, 132] {
                let split = p.split(frameSlots: frameSlots, kept: 4, multiprocessors: multiprocessors)
                let context = "C\(channels) \(side)² T\(frames) stride \(stride) ws \(window) on \(multiprocessors)"
                let unitsPerTile = frameSlots * ((window + p.rowGroup - 1) / p.rowGroup)
                let total = p.blocks * unitsPerTile, per = split.unitsPerBlock
                #expect(split.blocks * per >= total && (split.blocks - 1) * per < total, "\(context)")
                guard split.sharesTiles else {
                    #expect(per == unitsPerTile && split.blocks == p.blocks && split.partLists == 0, "\(context)")
                    continue
                }
                sharing += 1
                #expect(split.partLists == 2 * split.blocks * p.tile * p.tile, "\(context)")
                // The search: segments of each block, and the part slot each partial one writes.
                var covered = [Int](repeating: 0, count: total)
                var written: [Int: Set<Int>] = [:]  // tile: part slots (block · 2 + slot)
                for block in 0..<split.blocks {
                    let u0 = block * per, uEnd = min(u0 + per, total)
                    var ua = u0
                    while ua < uEnd {
                        let tile = ua / unitsPerTile
                        let first = ua - tile * unitsPerTile, last = min(uEnd - tile * unitsPerTile, unitsPerTile)
                        for u in first..<last { covered[tile * unitsPerTile + u] += 1 }
                        if !(first == 0 && last == unitsPerTile) {
                            let slot = block * 2 + (tile * unitsPerTile + first == u0 ? 0 : 1)
                            #expect(written[tile, default: []].insert(slot).inserted, "\(context)")
                        }
                        ua = tile * unitsPerTile + last
                    }
                }
                #expect(covered.allSatisfy { $0 == 1 }, "\(context)")
                // The merge: the blocks it reads for each tile, and their slots.
                for tile in 0..<p.blocks {
                    let firstBlock = tile * unitsPerTile / per, lastBlock = ((tile + 1) * unitsPerTile - 1) / per
                    let read = firstBlock == lastBlock ? [] : Set((firstBlock...lastBlock).map {
                        $0 * 2 + ($0 * per >= tile * unitsPerTile ? 0 : 1)
                    })
                    #expect(read == written[tile, default: []], "\(context) tile \(tile)")
                }
            }
        }
        #expect(sharing >= 5, "the sweep should include launches whose blocks share tiles")
    }
}
