import DNLS
import DNLSTestSupport
import Testing

/// The shared comparison rules of the tests and the conformance suite must themselves fail on
/// wrong results: a comparison that accepts anything would let every test pass.
@Suite("Test support")
struct TestSupportTests {
    @Test("The tolerance accepts rounding, not errors; NaN only against NaN")
    func tolerance() {
        let t = Tolerance.float32
        #expect(t.accepts(1000.0, 1000.05) && !t.accepts(1000.0, 1000.2))
        #expect(t.accepts(Float.infinity, .infinity) && !t.accepts(Float.infinity, 1e30))
        #expect(t.accepts(Float.nan, .nan) && !t.accepts(Float.nan, 0))
        // Below the scale the bound stops shrinking.
        #expect(!t.accepts(0.0, 0.001) && t.scaled(100).accepts(0.0, 0.001))
        #expect(t.firstMismatch([1, 2, 3] as [Float], [1, 2.5, 3]) == 1 && t.firstMismatch([1, 2] as [Float], [1, 2]) == nil)
    }

    /// One small search, its reference, its whole window; then the result spoiled in each way the
    /// comparison must notice.
    @Test("The top-K comparison accepts the reference and finds every kind of wrong result")
    func topK() throws {
        var rng = SplitMix64(seed: 5)
        let video: Tensor<Float> = randomTensor([1, 2, 1, 9, 9], &rng)
        let grid = try QueryGrid(region: .whole(frames: 2, height: 9, width: 9), stride: 2)
        let search = PatchSearch(geometry: PatchGeometry(patchSize: 3), window: SearchWindow(size: 3, temporalRadius: 1), k: 4)
        let found = try search(video, queries: .grid(grid), implementation: .reference)
        var whole = search; whole.k = nil
        let table = try whole(video, queries: .grid(grid), implementation: .reference)
        func mismatch(_ r: SearchResult<Float>) throws -> String? {
            try searchMismatch(r, found, wholeWindow: table, metric: .l2, tolerance: .float32)
        }
        #expect(try mismatch(found) == nil)
        #expect(try searchMismatch(table, table, wholeWindow: nil, metric: .l2, tolerance: .float32) == nil)

        var distance = found
        distance.distances.scalars[5] += 0.5
        #expect(try mismatch(distance) != nil)
        var outside = found
        outside.indices.scalars[3 * 2 + 1] = 8  // a row no window of that query reaches
        outside.indices.scalars[3 * 2 + 2] = 8
        #expect(try mismatch(outside) != nil)
        var twice = found
        for axis in 0..<3 { twice.indices.scalars[3 * 1 + axis] = twice.indices.scalars[axis] }
        twice.distances.scalars[1] = twice.distances.scalars[0]
        #expect(try mismatch(twice)?.contains("twice") == true)
        var empty = found
        for axis in 0..<3 { empty.indices.scalars[3 * 3 + axis] = -1 }
        empty.distances.scalars[3] = .infinity
        #expect(try mismatch(empty) != nil)
        var slot = table
        slot.indices.scalars.swapAt(3 * 4 + 2, 3 * 5 + 2)  // the columns of the window's centre and the next (a corner's first row is empty)
        #expect(try searchMismatch(slot, table, wholeWindow: nil, metric: .l2, tolerance: .float32) != nil)
    }
}
