/// The geometry tables the CUDA kernels look up, built from the Swift definitions so that the GPU
/// follows exactly the rules of the CPU backends (see ``CUDAKernelSource``).
enum CUDAGeometryBlock {
    /// rows `[3H]`, columns `[3W]`, patch offsets `[ps]`, window offsets `[ws]`, frame orders `[T · F]`.
    static func make(_ g: PatchGeometry, window: SearchWindow?, shape s: VideoShape) -> [Int32] {
        var block: [Int32] = []
        block.reserveCapacity(3 * (s.height + s.width) + g.patchSize + (window.map { $0.size + s.frames * $0.frameCount(videoFrames: s.frames) } ?? 0))
        for x in -s.height..<(2 * s.height) { block.append(Int32(g.border.resolve(x, length: s.height))) }
        for x in -s.width..<(2 * s.width) { block.append(Int32(g.border.resolve(x, length: s.width))) }
        for a in 0..<g.patchSize { block.append(Int32(g.offset(a))) }
        if let window {
            for i in 0..<window.size { block.append(Int32(window.offset(i))) }
            for t in 0..<s.frames {
                block += window.frameOrder(queryFrame: t, videoFrames: s.frames).map { Int32($0) }
            }
        }
        return block
    }
}

/// For every pixel `(b, t, h, w)`, the sites anchored there, as CSR: `members[starts[p] ..< starts[p + 1]]`
/// are site numbers `q · K + m` in ascending order (a stable counting sort, so the order — and
/// the GPU's sums — never depend on timing).
enum AnchorTable {
    static func make(_ sites: PatchSites, shape s: VideoShape) throws(DNLSError) -> (starts: [Int32], members: [Int32]) {
        let S = sites.queries * sites.k
        let pixels = s.batch * s.frames * s.height * s.width
        guard pixels + 1 <= Int(Int32.max), S <= Int(Int32.max) else {
            throw .invalidArgument(argument: "video", expected: "fewer than 2³¹ pixels and sites for the CUDA backend",
                                   actual: "\(pixels) pixels, \(S) sites")
        }
        let triples = sites.hostTriples()
        let perBatch = sites.isShared ? 0 : 3 * S
        var bucketOf = [Int32](repeating: -1, count: s.batch * S)
        var counts = [Int32](repeating: 0, count: pixels + 1)
        for b in 0..<s.batch {
            for site in 0..<S {
                let o = b * perBatch + 3 * site
                let t = Int(triples[o]), h = Int(triples[o + 1]), w = Int(triples[o + 2])
                guard t >= 0 else { continue }
                let bucket = ((b * s.frames + t) * s.height + h) * s.width + w
                bucketOf[b * S + site] = Int32(bucket)
                counts[bucket + 1] += 1
            }
        }
        for p in 0..<pixels { counts[p + 1] += counts[p] }
        var fill = counts
        var members = [Int32](repeating: 0, count: Int(counts[pixels]))
        for b in 0..<s.batch {
            for site in 0..<S where bucketOf[b * S + site] >= 0 {
                let bucket = Int(bucketOf[b * S + site])
                members[Int(fill[bucket])] = Int32(site)
                fill[bucket] += 1
            }
        }
        return (counts, members)
    }
}
