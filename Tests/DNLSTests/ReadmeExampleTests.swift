import Foundation
import Testing
import DNLS

/// The example of README.md, verbatim between the markers, followed by checks of its results.
/// Keep the two copies identical.
@Suite struct ReadmeExampleTests {
    @Test func example() throws {
        // README example: begin
        // A random video (T, C, H, W) = (3 frames, 3 channels, 32×32), Float32.
        let video = try Tensor<Float>(shape: [3, 3, 32, 32],
                                      scalars: (0..<3 * 3 * 32 * 32).map { _ in Float.random(in: 0..<1) })

        // For every pixel, the 5 nearest 5×5 patches in a 9×9 window over 3 frames (L2, sorted).
        let geometry = PatchGeometry(patchSize: 5)  // centred patches, reflected at the border
        let search = PatchSearch(geometry: geometry, window: SearchWindow(size: 9, temporalRadius: 1), k: 5)
        let grid = try QueryGrid(region: .whole(frames: 3, height: 32, width: 32))  // every pixel, stride 1
        let result = try search(video, queries: .grid(grid))
        // result.distances is (Q, K) = (3072, 5); result.indices is (Q, K, 3) of (t, h, w).

        // Non-local means: weight each query's neighbours, sum their patches without materialising
        // them (wpsum), fold the sums back into a video and divide by the fold of ones.
        let k = 5, h2: Float = 10
        var weights = result.distances.scalars.map { d in 1 / (1 + d / h2) }
        for q in 0..<grid.count {
            let total = weights[q * k ..< (q + 1) * k].reduce(0, +)
            for i in q * k ..< (q + 1) * k { weights[i] /= total }
        }
        let sums = try WeightedPatchSum(geometry: geometry)(
            video, weights: Tensor(shape: [grid.count, k], scalars: weights), indices: result.indices)  // (Q, 1, C, 5, 5)
        let fold = PatchFold(geometry: geometry)
        let numerator = try fold(sums, grid: grid, videoShape: video.shape)
        let coverage = try fold(Tensor<Float>(repeating: 1, shape: sums.shape), grid: grid, videoShape: video.shape)
        let denoised = try Tensor(shape: video.shape,
                                  scalars: zip(numerator.scalars, coverage.scalars).map { $0 / $1 })
        // README example: end

        // Shapes of every intermediate.
        #expect(result.distances.shape == [3072, 5])
        #expect(result.indices.shape == [3072, 5, 3])
        #expect(sums.shape == [3072, 1, 3, 5, 5])
        #expect(denoised.shape == video.shape)

        // In a self-search the nearest patch of every query is the query itself, at distance 0, and the
        // distances are sorted.
        for q in 0..<grid.count {
            let p = grid.position(q)
            #expect(result.distances[q, 0] == 0)
            #expect([result.indices[q, 0, 0], result.indices[q, 0, 1], result.indices[q, 0, 2]]
                    == [Int32(p.t), Int32(p.h), Int32(p.w)])
            for m in 1..<k { #expect(result.distances[q, m - 1] <= result.distances[q, m]) }
        }

        // Every output pixel is a convex combination of input pixels (weights sum to one per query, and
        // the fold of ones counts the patches that cover a pixel), so it stays inside the input's range;
        // and averaging independent noise shrinks its spread.
        let low = video.scalars.min()!, high = video.scalars.max()!
        #expect(denoised.scalars.allSatisfy { $0 >= low - 1e-5 && $0 <= high + 1e-5 })
        func variance(_ x: [Float]) -> Float {
            let mean = x.reduce(0, +) / Float(x.count)
            return x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(x.count)
        }
        #expect(variance(denoised.scalars) < 0.5 * variance(video.scalars))
    }

    /// The worked example of the DocC article Conventions.md, verbatim between the markers: non-local
    /// means in batches of 500 queries must equal the same computation in one batch.
    @Test func conventionsWorkedExample() throws {
        // Conventions example: begin
        let (T, C, H, W) = (3, 1, 24, 24)
        let video = try Tensor<Float>(shape: [T, C, H, W],
                                      scalars: (0..<T * C * H * W).map { _ in Float.random(in: 0..<1) })
        let geometry = PatchGeometry(patchSize: 5)                 // centred, reflect border
        let k = 6
        let search = PatchSearch(geometry: geometry, window: SearchWindow(size: 7, temporalRadius: 1), k: k)
        let wpsum = WeightedPatchSum(geometry: geometry)
        let fold = PatchFold(geometry: geometry)
        let grid = try QueryGrid(region: .whole(frames: T, height: H, width: W))

        var numerator = Tensor<Float>(zeros: video.shape)
        var coverage = Tensor<Float>(zeros: video.shape)
        for start in stride(from: 0, to: grid.count, by: 500) {
            let batch = start ..< min(start + 500, grid.count)
            let found = try search(video, queries: .grid(grid, batch: batch))   // (n, K) and (n, K, 3)
            // Weights: a decreasing function of the distance, normalised per query.
            var weights = found.distances.scalars.map { d in 1 / (1 + d / 4) }
            for q in 0..<batch.count {
                let total = weights[q * k ..< (q + 1) * k].reduce(0, +)
                for i in q * k ..< (q + 1) * k { weights[i] /= total }
            }
            let sums = try wpsum(video, weights: Tensor(shape: [batch.count, k], scalars: weights),
                                 indices: found.indices)                        // (n, 1, C, ps, ps)
            try fold.accumulate(sums, grid: grid, batch: batch, into: &numerator)
            try fold.accumulate(Tensor<Float>(repeating: 1, shape: sums.shape), grid: grid, batch: batch, into: &coverage)
        }
        let denoised = try Tensor(shape: video.shape,
                                  scalars: zip(numerator.scalars, coverage.scalars).map { $0 / $1 })
        // Conventions example: end

        #expect(grid.count == 3 * 24 * 24)
        #expect(denoised.shape == [3, 1, 24, 24])
        #expect(denoised.scalars.allSatisfy { $0.isFinite })

        // The whole grid in one batch.
        let found = try search(video, queries: .grid(grid))
        var weights = found.distances.scalars.map { d in 1 / (1 + d / 4) }
        for q in 0..<grid.count {
            let total = weights[q * k ..< (q + 1) * k].reduce(0, +)
            for i in q * k ..< (q + 1) * k { weights[i] /= total }
        }
        let sums = try wpsum(video, weights: Tensor(shape: [grid.count, k], scalars: weights), indices: found.indices)
        let wholeNumerator = try fold(sums, grid: grid, videoShape: video.shape)
        let wholeCoverage = try fold(Tensor<Float>(repeating: 1, shape: sums.shape), grid: grid, videoShape: video.shape)
        #expect(wholeCoverage == coverage)  // small integers: exact in Float
        for i in 0..<video.count {
            let whole = wholeNumerator.scalars[i] / wholeCoverage.scalars[i]
            #expect(Swift.abs(denoised.scalars[i] - whole) <= 1e-5)
        }
    }

