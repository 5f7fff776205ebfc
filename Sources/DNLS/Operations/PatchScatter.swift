/// Extracts the patch at every neighbour index: video → patches (`scatter` in the original dnls).
///
/// `patches[b, q, m, c, a, e]` is the video sample of entry `(a, e)` of the patch at
/// `indices[b, q, m]`, read through ``PatchGeometry``. An index `(−1, −1, −1)` (an empty search
/// slot) gives a zero patch. The backward is the exact adjoint: it adds each patch entry back onto
/// the pixel it read, reflected samples included.
public struct PatchScatter: Sendable, Hashable {
    /// How patches read and write the video.
    public var geometry: PatchGeometry

    /// The operation for patches of `geometry`.
    public init(geometry: PatchGeometry) { self.geometry = geometry }

    /// Patches `(B, Q, K, C, ps, ps)` at `indices` `(B, Q, K, 3)` of `video`.
    public func callAsFunction<S: PatchScalar>(_ video: Tensor<S>, indices: Tensor<Int32>,
                                               implementation: Implementation = .automatic) throws(DNLSError) -> Tensor<S> {
        let shape = try VideoShape(video: video, argument: "video")
        try geometry.validate(height: shape.height, width: shape.width)
        let sites = try neighbourSites(indices, video: shape)
        let device = try commonDevice([("video", video.device), ("indices", indices.device)])
        try requireRoom(for: [([shape.batch] + patchDims(sites, shape, geometry), MemoryLayout<S>.stride)], on: device)
        let engine = try backend(S.self, device: device, implementation: implementation)
        let patches = try engine.extractPatches(video, shape: shape, sites: sites, geometry: geometry)
        return patches.withShape(shape.output(patchDims(sites, shape, geometry)))
    }

    /// The adjoint: adds the patch gradients back into a video of `videoShape`.
    public func backward<S: PatchScalar>(patchGradient: Tensor<S>, indices: Tensor<Int32>, videoShape: [Int],
                                         implementation: Implementation = .automatic) throws(DNLSError) -> Tensor<S> {
        let shape = try VideoShape(dims: videoShape, argument: "videoShape")
        try geometry.validate(height: shape.height, width: shape.width)
        let sites = try neighbourSites(indices, video: shape)
        try shape.check(patchGradient, argument: "patchGradient", trailing: patchDims(sites, shape, geometry),
                        meaning: "Q, K, C, ps, ps")
        let device = try commonDevice([("patchGradient", patchGradient.device), ("indices", indices.device)])
        try requireRoom(for: [(shape.dims, MemoryLayout<S>.stride)], on: device)
        let engine = try backend(S.self, device: device, implementation: implementation)
        var video = try Tensor<S>.zeroOutput(.video, shape: videoShape, on: device)
        var noSum: Tensor<S>? = nil
        try engine.depositPatches(patchGradient, weights: nil, sites: sites, geometry: geometry, into: &video,
                                  shape: shape, weightSum: &noSum)
        return video
    }
}

/// Validates a neighbour index tensor `(B, Q, K, 3)` against a video and wraps it as patch sites:
/// host triples for a CPU tensor, the tensor itself for a GPU one (checked and read in place).
func neighbourSites(_ indices: Tensor<Int32>, video: VideoShape) throws(DNLSError) -> PatchSites {
    let dims = try video.check(indices, argument: "indices", trailing: [nil, nil, 3], meaning: "Q, K, 3")
    switch try checkedTriples(indices, video: video, argument: "indices", allowMissing: true) {
    case let .host(triples): return PatchSites(neighbours: triples, queries: dims[0], k: dims[1])
    case let .device(tensor): return PatchSites(source: .deviceNeighbours(tensor), queries: dims[0], k: dims[1])
    }
}

/// Trailing dimensions of the patch tensor of `sites`: `(Q, K, C, ps, ps)`.
func patchDims(_ sites: PatchSites, _ video: VideoShape, _ geometry: PatchGeometry) -> [Int] {
    [sites.queries, sites.k, video.channels, geometry.patchSize, geometry.patchSize]
}
