import Testing
@testable import DNLS

/// The host-side launch planning of the CUDA box-filtered search, checked on its own (it runs
/// without a GPU): tile choice, residency, register and shared-memory channel chunks, and the
/// shared-memory bound.
@Suite struct BoxSearchPlanTests {
    let h100 = (multiprocessors: 132, shared: 227 * 1024)

    func plan(channels: Int, side: Int, frames: Int = 5, stride: Int = 1, patchSize: Int = 7, window: Int = 21,
              windowStride: Int = 1, sharedLimit: Int? = nil, flow: BoxSearchPlan.FlowUnion? = nil) throws -> BoxSearchPlan? {
        let grid = try QueryGrid(region: .whole(frames: frames, height: side, width: side), stride: stride)
        return BoxSearchPlan(geometry: PatchGeometry(patchSize: patchSize),
                             window: SearchWindow(size: window, stride: windowStride, temporalRadius: 2),
                             channels: channels, batch: 1, grid: grid, multiprocessors: h100.multiprocessors,
                             sharedMemoryLimit: sharedLimit ?? h100.shared, flow: flow)
    }

    @Test func s1TakesBigTilesThreeDeepAndOnePass() throws {
        let p = try #require(try plan(channels: 3, side: 128))
        // 320 tiles of 16²: three blocks per multiprocessor run them in one wave on 132.
        #expect(p.tile == 16 && p.blocks == 5 * 8 * 8 && p.residentBlocks == 3 && p.reach == 20)
        // 22 footprint rows × 4 runs × 3 groups of 7 window columns: at least one item per query.
        #expect(p.columnGroup == 7 && p.items == 264 && p.threads == 288)
        // All three channels in one register pass and one chunk; the key rows of every window row
        // (3 × 42 × 43) and the query footprint (3 × 22 × 23) fit once in a third of the memory.
        #expect(p.registerChannels == 3 && p.channelChunk == 3 && p.rowGroup == 21 && p.buffers == 1)
        // + row sums of every window column (21 × 22 × 17), resolved columns (42) and rows (42).
        #expect(p.sharedBytes == 4 * (3 * (42 * 43 + 22 * 23) + 21 * 22 * 17 + 42 + 42))
        #expect(p.constants.definitions["BOX_CC"] == "3" && p.constants.definitions["BOX_CI"] == "3" && p.constants.definitions["BOX_ONCE"] == "1")
        #expect(p.constants.definitions["BOX_JG"] == "7" && p.constants.definitions["BOX_NT"] == "288" && p.constants.definitions["BOX_MINB"] == "3")
        #expect(p.constants.definitions["BOX_TQP"] == "17")
        #expect(p.constants.definitions["BOX_NBUF"] == "1" && p.constants.definitions["BOX_STRIDE"] == "1" && p.constants.definitions["BOX_PS"] == "7")
    }

    @Test func s3TakesSmallTilesAndStreamsChannels() throws {
        let p = try #require(try plan(channels: 16, side: 256, stride: 4))
        // 80 tiles of 16² would leave most of the card idle; 320 of 8² go three deep in one wave.
        #expect(p.tile == 8 && p.blocks == 5 * 8 * 8 && p.residentBlocks == 3)
        // Fewer items for three blocks: 35 rows × 2 runs × 2 groups of 11 window columns (the
        // second group padded by one column).
        #expect(p.columnGroup == 11 && p.items == 140 && p.threads == 160)
        // A run spans 3·4 + 7 = 19 samples: one channel per register pass, added straight into the
        // row sums; two channels per pipeline step. The row sums of two window rows stay in
        // registers (2 · 11 · 4 + 2 · 11 = 110 floats), so a step holds the key rows of both
        // (36 × 57) and the query rows (35 × 35), twice over; that fits a third of the memory once
        // the row sums drop their pad (21 × 35 × 8). The row table (35 + 20) gains one row: the
        // last group's second window row (read, never offered).
        #expect(p.registerChannels == 1 && p.channelChunk == 2 && p.buffers == 2)
        #expect(p.rowGroup == 2 && p.rowsInRegisters == 2 && p.constants.definitions["BOX_RA"] == "2")
        #expect(p.sharedBytes == 4 * (2 * 2 * (36 * 57 + 35 * 35) + 21 * 35 * 8 + 56 + 55 + 1))
        #expect(p.constants.definitions["BOX_ONCE"] == "0" && p.constants.definitions["BOX_MINB"] == "3" && p.constants.definitions["BOX_TQP"] == "8")
    }

