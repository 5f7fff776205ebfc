/// Metric of a patch search.
public enum SearchMetric: Sendable, Hashable, CaseIterable {
    /// Sum of squared differences; smaller is nearer. Empty slots hold `+inf`.
    case l2
    /// Sum of products; larger is nearer. Empty slots hold `−inf`.
    case innerProduct
}

/// A validated search: everything a backend needs.
struct SearchProblem<Scalar: PatchScalar>: Sendable {
    /// The query and key videos as given (on the operation's device).
    let videoTensor: Tensor<Scalar>
    let keysTensor: Tensor<Scalar>
    /// Their elements when they live in host memory (empty for GPU tensors).
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
    /// enumeration order breaks ties, NaN ranks after every number (the ranking the kernels share,
    /// on keys: distances, or negated similarities).
    @inline(__always)
    func ranksAhead(_ da: Scalar, _ ea: Int, of db: Scalar, _ eb: Int) -> Bool {
        metric == .l2 ? Scalar.ranksAhead(da, ea, of: db, eb) : Scalar.ranksAhead(-da, ea, of: -db, eb)
    }
}

extension SearchProblem {
    /// A problem on host arrays (the videos are wrapped as CPU tensors of `shape`).
    init(video: [Scalar], keys: [Scalar], shape: VideoShape, queries: QueryList, geometry: PatchGeometry,
         window: SearchWindow, k: Int?, metric: SearchMetric, channels: Int, flows: Flows<Scalar>) {
        self.init(videoTensor: Tensor(uncheckedShape: shape.dims, scalars: video),
                  keysTensor: Tensor(uncheckedShape: shape.dims, scalars: keys), video: video, keys: keys, shape: shape,
                  queries: queries, geometry: geometry, window: window, k: k, metric: metric, channels: channels,
                  flows: flows)
    }
}

extension SearchProblem {
    /// The same problem with GPU query positions copied to host memory, for the CPU kernels.
    func onHost() throws(DNLSError) -> SearchProblem {
        guard case .deviceExplicit = queries.source else { return self }
        return SearchProblem(videoTensor: videoTensor, keysTensor: keysTensor, video: video, keys: keys, shape: shape,
                             queries: try queries.onHost(), geometry: geometry, window: window, k: k, metric: metric,
                             channels: channels, flows: flows)
    }
}

/// What every backend provides, on tensors of its device: the one internal protocol behind the
/// public operations. Inputs are validated by the operations; backends may assume shapes, ranges
/// and devices are consistent. Outputs carry full shapes (`(B, …)`); operations drop the batch
/// axis for 4-D callers.
protocol PatchBackend<Scalar>: Sendable {
    associatedtype Scalar: PatchScalar

    /// Distances `(B, Q, slots)` and indices `(B, Q, slots, 3)`.
    func searchForward(_ problem: SearchProblem<Scalar>) throws(DNLSError) -> (distances: Tensor<Scalar>, indices: Tensor<Int32>)

    /// Gradients of `Σ gradient · distances` w.r.t. the query and key videos; for a self-search
    /// (`selfSearch`) their sum is returned as `video` and `keys` is `nil`.
    func searchBackward(_ problem: SearchProblem<Scalar>, indices: Tensor<Int32>, gradient: Tensor<Scalar>,
                        selfSearch: Bool) throws(DNLSError) -> (video: Tensor<Scalar>, keys: Tensor<Scalar>?)

    /// The patches at `sites`, `(B, Q, K, C, ps, ps)`; empty sites give zero patches.
    func extractPatches(_ video: Tensor<Scalar>, shape: VideoShape, sites: PatchSites, geometry: PatchGeometry)
        throws(DNLSError) -> Tensor<Scalar>

    /// Adds `weight · patch` into `video` at the sites, and `weight` into `weightSum` once per entry.
    func depositPatches(_ patches: Tensor<Scalar>, weights: Tensor<Scalar>?, sites: PatchSites, geometry: PatchGeometry,
                        into video: inout Tensor<Scalar>, shape: VideoShape, weightSum: inout Tensor<Scalar>?) throws(DNLSError)

