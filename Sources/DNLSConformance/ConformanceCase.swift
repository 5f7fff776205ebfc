import DNLS

/// One configuration of the conformance sweep: a video shape, a patch geometry, a search window
/// and query grid, checked for every operation.
package struct ConformanceCase: Sendable, CustomStringConvertible {
    /// The video's extents `(B, T, C, H, W)`.
    package var batch: Int, frames: Int, channels: Int, height: Int, width: Int
    /// How patches read the video, for every operation.
    package var geometry: PatchGeometry
    /// The search window.
    package var window: SearchWindow
    /// Neighbours per query (`nil`: the whole window).
    package var k: Int?
    /// The search metric.
    package var metric: SearchMetric
    /// Whether random forward and backward flows are used.
    package var flows: Bool
    /// The query region, touching the frame borders in some cases.
    package var region: Region
    /// Spacing of the query grid.
    package var queryStride: Int
    /// Seed of this case's random inputs.
    package var seed: UInt64

    /// `name` lists the parameters, so a failure says what to reproduce.
    package var name: String {
        "B\(batch) T\(frames) C\(channels) \(height)×\(width) ps\(geometry.patchSize) d\(geometry.dilation) "
            + "\(geometry.anchor) \(geometry.border) ws\(window.size)/\(window.stride) wt\(window.temporalRadius) "
            + "k\(k.map(String.init) ?? "all") \(metric)\(flows ? " flow" : "") region \(region) stride \(queryStride)"
    }
    /// The case's ``name``.
    package var description: String { name }

    /// The sweep: varied small cases; the full scale adds wide channels and large frames.
    static func sweep(scale: ConformanceSuite.Scale, seed: UInt64) -> [ConformanceCase] {
        var rng = SplitMix64(seed: seed)
        func pick<T>(_ values: [T]) -> T { values[Int(rng.next() % UInt64(values.count))] }
        var cases: [ConformanceCase] = []
        let quick = scale == .quick
        let count = quick ? 10 : 40
        for n in 0..<count {
            let large = !quick && n % 8 == 7
            let H = large ? pick([96, 131]) : quick ? pick([8, 9, 11]) : pick([9, 12, 16, 21])
            let W = large ? pick([80, 160]) : quick ? pick([8, 10, 12]) : pick([8, 13, 16, 24])
            let C = !quick && n % 5 == 4 ? pick([16, 64]) : pick([1, 2, 3])
            // Patches never span more than the frame (the operations reject that).
            var geometry = PatchGeometry(patchSize: pick([1, 2, 3, 4, 5, 7]), dilation: pick([1, 1, 2]),
                                         anchor: pick([.center, .topLeft]), border: pick([.reflect, .zero]))
            while geometry.span > min(H, W) { geometry.dilation = 1; geometry.patchSize -= 1 }
            let top = pick([0, 1, 3]), left = pick([0, 2]), bottom = H - pick([0, 2]), right = W - pick([0, 1])
            let T = quick ? pick([1, 2, 3]) : pick([1, 2, 3, 4])
            let window = SearchWindow(size: quick ? pick([1, 3, 4]) : pick([1, 3, 4, 5, 7]), stride: pick([1, 1, 2]),
                                      temporalRadius: pick([0, 1, 2]))
            cases.append(ConformanceCase(
                batch: pick([1, 1, 2]), frames: T, channels: C, height: H, width: W, geometry: geometry,
                window: window, k: pick([1, 3, 5, nil]), metric: pick([.l2, .innerProduct]), flows: pick([false, true]),
                region: Region(frames: 0..<T, rows: top..<bottom, columns: left..<right),
                queryStride: large ? pick([2, 3, 4]) : pick([1, 2, 3, 4, 9]), seed: rng.next()))
        }
        if quick {
            // One case larger than the rest: 2 × 72 × 64 pixels exceed the 4096-pixel anchor tiles
            // that the CUDA backend takes in the checking mode, so that the quick sweep also runs
            // the scatter-adds that build their anchor tables in several passes.
            cases.append(ConformanceCase(
                batch: 1, frames: 2, channels: 2, height: 72, width: 64,
                geometry: PatchGeometry(patchSize: 3, border: pick([.reflect, .zero])),
                window: SearchWindow(size: 3, temporalRadius: 1), k: 3, metric: .l2, flows: pick([false, true]),
                region: Region(frames: 0..<2, rows: 0..<72, columns: 0..<64), queryStride: pick([1, 2]),
                seed: rng.next()))
        }
        return cases
    }
}
