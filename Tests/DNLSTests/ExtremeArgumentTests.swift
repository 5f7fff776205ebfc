@testable import DNLS
import DNLSTestSupport
import Testing

/// Property sweeps over extreme argument values: every combination ends in a result or a typed
/// error, never a trap (an overflowing size computation or a terabyte allocation would stop the
/// test process).
@Suite("Extreme arguments")
struct ExtremeArgumentTests {
    static let extremes = [Int.min, -(1 << 40), -1, 0, 1, 2, 3, 1 << 31, 1 << 62, Int.max]

    @Test("Search parameters: a result or a DNLSError", arguments: [Implementation.reference, .fast])
    func searchParameters(implementation: Implementation) throws {
        var rng = SplitMix64(seed: 5)
        let video: Tensor<Float> = randomTensor([2, 1, 5, 6], &rng)
        let grid = try QueryGrid(region: .whole(frames: 2, height: 5, width: 6), stride: 2)
        var outcomes = (results: 0, errors: 0)
        func attempt(_ search: PatchSearch) {
            do {
                let found = try search(video, queries: .grid(grid), implementation: implementation)
                #expect(found.distances.shape.first == grid.count)
                outcomes.results += 1
            } catch {
                outcomes.errors += 1
            }
        }
        for value in Self.extremes {
            let geometry = PatchGeometry(patchSize: 3)
            attempt(PatchSearch(geometry: PatchGeometry(patchSize: value), window: SearchWindow(size: 3), k: 2))
            attempt(PatchSearch(geometry: PatchGeometry(patchSize: 3, dilation: value), window: SearchWindow(size: 3), k: 2))
            attempt(PatchSearch(geometry: geometry, window: SearchWindow(size: value), k: 1))
            attempt(PatchSearch(geometry: geometry, window: SearchWindow(size: 3, stride: value), k: 1))
            attempt(PatchSearch(geometry: geometry, window: SearchWindow(size: 3, temporalRadius: value), k: 1))
            attempt(PatchSearch(geometry: geometry, window: SearchWindow(size: value, stride: value, temporalRadius: value), k: nil))
            attempt(PatchSearch(geometry: geometry, window: SearchWindow(size: 3), k: value))
            attempt(PatchSearch(geometry: geometry, window: SearchWindow(size: 3), k: 1, channels: value))
        }
        #expect(outcomes.results > 0 && outcomes.errors > 0)
    }

    @Test("A temporal radius beyond the video searches every frame, as T − 1 does")
    func temporalRadiusBeyondTheVideo() throws {
        var rng = SplitMix64(seed: 6)
        let video: Tensor<Float> = randomTensor([3, 1, 5, 5], &rng)
        let grid = try QueryGrid(region: .whole(frames: 3, height: 5, width: 5))
        func search(_ wt: Int) throws -> SearchResult<Float> {
            try PatchSearch(geometry: PatchGeometry(patchSize: 3), window: SearchWindow(size: 3, temporalRadius: wt), k: nil)(
                video, queries: .grid(grid), implementation: .reference)
        }
        let expected = try search(2)
        for wt in [3, 1 << 40, Int.max] {
            let found = try search(wt)
            #expect(found.distances == expected.distances && found.indices == expected.indices)
        }
    }

    @Test("Grid strides and regions at the extremes: a grid or a DNLSError")
    func grids() {
        for stride in Self.extremes {
            for extent in [0, 1, 5, 1 << 40] {
                let region = Region(frames: 0..<1, rows: 0..<extent, columns: 0..<5)
                if let grid = try? QueryGrid(region: region, stride: stride) {
                    #expect(grid.count >= 0)
                }
                if let grid = try? QueryGrid(region: region, stride: stride, fullPatchesOf: PatchGeometry(patchSize: 3)) {
                    #expect(grid.count >= 0)
                }
            }
        }
    }

