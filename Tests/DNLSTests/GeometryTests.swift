import DNLS
import Testing

/// Scalar geometry helpers: the reflection rule, patch entry offsets and the search window layout.
@Suite("Geometry")
struct GeometryTests {
    /// The reflection table of the Conventions article, L = 5 (valid 0…4); −1 means "reads zero".
    @Test("Reflection of an axis of 5 samples", arguments: [
        (-1, 1), (-2, 2), (-4, 4), (-5, -1), (5, 3), (6, 2), (8, 0), (9, -1),
        (0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (-6, -1), (12, -1),
    ])
    func reflectLength5(x: Int, expected: Int) {
        #expect(Border.reflect.resolve(x, length: 5) == expected)
    }

    @Test("Zero border reads nothing outside the frame", arguments: [
        (-1, -1), (-2, -1), (-5, -1), (0, 0), (2, 2), (4, 4), (5, -1), (6, -1), (9, -1),
    ])
    func zeroLength5(x: Int, expected: Int) {
        #expect(Border.zero.resolve(x, length: 5) == expected)
    }

    @Test("Reflection of tiny axes is applied once")
    func reflectTinyAxes() {
        // L = 1: the only sample is 0; −1 → 1 and 1 → −1 are still outside.
        #expect(Border.reflect.resolve(0, length: 1) == 0)
        #expect(Border.reflect.resolve(-1, length: 1) == -1)
        #expect(Border.reflect.resolve(1, length: 1) == -1)
        // L = 2: −1 → 1, 2 → 0, 3 → −1 (invalid), −2 → 2 (invalid).
        #expect(Border.reflect.resolve(-1, length: 2) == 1)
        #expect(Border.reflect.resolve(2, length: 2) == 0)
        #expect(Border.reflect.resolve(3, length: 2) == -1)
        #expect(Border.reflect.resolve(-2, length: 2) == -1)
    }

    @Test("The reflection rule is the symmetric-without-edge kind, not the edge-repeating kind")
    func reflectIsNotSymmetric() {
        // Edge-repeating (symmetric) padding would give −1 → 0 and 5 → 4; we must not.
        #expect(Border.reflect.resolve(-1, length: 5) != 0)
        #expect(Border.reflect.resolve(5, length: 5) != 4)
    }

    @Test("Patch entry offsets", arguments: [
        (3, 1, PatchAnchor.center, [-1, 0, 1]),
        (1, 1, PatchAnchor.center, [0]),
        (2, 1, PatchAnchor.center, [-1, 0]),
        (4, 2, PatchAnchor.center, [-4, -2, 0, 2]),
        (5, 3, PatchAnchor.center, [-6, -3, 0, 3, 6]),
        (4, 2, PatchAnchor.topLeft, [0, 2, 4, 6]),
        (3, 1, PatchAnchor.topLeft, [0, 1, 2]),
        (1, 3, PatchAnchor.topLeft, [0]),
    ])
    func offsets(ps: Int, dilation: Int, anchor: PatchAnchor, expected: [Int]) {
        let g = PatchGeometry(patchSize: ps, dilation: dilation, anchor: anchor)
        #expect(g.offsets == expected)
        #expect((0..<ps).map { g.offset($0) } == expected)
        #expect(g.span == expected.last! - expected.first! + 1)
    }

    @Test("Patch span", arguments: [(1, 1, 1), (3, 1, 3), (4, 2, 7), (5, 3, 13), (7, 2, 13), (2, 4, 5)])
    func span(ps: Int, dilation: Int, expected: Int) {
        #expect(PatchGeometry(patchSize: ps, dilation: dilation).span == expected)
    }

    @Test("Default geometry is centred with reflection")
    func defaults() {
        let g = PatchGeometry(patchSize: 5)
        #expect(g.dilation == 1)
        #expect(g.anchor == .center)
        #expect(g.border == .reflect)
    }

    @Test("Search window offsets", arguments: [
        (10, 1, Array(-4...5)),
        (7, 1, Array(-3...3)),
        (7, 2, [-6, -4, -2, 0, 2, 4, 6]),
        (4, 2, [-2, 0, 2, 4]),
        (1, 3, [0]),
        (2, 1, [0, 1]),
    ])
    func windowOffsets(ws: Int, stride: Int, expected: [Int]) {
        let window = SearchWindow(size: ws, stride: stride)
        #expect((0..<ws).map { window.offset($0) } == expected)
    }

    @Test("Candidate counts")
    func candidateCounts() {
        let window = SearchWindow(size: 5, stride: 1, temporalRadius: 2)
        #expect(window.frameCount(videoFrames: 10) == 5)
        #expect(window.frameCount(videoFrames: 3) == 3)
        #expect(window.candidateCount(videoFrames: 10) == 125)
        #expect(window.candidateCount(videoFrames: 3) == 75)
        #expect(SearchWindow(size: 3).candidateCount(videoFrames: 4) == 9)
    }
}
