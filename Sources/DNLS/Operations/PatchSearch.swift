/// K-nearest-neighbour patch search in a space-time window, optionally following optical flow.
///
/// For each query patch of `video`, every candidate patch of the window in `keys` (the same video
/// by default) is scored by ``SearchMetric``; the `k` best are returned sorted (nearest first, ties
/// in enumeration order: frame visiting order, window row, window column), or, with `k: nil`, the
/// whole window in enumeration order. Candidates whose position lies outside the frame are never
/// returned: their slots hold `+inf` (L2) or `−inf` (inner product) and index `(−1, −1, −1)`.
///
/// ```swift
/// let search = PatchSearch(geometry: PatchGeometry(patchSize: 7),
///                          window: SearchWindow(size: 21, temporalRadius: 2), k: 10)
/// let grid = try QueryGrid(region: .whole(frames: 5, height: 64, width: 64))
/// let result = try search(video, queries: .grid(grid, batch: 0..<1024))
/// ```
public struct PatchSearch: Sendable, Hashable {
    /// How patches read the videos.
    public var geometry: PatchGeometry
    /// The space-time window searched around each query.
    public var window: SearchWindow
    /// Neighbours returned per query, at least 1 and at most the window's candidates; `nil`
    /// returns the whole window.
    public var k: Int?
    /// Distance (L2) or similarity (inner product).
    public var metric: SearchMetric
    /// Number of leading channels that enter the distance (`nil`: all). Honoured in the backward too.
    public var channels: Int?

    /// A search; arguments are checked against the videos when it runs.
    public init(geometry: PatchGeometry, window: SearchWindow, k: Int? = 10, metric: SearchMetric = .l2,
                channels: Int? = nil) {
        self.geometry = geometry
        self.window = window
        self.k = k
        self.metric = metric
        self.channels = channels
    }

    /// Searches the neighbours of `queries`.
    ///
    /// - Parameters:
    ///   - video: the query video `(B, T, C, H, W)` or `(T, C, H, W)`.
    ///   - keys: the video searched, of the same shape (`nil`: `video` itself).
    ///   - queries: grid batch or explicit positions.
    ///   - flows: forward/backward flows of `keys`, `(B, T, 2, H, W)` (default none).
    ///   - implementation: which CPU backend runs it.
    /// - Returns: distances `(B, Q, K)` and indices `(B, Q, K, 3)` (no `B` axis for 4-D videos).
    public func callAsFunction<S: PatchScalar>(
        _ video: Tensor<S>, keys: Tensor<S>? = nil, queries: Queries, flows: Flows<S> = .none,
        implementation: Implementation = .automatic
    ) throws(DNLSError) -> SearchResult<S> {
        let problem = try makeProblem(video, keys: keys, queries: queries, flows: flows)
        let rows = [problem.shape.batch, problem.queries.count, problem.slots]
        try requireRoom(for: [(rows, MemoryLayout<S>.stride), (rows + [3], 4)], on: video.device)
        let engine = try backend(S.self, device: video.device, implementation: implementation)
        let (distances, indices) = try engine.searchForward(problem)
        let Q = problem.queries.count, slots = problem.slots
        return SearchResult(distances: distances.withShape(problem.shape.output([Q, slots])),
                            indices: indices.withShape(problem.shape.output([Q, slots, 3])))
    }

    /// Gradients of a scalar loss w.r.t. both videos, given its gradient w.r.t. the distances.
    ///
    /// This is the exact derivative of the distances for the fixed `indices` (the selection itself is
    /// piecewise constant), including samples read through reflection. Only the first `channels`
    /// channels receive gradient. Empty slots (index −1) contribute nothing.
    ///
    /// - Returns: the gradient w.r.t. `video` and, when `keys` was given, w.r.t. `keys`; for a
    ///   self-search (`keys: nil`) both parts are summed into ``SearchGradients/video``.
    public func backward<S: PatchScalar>(
        distanceGradient: Tensor<S>, indices: Tensor<Int32>, video: Tensor<S>, keys: Tensor<S>? = nil,
        queries: Queries, implementation: Implementation = .automatic
    ) throws(DNLSError) -> SearchGradients<S> {
        let problem = try makeProblem(video, keys: keys, queries: queries, flows: .none)
        let Q = problem.queries.count, slots = problem.slots, s = problem.shape
        _ = try commonDevice([("video", video.device), ("distanceGradient", distanceGradient.device),
                              ("indices", indices.device)])
        try s.check(distanceGradient, argument: "distanceGradient", trailing: [Q, slots], meaning: "Q = \(Q), K = \(slots)")
        try s.check(indices, argument: "indices", trailing: [Q, slots, 3], meaning: "Q = \(Q), K = \(slots), 3")
        _ = try checkedTriples(indices, video: s, argument: "indices", allowMissing: true)
        try requireRoom(for: Array(repeating: (s.dims, MemoryLayout<S>.stride), count: keys == nil ? 1 : 2), on: video.device)
        let engine = try backend(S.self, device: video.device, implementation: implementation)
        let (gradVideo, gradKeys) = try engine.searchBackward(
            problem, indices: indices.withShape([s.batch, Q, slots, 3]), gradient: distanceGradient.withShape([s.batch, Q, slots]),
            selfSearch: keys == nil)
        return SearchGradients(video: gradVideo.withShape(video.shape), keys: gradKeys?.withShape(video.shape))
    }

