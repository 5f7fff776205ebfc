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
        // Key rows (3 × 22 × 42), differences (22²), row sums (22 × 16), partial distances (21 × 256).
        #expect(p.sharedBytes == 4 * (3 * 22 * 42 + 22 * 22 + 22 * 16 + 21 * 256))
        #expect(p.constants["BOX_CC"] == "3" && p.constants["BOX_STRIDE"] == "1" && p.constants["BOX_PS"] == "7")
    }

    @Test func s3TakesSmallTilesToFillTheCardAndChunksChannels() throws {
        let p = try #require(try plan(channels: 16, side: 256, stride: 4))
        #expect(p.tile == 8)
        #expect(p.blocks == 5 * 8 * 8)
        #expect(p.channelChunk == 8)
        #expect(p.sharedBytes <= BoxSearchPlan.sharedBudget)
    }

    @Test func chunksAreBalancedAndWithinBudgets() throws {
        for channels in [1, 2, 5, 16, 33, 64] {
            for stride in [1, 2, 4] {
                let p = try #require(try plan(channels: channels, side: 96, stride: stride))
                let chunks = (channels + p.channelChunk - 1) / p.channelChunk
                #expect(p.channelChunk * chunks - channels < chunks, "chunks of \(p.channelChunk) for C=\(channels)")
                #expect(p.sharedBytes <= BoxSearchPlan.sharedBudget)
                let side = (p.tile - 1) * stride + 7
                let perThread = (side * side + p.threads - 1) / p.threads
                #expect(p.channelChunk == 1 || perThread * p.channelChunk <= BoxSearchPlan.registerBudget)
            }
        }
    }

    @Test func declinesWhenOneChannelDoesNotFit() throws {
        #expect(try plan(channels: 3, side: 128, sharedLimit: 8 * 1024) == nil)
    }
}