    @Test("Results larger than the host's memory are refused before any work, with the bytes asked")
    func resultsThatCannotFit() throws {
        let video = Tensor<Float>(zeros: [1, 1, 1000, 1000])
        let grid = try QueryGrid(region: .whole(frames: 1, height: 1000, width: 1000))
        let search = PatchSearch(geometry: PatchGeometry(patchSize: 3), window: SearchWindow(size: 201), k: nil)
        let bytes = 1_000_000 * 201 * 201 * (4 + 12)  // distances and indices of every candidate: 646 GB
        #expect(throws: DNLSError.outOfMemory(device: .cpu, bytes: bytes)) {
            _ = try search(video, queries: .grid(grid), implementation: .fast)
        }
        // A video shape whose element count overflows is a shape error; one that is merely huge
        // is out of memory.
        let patches = Tensor<Float>(zeros: [1, 1, 1, 1, 1])
        let indices = try Tensor<Int32>(shape: [1, 1, 1, 3], scalars: [0, 0, 0])
        let gather = PatchGather(geometry: PatchGeometry(patchSize: 1))
        expectDNLSError(.shapeMismatch, argument: "videoShape") {
            _ = try gather(patches, indices: indices, videoShape: [1, 1 << 40, 1, 1 << 20, 1 << 20])
        }
        expectDNLSError(.outOfMemory, argument: nil) {
            _ = try gather(patches, indices: indices, videoShape: [1, 1, 1, 1 << 22, 1 << 22])
        }
    }

    @Test("Random combinations of every search, unfold and fold parameter: a result or a DNLSError, and results of the right shape",
          arguments: [Implementation.reference, .fast])
    func randomCombinations(implementation: Implementation) throws {
        var rng = SplitMix64(seed: 77)
        func pick(_ values: [Int]) -> Int { values[rng.int(0..<values.count)] }
        let extreme = [-2, -1, 0, 4, 5, 7, 9, 1 << 31, Int.max]
        // Mostly values that can work, sometimes anything.
        func value(_ usual: [Int]) -> Int { rng.chance(0.9) ? pick(usual) : pick(extreme) }
        var (results, errors) = (0, 0)
        for _ in 0..<1000 {
            let (B, T, C, H, W) = (pick([1, 2]), pick([1, 2, 3]), pick([1, 2]), pick([1, 3, 6, 8, 9]), pick([1, 4, 7, 8]))
            let video: Tensor<Float> = randomTensor([B, T, C, H, W], &rng)
            let geometry = PatchGeometry(patchSize: value([1, 1, 2, 3]), dilation: value([1, 1, 1, 2]),
                                         anchor: rng.chance(0.5) ? .center : .topLeft, border: rng.chance(0.5) ? .reflect : .zero)
            let window = SearchWindow(size: value([1, 2, 3]), stride: value([1, 1, 2]), temporalRadius: value([0, 1, 2]))
            let k: Int? = rng.chance(0.2) ? nil : value([1, 1, 2])
            let search = PatchSearch(geometry: geometry, window: window, k: k, metric: rng.chance(0.5) ? .l2 : .innerProduct,
                                     channels: rng.chance(0.7) ? nil : value([1, 2]))
            func range(_ lows: [Int], _ highs: [Int]) -> Range<Int> {
                let (a, b) = (pick(lows), pick(highs))
                return min(a, b)..<max(a, b)
            }
            let region = rng.chance(0.6) ? Region.whole(frames: T, height: H, width: W)
                : Region(frames: range([-1, 0, 1], [0, 1, 2, 4]), rows: range([-1, 0, 2], [0, 1, 3, 9]),
                         columns: range([-1, 0, 1], [0, 2, 5, 8]))
            do {
                let grid = try QueryGrid(region: region, stride: value([1, 1, 2, 3]))
                let found = try search(video, queries: .grid(grid), implementation: implementation)
                #expect(found.distances.shape.prefix(2) == [B, grid.count])
                #expect(found.indices.shape.last == 3)
                let unfolded = try PatchUnfold(geometry: geometry)(video, grid: grid, implementation: implementation)
                let folded = try PatchFold(geometry: geometry)(unfolded, grid: grid, videoShape: video.shape,
                                                               implementation: implementation)
                #expect(folded.shape == video.shape)
                let patches = try PatchScatter(geometry: geometry)(video, indices: found.indices, implementation: implementation)
                #expect(patches.shape.prefix(3) == found.indices.shape.prefix(3))
                results += 1
            } catch {
                errors += 1
            }
        }
        #expect(results > 10 && errors > 10, "results \(results), errors \(errors)")
    }
}
