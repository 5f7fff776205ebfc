/// Unfold over a region, one batch of grid queries at a time (`iunfold` in the original dnls):
/// video → one patch per query, `(B, Q, 1, C, ps, ps)`.
///
/// Patches may stick out of the region: they read the pixels there, and outside the frame they
/// read through ``PatchGeometry/border``. The backward is the exact adjoint (``PatchFold``'s
/// forward), reflected samples and pixels outside the region included.
public struct PatchUnfold: Sendable, Hashable {
    /// How patches read and write the video.
    public var geometry: PatchGeometry

    /// The operation for patches of `geometry`.
    public init(geometry: PatchGeometry) { self.geometry = geometry }

    /// The patches of queries `batch` (default: all) of `grid`.
    public func callAsFunction<S: PatchScalar>(_ video: Tensor<S>, grid: QueryGrid, batch: Range<Int>? = nil,
                                               implementation: Implementation = .automatic) throws(DNLSError) -> Tensor<S> {
        try unfold(video, argument: "video", grid: grid, batch: batch, implementation: implementation)
    }

    /// The forward, reporting errors about `video` under the caller's parameter name.
    func unfold<S: PatchScalar>(_ video: Tensor<S>, argument: String, grid: QueryGrid, batch: Range<Int>?,
                                implementation: Implementation) throws(DNLSError) -> Tensor<S> {
        let shape = try VideoShape(video: video, argument: argument)
        let sites = try gridSites(grid, batch: batch, video: shape, geometry: geometry)
        try requireRoom(for: [([shape.batch] + patchDims(sites, shape, geometry), MemoryLayout<S>.stride)], on: video.device)
        let engine = try backend(S.self, device: video.device, implementation: implementation)
        return try engine.extractPatches(video, shape: shape, sites: sites, geometry: geometry)
            .withShape(shape.output(patchDims(sites, shape, geometry)))
    }

    /// The adjoint: the patch gradients folded back into a video of `videoShape`.
    public func backward<S: PatchScalar>(patchGradient: Tensor<S>, grid: QueryGrid, batch: Range<Int>? = nil,
                                         videoShape: [Int], implementation: Implementation = .automatic)
        throws(DNLSError) -> Tensor<S>
    {
        let shape = try VideoShape(dims: videoShape, argument: "videoShape")
        try requireRoom(for: [(shape.dims, MemoryLayout<S>.stride)], on: patchGradient.device)
        var video = try Tensor<S>.zeroOutput(.video, shape: videoShape, on: patchGradient.device)
        try PatchFold(geometry: geometry).fold(patchGradient, argument: "patchGradient", grid: grid, batch: batch,
                                               into: &video, implementation: implementation)
        return video
    }
}

/// Fold over a region, one batch of grid queries at a time (`ifold` in the original dnls):
/// patches `(B, Q, 1, C, ps, ps)` → video, overlapping entries summed.
///
/// Each entry is added to the pixel that ``PatchUnfold`` reads for it, so fold and unfold are
/// exact adjoints. Normalise with the fold of ones: `fold(unfold(x)) / fold(1) == x` on every
/// covered pixel.
public struct PatchFold: Sendable, Hashable {
    /// How patches read and write the video.
    public var geometry: PatchGeometry

    /// The operation for patches of `geometry`.
    public init(geometry: PatchGeometry) { self.geometry = geometry }

    /// Folds into a zero video of `videoShape`.
    public func callAsFunction<S: PatchScalar>(_ patches: Tensor<S>, grid: QueryGrid, batch: Range<Int>? = nil,
                                               videoShape: [Int], implementation: Implementation = .automatic)
        throws(DNLSError) -> Tensor<S>
    {
        let shape = try VideoShape(dims: videoShape, argument: "videoShape")
        try requireRoom(for: [(shape.dims, MemoryLayout<S>.stride)], on: patches.device)
        var video = try Tensor<S>.zeroOutput(.video, shape: videoShape, on: patches.device)
        try accumulate(patches, grid: grid, batch: batch, into: &video, implementation: implementation)
        return video
    }

    /// Adds the folded patches into `video`: call once per batch to fold a whole grid in bounded memory.
    public func accumulate<S: PatchScalar>(_ patches: Tensor<S>, grid: QueryGrid, batch: Range<Int>? = nil,
                                           into video: inout Tensor<S>, implementation: Implementation = .automatic)
        throws(DNLSError)
    {
        try fold(patches, argument: "patches", grid: grid, batch: batch, into: &video, implementation: implementation)
    }

    /// The forward, reporting errors about `patches` under the caller's parameter name.
    func fold<S: PatchScalar>(_ patches: Tensor<S>, argument: String, grid: QueryGrid, batch: Range<Int>?,
                              into video: inout Tensor<S>, implementation: Implementation) throws(DNLSError) {
        let shape = try VideoShape(video: video, argument: "video")
        let sites = try gridSites(grid, batch: batch, video: shape, geometry: geometry)
        try shape.check(patches, argument: argument, trailing: patchDims(sites, shape, geometry),
                        meaning: "Q = \(sites.queries), 1, C = \(shape.channels), ps, ps")
        let device = try commonDevice([("video", video.device), (argument, patches.device)])
        let engine = try backend(S.self, device: device, implementation: implementation)
        var noSum: Tensor<S>? = nil
        try engine.depositPatches(patches, weights: nil, sites: sites, geometry: geometry, into: &video,
                                  shape: shape, weightSum: &noSum)
    }

    /// The adjoint: the video gradient read at every patch entry, `(B, Q, 1, C, ps, ps)`.
    public func backward<S: PatchScalar>(videoGradient: Tensor<S>, grid: QueryGrid, batch: Range<Int>? = nil,
                                         implementation: Implementation = .automatic) throws(DNLSError) -> Tensor<S> {
        try PatchUnfold(geometry: geometry).unfold(videoGradient, argument: "videoGradient", grid: grid, batch: batch,
                                                   implementation: implementation)
    }
}

/// Validates a grid batch against a video and wraps it as patch sites.
func gridSites(_ grid: QueryGrid, batch: Range<Int>?, video: VideoShape, geometry: PatchGeometry) throws(DNLSError) -> PatchSites {
    try geometry.validate(height: video.height, width: video.width)
    try grid.region.validate(frames: video.frames, height: video.height, width: video.width, argument: "grid.region")
    let batch = batch ?? 0..<grid.count
    try grid.validate(batch: batch)
    return PatchSites(grid: grid, batch: batch)
}
