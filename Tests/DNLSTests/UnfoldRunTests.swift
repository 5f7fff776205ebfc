import Testing

@testable import DNLS

/// The CUDA iunfold's run length is chosen on the host; these checks run without a GPU.
@Suite struct UnfoldRunTests {
    @Test func fullRunsWhileTheStageFits() throws {
        let seven = PatchGeometry(patchSize: 7)
        let c3 = try #require(CUDABackend.unfoldRun(channels: 3, geometry: seven, gridStride: 1))
        #expect(c3.run == CUDABackend.unfoldRun && c3.stageBytes == 4 * 3 * 7 * 38)
        // C = 64: a run of 32 would stage 68 KiB; 21 queries (27 columns, 48 384 bytes) is the most under 48 KiB.
        let c64 = try #require(CUDABackend.unfoldRun(channels: 64, geometry: seven, gridStride: 1))
        #expect(c64.run == 21 && c64.stageBytes == 4 * 64 * 7 * 27)
        // Not even four queries fit: the grid kernel takes over.
        #expect(CUDABackend.unfoldRun(channels: 512, geometry: seven, gridStride: 1) == nil)
    }

    /// Over a sweep of shapes the run is the longest (up to `unfoldRun`) whose stage fits in 48 KiB.
    @Test(arguments: [1, 2, 4])
    func longestRunThatFits(gridStride: Int) {
        for channels in [1, 3, 16, 33, 64, 100, 200] {
            for (patchSize, dilation) in [(1, 1), (3, 2), (5, 1), (7, 1), (9, 3)] {
                let g = PatchGeometry(patchSize: patchSize, dilation: dilation)
                let bytes = { (run: Int) in 4 * channels * patchSize * ((run - 1) * gridStride + (patchSize - 1) * dilation + 1) }
                let limit = 48 * 1024
                guard let chosen = CUDABackend.unfoldRun(channels: channels, geometry: g, gridStride: gridStride) else {
                    #expect(bytes(4) > limit, "C\(channels) ps\(patchSize) dil\(dilation) stride\(gridStride)")
                    continue
                }
                #expect(chosen.stageBytes == bytes(chosen.run) && chosen.stageBytes <= limit)
                #expect(chosen.stageBytes == 4 * channels * patchSize * chosen.span)
                #expect((4...CUDABackend.unfoldRun).contains(chosen.run))
                #expect(chosen.run == CUDABackend.unfoldRun || bytes(chosen.run + 1) > limit,
                        "C\(channels) ps\(patchSize) dil\(dilation) stride\(gridStride)")
            }
        }
    }
}