    /// Validates every argument and resolves them into a backend problem.
    func makeProblem<S: PatchScalar>(_ video: Tensor<S>, keys: Tensor<S>?, queries: Queries, flows: Flows<S>)
        throws(DNLSError) -> SearchProblem<S>
    {
        let shape = try VideoShape(video: video, argument: "video")
        var devices = [("video", video.device)]
        if let keys {
            try requireSameShape(keys, video, argument: "keys", as: "video")
            devices.append(("keys", keys.device))
        }
        try geometry.validate(height: shape.height, width: shape.width)
        try window.validate(videoFrames: shape.frames, height: shape.height, width: shape.width)
        let window = window.effective(videoFrames: shape.frames)
        let candidates = window.candidateCount(videoFrames: shape.frames)
        // Candidate numbers are 32-bit on every backend (they rank ties and index a whole window).
        guard candidates <= Int(Int32.max) else {
            throw .invalidArgument(argument: "window", expected: "at most 2³¹ − 1 candidates per query (frames × ws²)",
                                   actual: candidates == .max ? "more than \(Int.max)" : "\(candidates)")
        }
        if let k, k < 1 || k > candidates {
            throw .invalidArgument(argument: "k", expected: "1…\(candidates) (the window's candidates) or nil",
                                   actual: "\(k)")
        }
        if let channels, channels < 1 || channels > shape.channels {
            throw .invalidArgument(argument: "channels", expected: "1…\(shape.channels) or nil", actual: "\(channels)")
        }
        for (name, flow) in [("flows.forward", flows.forward), ("flows.backward", flows.backward)] {
            guard let flow else { continue }
            try shape.check(flow, argument: name, trailing: [shape.frames, 2, shape.height, shape.width],
                            meaning: "T = \(shape.frames), 2, H = \(shape.height), W = \(shape.width)")
            try requireFinite(flow, argument: name)
            devices.append((name, flow.device))
        }
        if case let .positions(p) = queries { devices.append(("queries", p.device)) }
        _ = try commonDevice(devices)
        let keys = keys ?? video
        // A host flow of zeros moves no window: dropped, the search takes the no-flow path (on a GPU
        // the backend tells on the device, without waiting for it).
        func moving(_ flow: Tensor<S>?) -> Tensor<S>? {
            guard let flow, flow.device == .cpu, flow.scalars.allSatisfy({ $0 == 0 }) else { return flow }
            return nil
        }
        let flows = Flows(forward: moving(flows.forward), backward: moving(flows.backward))
        return SearchProblem(
            videoTensor: video, keysTensor: keys,
            video: video.device == .cpu ? video.scalars : [], keys: keys.device == .cpu ? keys.scalars : [], shape: shape,
            queries: try QueryList(queries, video: shape), geometry: geometry, window: window, k: k,
            metric: metric, channels: channels ?? shape.channels, flows: flows)
    }
}

/// The output of a ``PatchSearch``.
public struct SearchResult<Scalar: PatchScalar>: Sendable {
    /// `(B, Q, K)`: distances (L2) or similarities (inner product), best first.
    public var distances: Tensor<Scalar>
    /// `(B, Q, K, 3)`: `(t, h, w)` of each neighbour; `(−1, −1, −1)` for an empty slot.
    public var indices: Tensor<Int32>

    /// A result of the given tensors (for example the caller's memory that an `into:` search
    /// writes into).
    public init(distances: Tensor<Scalar>, indices: Tensor<Int32>) {
        self.distances = distances
        self.indices = indices
    }
}

/// Gradients returned by ``PatchSearch/backward(distanceGradient:indices:video:keys:queries:implementation:)``.
public struct SearchGradients<Scalar: PatchScalar>: Sendable {
    /// Gradient w.r.t. the query video (the total gradient for a self-search).
    public var video: Tensor<Scalar>
    /// Gradient w.r.t. the key video, or `nil` for a self-search.
    public var keys: Tensor<Scalar>?

    /// Gradients of the given tensors (for example the caller's memory that an `into:` backward
    /// writes into).
    public init(video: Tensor<Scalar>, keys: Tensor<Scalar>? = nil) {
        self.video = video
        self.keys = keys
    }
}