    /// ``depositPatches(_:weights:sites:geometry:into:shape:weightSum:)`` into a new zero video of
    /// `shape` and weight sum: the video `shape.videoShape(channels: C)` and the weight sum
    /// `shape.videoShape(channels: 1)` (outputs of roles `.video` and `.weightSum`).
    func gatherPatches(_ patches: Tensor<Scalar>, weights: Tensor<Scalar>?, sites: PatchSites, geometry: PatchGeometry,
                       shape: VideoShape) throws(DNLSError) -> (video: Tensor<Scalar>, weightSum: Tensor<Scalar>)

    /// Gradients of a gather w.r.t. its patches (`weight · G` read at each entry) and its weights
    /// (`⟨patch, G⟩ + Σ Gw` over the entries), `nil` when it had no weights.
    func gatherBackward(videoGradient: Tensor<Scalar>, weightSumGradient: Tensor<Scalar>?, patches: Tensor<Scalar>,
                        weights: Tensor<Scalar>?, sites: PatchSites, geometry: PatchGeometry, shape: VideoShape)
        throws(DNLSError) -> (patches: Tensor<Scalar>, weights: Tensor<Scalar>?)

    /// Per query, `Σ_m weights[m] · patch(m)`: `(B, Q, 1, C, ps, ps)`.
    func weightedPatchSum(_ video: Tensor<Scalar>, shape: VideoShape, weights: Tensor<Scalar>, sites: PatchSites,
                          geometry: PatchGeometry) throws(DNLSError) -> Tensor<Scalar>

    /// Gradients of the weighted sum w.r.t. the video and the weights `(B, Q, K)`.
    func weightedPatchSumBackward(_ video: Tensor<Scalar>, shape: VideoShape, weights: Tensor<Scalar>, sites: PatchSites,
                                  geometry: PatchGeometry, gradient: Tensor<Scalar>)
        throws(DNLSError) -> (video: Tensor<Scalar>, weights: Tensor<Scalar>)
}

/// The kernels of a CPU backend, on flat row-major host arrays. ``PatchBackend`` comes with it.
///
/// Patch arrays are `(B, Q, K, C, ps, ps)`.
protocol HostPatchKernels<Scalar>: PatchBackend {
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

extension HostPatchKernels {
    func searchForward(_ p: SearchProblem<Scalar>) throws(DNLSError) -> (distances: Tensor<Scalar>, indices: Tensor<Int32>) {
        let p = try p.onHost()
        let (d, i) = search(p)
        let B = p.shape.batch, Q = p.queries.count
        return (Tensor(uncheckedShape: [B, Q, p.slots], scalars: d), Tensor(uncheckedShape: [B, Q, p.slots, 3], scalars: i))
    }

    func searchBackward(_ p: SearchProblem<Scalar>, indices: Tensor<Int32>, gradient: Tensor<Scalar>,
                        selfSearch: Bool) throws(DNLSError) -> (video: Tensor<Scalar>, keys: Tensor<Scalar>?) {
        var (video, keys) = searchBackward(try p.onHost(), indices: indices.scalars, gradient: gradient.scalars)
        let shape = p.shape.dims
        guard selfSearch else {
            return (Tensor(uncheckedShape: shape, scalars: video), Tensor(uncheckedShape: shape, scalars: keys))
        }
        for i in video.indices { video[i] += keys[i] }
        return (Tensor(uncheckedShape: shape, scalars: video), nil)
    }

    func extractPatches(_ video: Tensor<Scalar>, shape s: VideoShape, sites: PatchSites, geometry g: PatchGeometry)
        throws(DNLSError) -> Tensor<Scalar> {
        let sites = try sites.onHost()
        return Tensor(uncheckedShape: [s.batch, sites.queries, sites.k, s.channels, g.patchSize, g.patchSize],
                      scalars: extract(video.scalars, shape: s, sites: sites, geometry: g))
    }

    func depositPatches(_ patches: Tensor<Scalar>, weights: Tensor<Scalar>?, sites: PatchSites, geometry: PatchGeometry,
                        into video: inout Tensor<Scalar>, shape: VideoShape, weightSum: inout Tensor<Scalar>?) throws(DNLSError) {
        let sites = try sites.onHost()
        var sum = weightSum?.scalars
        weightSum?.scalars = []  // keep the array uniquely referenced while the kernel adds into it
        deposit(patches.scalars, weights: weights?.scalars, sites: sites, geometry: geometry, into: &video.scalars,
                shape: shape, weightSum: &sum)
        if let sum { weightSum?.scalars = sum }
    }

