import _Differentiation
import DNLS
import DNLSDifferentiation
import Foundation
import Testing

/// The worked example of the article "Differentiating through DNLS", verbatim between the
/// markers (a test checks that the article's code block is the same text), followed by checks of
/// its results.
@Suite struct DocumentationExampleTests {
    @Test func workedExample() throws {
        // Article example: begin
        // A small video (B, T, C, H, W) of vertical stripes, and a noisy copy.
        let shape = [1, 3, 3, 24, 24]
        let clean = try Tensor<Float>(shape: shape, scalars: (0..<shape.reduce(1, *)).map { i in
            Float(i % 24 / 6 % 2) })
        var rng = SplitMix64(seed: 1)
        let noisy = try Tensor<Float>(shape: shape, scalars: clean.scalars.map { $0 + Float.random(in: -0.4...0.4, using: &rng) })

        // Validate once: every check of the arguments happens here, and throws.
        let geometry = PatchGeometry(patchSize: 5)
        let grid = try QueryGrid(region: .whole(frames: 3, height: 24, width: 24))
        let search = try PatchSearch(geometry: geometry, window: SearchWindow(size: 7, temporalRadius: 1), k: 8)
            .prepared(for: noisy, queries: .grid(grid))
        let wpsum = try WeightedPatchSum(geometry: geometry).prepared(for: Float.self, videoShape: shape)
        let fold = try PatchFold(geometry: geometry).prepared(for: Float.self, videoShape: shape, grid: grid)
        let coverage = try PatchFold(geometry: geometry)(
            Tensor<Float>(repeating: 1, shape: [1, grid.count, 1, 3, 5, 5]), grid: grid, videoShape: shape)

        // Then differentiate: non-local means whose weights are a softmax of the distances
        // times a learned temperature, scored by the mean squared error against the clean video.
        let loss: @differentiable(reverse) (Tensor<Float>) -> Tensor<Float> = { logTemperature in
            let found = search(noisy)
            let weights = found.distances.scaled(by: logTemperature.exp()).scaled(by: -1).softmax()
            let denoised = fold(wpsum(noisy, weights: weights, indices: found.indices)) / coverage
            return meanSquaredError(predicted: denoised, expected: clean)
        }

        // Plain gradient descent on the logarithm of the temperature.
        var logTemperature = try Tensor<Float>(shape: [1], scalars: [0])
        var losses: [Float] = []
        for _ in 0..<30 {
            let (value, slope) = valueWithGradient(at: logTemperature, of: loss)
            losses.append(value.scalars[0])
            logTemperature = try Tensor(shape: [1], scalars: [logTemperature.scalars[0] - 20 * slope.scalars[0]])
        }
        // Article example: end
        let (value, slope) = valueWithGradient(at: logTemperature, of: loss)
        #expect(value.scalars[0] == losses.last! || value.scalars[0] < losses.first!)
        #expect(slope.shape == [1])

        #expect(losses.count == 30 && losses.allSatisfy(\.isFinite))
        #expect(losses.last! < 0.8 * losses.first!, "losses \(losses)")
        let noisyError = zip(noisy.scalars, clean.scalars).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Float(noisy.count)
        #expect(losses.last! < 0.5 * noisyError)
    }

    static let tests = URL(fileURLWithPath: #filePath)
    static let root = tests.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The trimmed, non-empty lines of `text`.
    static func lines(_ text: Substring) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    @Test func readmeShowsLinesOfTheTestedExample() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let source = Set(Self.lines(try String(contentsOf: Self.tests, encoding: .utf8)[...]))
        guard let section = readme.range(of: "## Swift autodiff"),
              let open = readme.range(of: "```swift\n", range: section.upperBound..<readme.endIndex),
              let close = readme.range(of: "```", range: open.upperBound..<readme.endIndex) else {
            Issue.record("README has no Swift autodiff example")
            return
        }
        let shown = Self.lines(readme[open.upperBound..<close.lowerBound])
        #expect(shown.count > 10)
        let missing = shown.filter { !source.contains($0) }
        #expect(missing.isEmpty, "README lines not in the tested example: \(missing)")
    }

    @Test func articleShowsTheTestedExample() throws {
        let tests = Self.tests, root = Self.root
        let article = try String(contentsOf: root.appendingPathComponent(
            "Sources/DNLSDifferentiation/DNLSDifferentiation.docc/DifferentiatingThroughDNLS.md"), encoding: .utf8)
        let source = try String(contentsOf: tests, encoding: .utf8)
        let lines = Self.lines
        guard let begin = source.range(of: "// Article example: begin\n"),
              let end = source.range(of: "        // Article example: end", range: begin.upperBound..<source.endIndex),
              let open = article.range(of: "```swift\n"),
              let close = article.range(of: "```", range: open.upperBound..<article.endIndex) else {
            Issue.record("markers or the article's code block not found")
            return
        }
        #expect(lines(source[begin.upperBound..<end.lowerBound]) == lines(article[open.upperBound..<close.lowerBound]))
    }
}
