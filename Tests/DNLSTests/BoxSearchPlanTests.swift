import Testing
@testable import DNLS

/// The host-side launch planning of the CUDA box-filtered search, checked on its own (it runs
/// without a GPU): tile choice, channel chunking and the shared-memory bound.
@Suite struct BoxSearchPlanTests {
    let h100 = (multiprocessors: 132, shared: 227 * 1024)

    func plan(channels: Int, side: Int, frames: Int = 5, stride: Int = 1, patchSize: Int = 7, window: Int = 21,
              sharedLimit: Int? = nil) throws -> BoxSearchPlan? {
        let grid = try QueryGrid(region: .whole(frames: frames, height: side, width: side), stride: stride)
        return BoxSearchPlan(geometry: PatchGeometry(patchSize: patchSize), window: SearchWindow(size: window, temporalRadius: 2),
                             channels: channels, batch: 1, grid: grid, multiprocessors: h100.multiprocessors,
                             sharedMemoryLimit: sharedLimit ?? h100.shared)
    }

    @Test func s1TakesBigTilesAndOneChunk() throws {
        let p = try #require(try plan(channels: 3, side: 128))
        #expect(p.tile == 16 && p.channelChunk == 3 && p.reach == 20)
        #expect(p.blocks == 5 * 8 * 8)
        // 22 footprint rows × 4 runs × 3 groups of 7 window columns: at least one item per query.
        #expect(p.columnGroup == 7 && p.items == 264 && p.threads == 288)
        // One chunk: key rows of every window row (3 × 42 × 43, rows padded to odd lengths), row
        // sums of every window column (21 × 22 × 17) and the resolved key columns (42).
        #expect(p.rowGroup == 21 && !p.queryTile)
        #expect(p.sharedBytes == 4 * (3 * 42 * 43 + 21 * 22 * 17 + 42))
        #expect(p.constants["BOX_CC"] == "3" && p.constants["BOX_STRIDE"] == "1" && p.constants["BOX_PS"] == "7")
        #expect(p.constants["BOX_JG"] == "7" && p.constants["BOX_NT"] == "288" && p.constants["BOX_WSTEP"] == "1")
    }

    @Test func s3TakesSmallTilesToFillTheCardAndChunksChannels() throws {
        let p = try #require(try plan(channels: 16, side: 256, stride: 4))
        #expect(p.tile == 8)
        #expect(p.blocks == 5 * 8 * 8)
        // An item's run spans 3·4 + 7 = 19 samples: 3 channels keep 2 · 19 · 3 ≤ 120 floats in
        // registers, so 16 channels go in 6 chunks of 3 (the last padded), one window row at a time.
        #expect(p.channelChunk == 3 && p.rowGroup == 1)
        // Six chunks: the query footprint of all 16 channels (16 × 35²) stays in shared memory.
        #expect(p.queryTile && p.constants["BOX_QTILE"] == "1")
        #expect(p.sharedBytes == 4 * (21 * 35 * 9 + 55 + 3 * 35 * 55 + 16 * 35 * 35))
        #expect(p.items == 35 * 2 * 3 && p.threads == 224)
        #expect(p.sharedBytes <= h100.shared)
    }

    @Test func chunksAreBalancedAndWithinBudgets() throws {
        for channels in [1, 2, 5, 16, 33, 64] {
            for stride in [1, 2, 4] {
                for window in [1, 4, 21] {
                    let p = try #require(try plan(channels: channels, side: 96, stride: stride, window: window))
                    let chunks = (channels + p.channelChunk - 1) / p.channelChunk
                    #expect(p.channelChunk * chunks - channels < chunks, "chunks of \(p.channelChunk) for C=\(channels)")
                    #expect(p.sharedBytes <= (p.queryTile ? h100.shared : BoxSearchPlan.sharedBudget))
                    #expect(!p.queryTile || p.channelChunk < channels, "a query tile only with several chunks")
                    let span = (BoxSearchPlan.run - 1) * stride + 7
                    #expect(p.channelChunk == 1 || 2 * span * p.channelChunk <= BoxSearchPlan.registerBudget)
                    #expect(p.threads >= p.items && p.threads >= p.tile * p.tile && p.threads % 32 == 0 && p.threads <= 1024)
                    // Every window column belongs to exactly one group.
                    let groups = (window + p.columnGroup - 1) / p.columnGroup
                    #expect(p.items == ((p.tile - 1) * stride + 7) * (p.tile / BoxSearchPlan.run) * groups)
                }
            }
        }
    }

    @Test func declinesWhenOneChannelDoesNotFit() throws {
        #expect(try plan(channels: 3, side: 128, sharedLimit: 8 * 1024) == nil)
    }
}