    @Test func twoDeepWhenTheGridTakesSeveralWavesAnyway() throws {
        let p = try #require(try plan(channels: 3, side: 512, stride: 4))
        #expect(p.tile == 8 && p.blocks == 5 * 16 * 16 && p.residentBlocks == 2)
        // Three channels in two chunks of two: two window rows' row sums in registers.
        #expect(p.channelChunk == 2 && p.registerChannels == 1 && p.rowsInRegisters == 2)
        #expect(p.items >= BoxSearchPlan.minimumItems)
        #expect(p.sharedBytes <= BoxSearchPlan.sharedBudget)
    }

    @Test func plansStayWithinTheirBudgets() throws {
        for channels in [1, 2, 3, 5, 16, 33, 64] {
            for stride in [1, 2, 4] {
                for (window, windowStride) in [(1, 1), (4, 1), (21, 1), (9, 2)] {
                    for side in [40, 96, 256] {
                        let p = try #require(try plan(channels: channels, side: side, stride: stride, window: window,
                                                      windowStride: windowStride))
                        let context = "C\(channels) stride \(stride) ws \(window)/\(windowStride) side \(side)"
                        // Channel chunks are whole register passes and balanced.
                        let ci = p.registerChannels, cc = p.channelChunk
                        #expect(ci >= 1 && cc % ci == 0, "\(context)")
                        let chunks = (channels + cc - 1) / cc
                        #expect(cc - (channels + chunks - 1) / chunks < ci, "\(context)")
                        // Registers: samples of the pass, one row of terms and the live row sums.
                        let span = (BoxSearchPlan.run - 1) * stride + 7
                        let sums = ci >= channels ? BoxSearchPlan.run : p.columnGroup * BoxSearchPlan.run
                        #expect(ci == 1 || 2 * span * ci + span + sums <= BoxSearchPlan.registerBudget, "\(context)")
                        #expect((p.constants.definitions["BOX_ONCE"] == "1") == (ci >= channels), "\(context)")
                        // Shared memory: within the residency's share and the per-block limit.
                        let share = p.residentBlocks == 3 ? (h100.shared + 1024) / 3 - 1024 : BoxSearchPlan.sharedBudget
                        #expect(p.sharedBytes <= min(share, h100.shared), "\(context)")
                        #expect(p.residentBlocks * (p.sharedBytes + 1024) <= h100.shared + 1024, "\(context)")
                        // All window rows per step only with one chunk; two, with their row sums in
                        // registers, only with several chunks of single-channel passes at window
                        // stride 1; a single stage only with all of them.
                        let pairs = p.rowGroup == 2 && p.rowsInRegisters == 2 && cc < channels && ci == 1
                            && windowStride == 1 && 2 * p.columnGroup * (BoxSearchPlan.run + 1) <= BoxSearchPlan.rowPairBudget
                        #expect(p.rowGroup == 1 || (p.rowGroup == window && cc >= channels) || pairs, "\(context)")
                        #expect(p.rowsInRegisters == 1 || pairs, "\(context)")
                        #expect(p.constants.definitions["BOX_RA"] == "\(p.rowsInRegisters)", "\(context)")
                        #expect(p.buffers == 2 || p.rowGroup == window, "\(context)")
                        // Threads: every item, every query of the tile and every key column.
                        let rows = (p.tile - 1) * stride + 7
                        let groups = (window + p.columnGroup - 1) / p.columnGroup
                        let keyColumns = rows + p.reach + (groups * p.columnGroup - window) * windowStride
                        #expect(p.items == rows * (p.tile / BoxSearchPlan.run) * groups, "\(context)")
                        #expect(p.threads >= max(p.items, p.tile * p.tile, keyColumns) && p.threads % 32 == 0
                                && p.threads <= 1024, "\(context)")
                        // The layout: stages, row sums, resolved columns, and a row table that covers
                        // every key row a step copies, the last row group's padding included.
                        let rg = p.rowGroup, sumStride = Int(p.constants.definitions["BOX_TQP"] ?? "") ?? 0
                        let stage = cc * ((rows + (rg - 1) * windowStride) * (keyColumns | 1) + rows * (rows | 1))
                        let rowTable = ((window + rg - 1) / rg * rg - 1) * windowStride + rows
                        #expect(p.sharedBytes == 4 * (p.buffers * stage + window * rows * sumStride + keyColumns + rowTable),
                                "\(context)")
                    }
                }
            }
        }
    }

    @Test func alongFlowsTheBlocksFilterTheUnionWindow() throws {
        let flow = BoxSearchPlan.FlowUnion(reach: 8, frameSlots: 5)
        for (channels, side, stride) in [(3, 128, 1), (16, 256, 4), (3, 512, 4), (3, 64, 1)] {
            let context = "C\(channels) \(side)² stride \(stride)"
            let none = try #require(try plan(channels: channels, side: side, stride: stride), "\(context)")
            let p = try #require(try plan(channels: channels, side: side, stride: stride, flow: flow), "\(context)")
            // A union window 8 offsets wider than the query's 21, whose own size the kernel keeps.
            #expect(p.windowSize == 29 && p.reach == 28 && none.windowSize == 21, "\(context)")
            #expect(p.constants.flow && p.constants.definitions["BOX_FLOW"] == "1" && p.constants.definitions["BOX_WS"] == "29"
                    && p.constants.definitions["BOX_QWS"] == "21", "\(context)")
            #expect(!none.constants.flow && none.constants.definitions["BOX_FLOW"] == "0"
                    && none.constants.definitions["BOX_QWS"] == "21", "\(context)")
            // Whole tiles (a tile's steps follow its flows), within the shared memory of a block.
            let split = p.split(frameSlots: 5, kept: 10, multiprocessors: h100.multiprocessors)
            #expect(!split.sharesTiles && split.partLists == 0 && split.blocks == p.blocks, "\(context)")
            #expect(p.constants(for: split).definitions["BOX_SPLIT"] == "0", "\(context)")
            #expect(p.sharedBytes <= h100.shared, "\(context)")
        }
        // The extents of every frame slot and the query footprint's tables take shared memory:
        // the same plan with more slots needs 16 bytes more per slot.
        let five = try #require(try plan(channels: 3, side: 128, flow: flow))
        let nine = try #require(try plan(channels: 3, side: 128, flow: BoxSearchPlan.FlowUnion(reach: 8, frameSlots: 9)))
        #expect(nine.sharedBytes - five.sharedBytes == 16 * 4 || nine.constants != five.constants)
        // Window strides other than 1 have no union plan (the general search runs); nor has a negative reach.
        #expect(try plan(channels: 3, side: 128, windowStride: 2, flow: flow) == nil)
        #expect(try plan(channels: 3, side: 128, flow: BoxSearchPlan.FlowUnion(reach: -1, frameSlots: 5)) == nil)
    }

    @Test func theStandardTuningSearchesAlongFlowsByUnionWindows() {
        // Chunks of the window plus 8 offsets; the general kernel only on request (the suite's check).
        #expect(CUDATuning.standard.flowUnionReach == 8 && CUDATuning.generalFlowSearch.flowUnionReach == nil)
        var general = CUDATuning.generalFlowSearch
        general.flowUnionReach = 8
        #expect(general == CUDATuning.standard)
        #expect(CUDATuning.stress.flowUnionReach == 1)
    }

    @Test func declinesWhenOneChannelDoesNotFit() throws {
        #expect(try plan(channels: 3, side: 128, sharedLimit: 8 * 1024) == nil)
    }
}
