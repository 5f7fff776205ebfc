import Testing

@testable import DNLS

/// The bands of used rows that a CUDA anchor-table pass aggregates and folds (host side, no GPU).
@Suite struct AnchorBandsTests {
    @Test func joinsShortGapsAndSkipsLongOnes() {
        let used: [Int32] = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]
        #expect(CUDABackend.bands(used: used, base: 100, gap: 8) == [101..<106, 114..<115])
        #expect(CUDABackend.bands(used: used, base: 0, gap: 3) == [1..<6, 14..<15])  // two unused rows: joined
        #expect(CUDABackend.bands(used: used, base: 0, gap: 2) == [1..<3, 5..<6, 14..<15])
        #expect(CUDABackend.bands(used: used, base: 0, gap: 1) == [1..<3, 5..<6, 14..<15])
        #expect(CUDABackend.bands(used: [0, 0, 0], base: 7, gap: 8).isEmpty)
        #expect(CUDABackend.bands(used: [1, 1, 1], base: 7, gap: 8) == [7..<10])
    }

    /// On random flags: every used row is in a band, bands start and end on used rows, and the
    /// gaps between them are at least `gap` rows.
    @Test(arguments: [1, 2, 8])
    func bandsCoverExactlyTheUsedRows(gap: Int) {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let density = Double.random(in: 0...0.3, using: &generator)
            let used: [Int32] = (0..<Int.random(in: 0...60, using: &generator)).map { _ in
                Double.random(in: 0..<1, using: &generator) < density ? 1 : 0
            }
            let bands = CUDABackend.bands(used: used, base: 5, gap: gap)
            for (r, flag) in used.enumerated() where flag != 0 {
                #expect(bands.contains { $0.contains(r + 5) }, "\(used)")
            }
            for band in bands {
                #expect(!band.isEmpty && used[band.lowerBound - 5] != 0 && used[band.upperBound - 6] != 0, "\(used)")
            }
            for (a, b) in zip(bands, bands.dropFirst()) {
                #expect(b.lowerBound - a.upperBound >= gap, "\(used)")
            }
        }
    }
}