    func gatherBackward(videoGradient: Tensor<Scalar>, weightSumGradient: Tensor<Scalar>?, patches: Tensor<Scalar>,
                        weights: Tensor<Scalar>?, sites: PatchSites, geometry g: PatchGeometry, shape s: VideoShape)
        throws(DNLSError) -> (patches: Tensor<Scalar>, weights: Tensor<Scalar>?) {
        let sites = try sites.onHost()
        // The video gradient read at every patch entry: the forward's adjoint.
        var read = extract(videoGradient.scalars, shape: s, sites: sites, geometry: g)
        let patchShape = [s.batch, sites.queries, sites.k, s.channels, g.patchSize, g.patchSize]
        guard let weights else { return (Tensor(uncheckedShape: patchShape, scalars: read), nil) }
        let entries = s.channels * g.patchSize * g.patchSize, values = patches.scalars, w = weights.scalars
        var gradWeights = [Scalar](repeating: 0, count: w.count)
        for i in 0..<w.count {
            var dot: Scalar = 0
            for e in 0..<entries { dot += values[i * entries + e] * read[i * entries + e] }
            gradWeights[i] = dot
            for e in 0..<entries { read[i * entries + e] *= w[i] }
        }
        if let weightSumGradient {
            let single = VideoShape(batch: s.batch, frames: s.frames, channels: 1, height: s.height, width: s.width, batched: true)
            let counts = extract(weightSumGradient.scalars, shape: single, sites: sites, geometry: g)
            let perPatch = g.patchSize * g.patchSize
            for i in 0..<w.count {
                for e in 0..<perPatch { gradWeights[i] += counts[i * perPatch + e] }
            }
        }
        return (Tensor(uncheckedShape: patchShape, scalars: read),
                Tensor(uncheckedShape: [s.batch, sites.queries, sites.k], scalars: gradWeights))
    }

    func weightedPatchSum(_ video: Tensor<Scalar>, shape s: VideoShape, weights: Tensor<Scalar>, sites: PatchSites,
                          geometry g: PatchGeometry) throws(DNLSError) -> Tensor<Scalar> {
        let sites = try sites.onHost()
        return Tensor(uncheckedShape: [s.batch, sites.queries, 1, s.channels, g.patchSize, g.patchSize],
                      scalars: weightedSum(video.scalars, shape: s, weights: weights.scalars, sites: sites, geometry: g))
    }

    func weightedPatchSumBackward(_ video: Tensor<Scalar>, shape s: VideoShape, weights: Tensor<Scalar>, sites: PatchSites,
                                  geometry g: PatchGeometry, gradient: Tensor<Scalar>)
        throws(DNLSError) -> (video: Tensor<Scalar>, weights: Tensor<Scalar>) {
        let sites = try sites.onHost()
        let (v, w) = weightedSumBackward(video.scalars, shape: s, weights: weights.scalars, sites: sites, geometry: g,
                                         gradient: gradient.scalars)
        return (Tensor(uncheckedShape: s.dims, scalars: v), Tensor(uncheckedShape: [s.batch, sites.queries, sites.k], scalars: w))
    }
}

extension PatchBackend {
    /// Zero outputs, then the deposit: what a backend without a faster way does.
    func gatherPatches(_ patches: Tensor<Scalar>, weights: Tensor<Scalar>?, sites: PatchSites, geometry: PatchGeometry,
                       shape: VideoShape) throws(DNLSError) -> (video: Tensor<Scalar>, weightSum: Tensor<Scalar>) {
        var video = try Tensor<Scalar>.zeroOutput(.video, shape: shape.videoShape(channels: shape.channels), on: patches.device)
        var sum: Tensor<Scalar>? = try Tensor<Scalar>.zeroOutput(.weightSum, shape: shape.videoShape(channels: 1),
                                                                 on: patches.device)
        try depositPatches(patches, weights: weights, sites: sites, geometry: geometry, into: &video, shape: shape,
                           weightSum: &sum)
        return (video, sum!)
    }
}
