/// Argument checks without the work, for layers that must know that a call cannot fail before
/// they make it (the differentiation layer checks once, then runs non-throwing calls).

extension PatchSearch {
    /// Throws what a search of `video` with these arguments would throw for them, without
    /// searching (shapes, devices, the window against the frame, `k`, `channels`, flows, queries,
    /// and that a backend exists for `S` on the video's device).
    package func validate<S: PatchScalar>(_ video: Tensor<S>, keys: Tensor<S>?, queries: Queries, flows: Flows<S>,
                                          implementation: Implementation) throws(DNLSError) {
        _ = try makeProblem(video, keys: keys, queries: queries, flows: flows)
        _ = try backend(S.self, device: video.device, implementation: implementation)
    }
}

extension PatchGeometry {
    /// Throws what a patch operation of this geometry on a video of `videoShape` on `device`
    /// would throw for the video itself (rank, extents, patch size and dilation against the frame,
    /// a backend for `S` there).
    package func validate<S: PatchScalar>(videoShape: [Int], on device: Device, _: S.Type,
                                          implementation: Implementation) throws(DNLSError) {
        let shape = try VideoShape(dims: videoShape, argument: "videoShape")
        try validate(height: shape.height, width: shape.width)
        _ = try backend(S.self, device: device, implementation: implementation)
    }

    /// As ``validate(videoShape:on:_:implementation:)``, and that queries `batch` of `grid` fit the video.
    package func validate<S: PatchScalar>(videoShape: [Int], grid: QueryGrid, batch: Range<Int>?, on device: Device,
                                          _ scalar: S.Type, implementation: Implementation) throws(DNLSError) {
        try validate(videoShape: videoShape, on: device, scalar, implementation: implementation)
        _ = try gridSites(grid, batch: batch, video: try VideoShape(dims: videoShape, argument: "videoShape"), geometry: self)
    }
}

extension Tensor {
    /// The symbolic zero of the differentiation layer: no shape, no storage (rank 0 but no
    /// element, a state no other initialiser makes), the identity of `+`.
    package static var symbolicZero: Tensor { Tensor(shape: [], device: .cpu, host: [], deviceStorage: nil) }

    /// Whether this is ``symbolicZero``.
    package var isSymbolicZero: Bool { shape.isEmpty && deviceStorage == nil && host.isEmpty }
}