    /// The README's GPU snippet: compiled everywhere, run where a GPU is found.
    @Test(.enabled(if: ConformanceTests.cudaUnavailable == nil, "no usable GPU here"))
    func gpuSnippet() throws {
        let video = try Tensor<Float>(shape: [3, 3, 32, 32], scalars: (0..<3 * 3 * 32 * 32).map { Float($0 % 97) / 97 })
        let search = PatchSearch(geometry: PatchGeometry(patchSize: 5), window: SearchWindow(size: 9, temporalRadius: 1), k: 5)
        let grid = try QueryGrid(region: .whole(frames: 3, height: 32, width: 32))
        // README GPU example: start
        let onGPU = try video.to(.cuda(0))
        let result = try search(onGPU, queries: .grid(grid))      // runs on the GPU
        let distances = try result.distances.to(.cpu).scalars
        // README GPU example: end
        let cpu = try search(video, queries: .grid(grid))
        #expect(distances.count == cpu.distances.count)

        let geometry = PatchGeometry(patchSize: 5)
        // README streams example: start
        let stream = try GPUStream(on: .cuda(0))
        let scatter = PatchScatter(geometry: geometry)
        let patches = try withStream(stream, checking: .deferred) { () throws(DNLSError) in
            let found = try search(onGPU, queries: .grid(grid))      // queued on `stream`
            return try scatter(onGPU, indices: found.indices)        // its index check is queued, not awaited
        }
        try stream.synchronize()     // waits, then throws the first bad GPU input recorded, if any
        let values = try patches.to(.cpu).scalars
        // README streams example: end
        #expect(values == (try scatter(video, indices: cpu.indices)).scalars)

        // README memory example: start
        let gpu = Device.cuda(0)
        let unfold = PatchUnfold(geometry: geometry)
        // Memory the caller owns and keeps alive while DNLS uses it: DNLS tensors here; from PyTorch,
        // tensors' data_ptr().
        let owner = try Tensor<Float>(zeros: [grid.count, 1, 3, 5, 5]).to(gpu)
        var unfolded = try Tensor<Float>(unsafeDeviceAddress: owner.unsafeDeviceAddress!, shape: owner.shape, on: gpu)
        let bytes = try GPUWorkspace.bytesNeeded(on: gpu) { () throws(DNLSError) in
            try unfold(onGPU, grid: grid, into: &unfolded)               // planned: nothing runs
        }
        let region = try Tensor<Float>(zeros: [bytes / 4 + 64]).to(gpu)  // any memory, 256-byte aligned
        let start = (region.unsafeDeviceAddress! + 255) / 256 * 256
        try withExtendedLifetime((owner, region)) { () throws(DNLSError) in
            try withWorkspace(GPUWorkspace(unsafeAddress: start, byteCount: bytes, on: gpu)) { () throws(DNLSError) in
                try unfold(onGPU, grid: grid, into: &unfolded)           // runs: writes owner's memory
            }
        }
        // README memory example: end
        #expect(unfolded.unsafeDeviceAddress == owner.unsafeDeviceAddress)
        #expect(try owner.to(.cpu) == (try unfold(video, grid: grid)).reshaped(owner.shape))
    }

    /// Every block of this file between a `// README … example: start` (or `begin`) marker and its
    /// `end` marker appears verbatim, unindented, in README.md: the README shows code that
    /// compiles and whose results the tests check.
    @Test func documentedExamplesAreVerbatimCopies() throws {
        let here = URL(fileURLWithPath: #filePath)
        let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let source = try String(contentsOf: here, encoding: .utf8)
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var blocks: [(name: String, text: String)] = []
        var current: (name: String, lines: [String])? = nil
        for line in lines {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("// README"), trimmed.hasSuffix("example: start") || trimmed.hasSuffix("example: begin") {
                current = (trimmed, [])
            } else if trimmed.hasPrefix("// README"), trimmed.hasSuffix("example: end"), let block = current {
                blocks.append((block.name, block.lines.map { $0.hasPrefix("        ") ? String($0.dropFirst(8)) : $0 }
                    .joined(separator: "\n")))
                current = nil
            } else if current != nil {
                current!.lines.append(line)
            }
        }
        #expect(blocks.count == 4)
        for block in blocks {
            #expect(readme.contains(block.text), "README.md lacks the code of \(block.name)")
        }
    }
}
