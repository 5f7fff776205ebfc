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
