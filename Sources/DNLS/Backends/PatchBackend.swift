/// Metric of a patch search.
public enum SearchMetric: Sendable, Hashable, CaseIterable {
    /// Sum of squared differences; smaller is nearer. Empty slots hold `+inf`.
    case l2
    /// Sum of products; larger is nearer. Empty slots hold `−inf`.
    case innerProduct
}

/// A validated search: everything a backend needs, in flat row-major arrays.
struct SearchProblem<Scalar: PatchScalar>: Sendable {
    let video: [Scalar]
    let keys: [Scalar]
    let shape: VideoShape
    let queries: QueryList
    let geometry: PatchGeometry
    let window: SearchWindow
    /// Neighbours kept per query; `nil` keeps the whole window in enumeration order.
    let k: Int?
    let metric: SearchMetric
    /// Leading channels that enter the distance.
    let channels: Int
    let flows: Flows<Scalar>

    /// Candidates per query (frames × ws × ws).
    var candidates: Int { window.candidateCount(videoFrames: shape.frames) }
    /// Slots per query in the output.
    var slots: Int { k ?? candidates }
    /// The value of an empty slot.
    var emptyDistance: Scalar { metric == .l2 ? .infinity : -.infinity }

    /// True when candidate `a` (distance, enumeration number) ranks ahead of `b`: nearer first,
    /// enumeration order breaks ties, NaN ranks after every number.
    @inline(__always)
    func ranksAhead(_ da: Scalar, _ ea: Int, of db: Scalar, _ eb: Int) -> Bool {
        if da.isNaN { return db.isNaN && ea < eb }
        if db.isNaN { return true }
        if da == db { return ea < eb }
        return metric == .l2 ? da < db : da > db
    }
}

/// The kernels a backend provides. Inputs are validated by the public operations; backends may
/// assume shapes, ranges and devices are consistent.
///
/// Patch tensors are `(B, Q, K, C, ps, ps)` in flat row-major order.
protocol PatchBackend<Scalar>: Sendable {
    associatedtype Scalar: PatchScalar

    /// Distances `(B, Q, slots)` and indices `(B, Q, slots, 3)`.
    func search(_ problem: SearchProblem<Scalar>) -> (distances: [Scalar], indices: [Int32])

    /// Gradients of `Σ gradient · distances` w.r.t. the query video and the key video, each of the
    /// video's shape. Empty slots (`t == −1`) contribute nothing.
    func searchBackward(_ problem: SearchProblem<Scalar>, indices: [Int32], gradient: [Scalar])
        -> (video: [Scalar], keys: [Scalar])

    /// Reads the patches at `sites`: `(B, Q, K, C, ps, ps)`. Empty sites give zero patches.
    func extract(_ video: [Scalar], shape: VideoShape, sites: PatchSites, geometry: PatchGeometry) -> [Scalar]

    /// Adds `weight · patch` entries into `video` at the sites (the adjoint of `extract`), and
    /// when `weightSum` is given (a `(B, T, 1, H, W)` array) adds `weight` there once per entry.
    /// `weights` is `(B, Q, K)`; `nil` means 1.
    func deposit(_ patches: [Scalar], weights: [Scalar]?, sites: PatchSites, geometry: PatchGeometry,
                 into video: inout [Scalar], shape: VideoShape, weightSum: inout [Scalar]?)

    /// Per query, `Σ_m weights[m] · patch(m)`: `(B, Q, 1, C, ps, ps)`.
    func weightedSum(_ video: [Scalar], shape: VideoShape, weights: [Scalar], sites: PatchSites,
                     geometry: PatchGeometry) -> [Scalar]

    /// Gradients of the weighted sum w.r.t. the video and the weights `(B, Q, K)`.
    func weightedSumBackward(_ video: [Scalar], shape: VideoShape, weights: [Scalar], sites: PatchSites,
                             geometry: PatchGeometry, gradient: [Scalar]) -> (video: [Scalar], weights: [Scalar])
}
