/// Which query positions an operation works on.
public enum Queries: Sendable, Equatable {
    /// A range of query numbers of a grid (`nil`: every query of the grid). The same positions are
    /// used for every batch item.
    case grid(QueryGrid, batch: Range<Int>? = nil)
    /// Explicit `(t, h, w)` positions, an `Int32` tensor `(B, Q, 3)` (or `(Q, 3)` for 4-D videos).
    case positions(Tensor<Int32>)
}

/// Resolved query positions: `count` per batch item, position of query `i` of item `b`.
struct QueryList: Sendable {
    enum Source: Sendable {
        case grid(QueryGrid, start: Int)
        case explicit([Int32])
        /// Explicit positions left on the GPU, `(B, Q, 3)`: the GPU backend reads them in place.
        case deviceExplicit(Tensor<Int32>)
    }
    let source: Source
    let count: Int

    init(_ queries: Queries, video: VideoShape) throws(DNLSError) {
        switch queries {
        case let .grid(grid, batch):
            let batch = batch ?? 0..<grid.count
            try grid.validate(batch: batch)
            try grid.region.validate(frames: video.frames, height: video.height, width: video.width, argument: "grid.region")
            source = .grid(grid, start: batch.lowerBound)
            count = batch.count
        case let .positions(tensor):
            let dims = try video.check(tensor, argument: "queries", trailing: [nil, 3], meaning: "Q, 3")
            switch try checkedTriples(tensor, video: video, argument: "queries", allowMissing: false) {
            case let .host(positions): source = .explicit(positions)
            case let .device(positions): source = .deviceExplicit(positions)
            }
            count = dims[0]
        }
    }

    private init(source: Source, count: Int) { self.source = source; self.count = count }

    /// The same positions with any GPU table copied to host memory, for the CPU kernels. The
    /// operations never pair a GPU table with a CPU backend (`commonDevice`), so this is a no-op
    /// in practice; it keeps the CPU kernels total.
    func onHost() throws(DNLSError) -> QueryList {
        guard case let .deviceExplicit(tensor) = source else { return self }
        return QueryList(source: .explicit(try tensor.hostElements()), count: count)
    }

    @inline(__always)
    func position(batch b: Int, _ i: Int) -> Position {
        switch source {
        case let .grid(grid, start):
            return grid.position(start + i)
        case let .explicit(scalars):
            let o = (b * count + i) * 3
            return Position(t: Int(scalars[o]), h: Int(scalars[o + 1]), w: Int(scalars[o + 2]))
        case .deviceExplicit:
            preconditionFailure("GPU query tables reach the CPU kernels only through onHost()")
        }
    }
}

/// Checks `(t, h, w)` triples against the video; `(−1, −1, −1)` marks "no neighbour" when allowed.
func checkPositions(_ triples: [Int32], video: VideoShape, argument: String, allowMissing: Bool) throws(DNLSError) {
    let T = Int32(video.frames), H = Int32(video.height), W = Int32(video.width)
    var o = 0
    while o < triples.count {
        let t = triples[o], h = triples[o + 1], w = triples[o + 2]
        let inside = t >= 0 && t < T && h >= 0 && h < H && w >= 0 && w < W
        if !inside && !(allowMissing && t == -1 && h == -1 && w == -1) {
            throw positionError(t, h, w, entry: o / 3, video: video, argument: argument, allowMissing: allowMissing)
        }
        o += 3
    }
}

/// The error for the first bad triple, `(t, h, w)` at flat entry `entry`: one text for the host
/// check and the GPU check, so the device a tensor lives on never changes what a caller sees.
func positionError(_ t: Int32, _ h: Int32, _ w: Int32, entry: Int, video: VideoShape, argument: String,
                   allowMissing: Bool) -> DNLSError {
    let T = Int32(video.frames), H = Int32(video.height), W = Int32(video.width)
    return .outOfRange(
        argument: argument, value: "(\(t), \(h), \(w)) at entry \(entry)",
        valid: "the video [0, \(T)) × [0, \(H)) × [0, \(W))" + (allowMissing ? " or the marker (−1, −1, −1)" : ""))
}

/// Validated `(t, h, w)` triples, where the caller's tensor lives.
enum CheckedTriples: Sendable {
    /// The triples of a host tensor.
    case host([Int32])
    /// A GPU tensor, checked on its device and never copied.
    case device(Tensor<Int32>)
}

/// Checks an index or position tensor against the video where it lives: a host tensor on the
/// host, a GPU tensor by its device's check kernel, queued on the call's stream (which
/// waits for the first bad entry's 24 bytes in eager checking, and records it on the device in
/// deferred checking). Either way the first bad entry in row-major order gives the same error.
func checkedTriples(_ tensor: Tensor<Int32>, video: VideoShape, argument: String, allowMissing: Bool)
    throws(DNLSError) -> CheckedTriples
{
    guard case let .cuda(ordinal) = tensor.device else {
        let triples = try tensor.hostElements()
        try checkPositions(triples, video: video, argument: argument, allowMissing: allowMissing)
        return .host(triples)
    }
    if !SearchedTables.trusted {
        try gpuValidation(ordinal: ordinal).checkTriples(tensor, video: video, argument: argument, allowMissing: allowMissing)
    }
    return .device(tensor)
}

/// Whether the index tables of the calls in scope come from the library's own search of the same
/// video, just before: valid by construction, so a GPU does not check them again (an eager check
/// makes the host wait for the device). Set only by the library's pipelines (the denoisers) around
/// their batches, never around a caller's tensors.
enum SearchedTables {
    @TaskLocal static var trusted = false
}

/// Where each patch `(b, q, m)` of a patch tensor `(B, Q, K, C, ps, ps)` sits in the video.
struct PatchSites: Sendable {
    enum Source: Sendable {
        /// Neighbour indices `(B, Q, K, 3)`; `t == −1` marks an empty slot (zero patch).
        case neighbours([Int32])
        /// The same, left on the GPU: the GPU backend reads the caller's tensor in place.
        case deviceNeighbours(Tensor<Int32>)
        /// Grid queries `start ..< start + queries`, one patch each (K = 1).
        case grid(QueryGrid, start: Int)
    }
    let source: Source
    let queries: Int
    let k: Int

    init(neighbours triples: [Int32], queries: Int, k: Int) {
        source = .neighbours(triples); self.queries = queries; self.k = k
    }

    init(grid: QueryGrid, batch: Range<Int>) {
        source = .grid(grid, start: batch.lowerBound); queries = batch.count; k = 1
    }

    init(source: Source, queries: Int, k: Int) {
        self.source = source; self.queries = queries; self.k = k
    }

    /// One site per query, at the query positions.
    init(positions queries: QueryList) {
        switch queries.source {
        case let .grid(grid, start): self.init(grid: grid, batch: start..<start + queries.count)
        case let .explicit(triples): self.init(neighbours: triples, queries: queries.count, k: 1)
        case let .deviceExplicit(tensor): self.init(source: .deviceNeighbours(tensor), queries: queries.count, k: 1)
        }
    }

    /// The same sites with any GPU table copied to host memory, for the CPU kernels (a no-op in
    /// practice: `commonDevice` never pairs a GPU table with a CPU backend).
    func onHost() throws(DNLSError) -> PatchSites {
        guard case let .deviceNeighbours(tensor) = source else { return self }
        return PatchSites(neighbours: try tensor.hostElements(), queries: queries, k: k)
    }

    /// True when every batch item shares the sites (grid sites).
    var isShared: Bool {
        if case .grid = source { return true }
        return false
    }

    /// The site triples in host memory: `(B, Q, K, 3)`, or `(Q, 1, 3)` when shared.
    func hostTriples() -> [Int32] {
        switch source {
        case let .neighbours(triples): return triples
        case let .grid(grid, start): return gridPositions(grid, start: start, count: queries)
        case .deviceNeighbours: preconditionFailure("GPU site tables reach the CPU kernels only through onHost()")
        }
    }

    /// Position of patch `m` of query `q` in batch item `b`; `t == −1` when the slot is empty.
    @inline(__always)
    func site(_ b: Int, _ q: Int, _ m: Int) -> Position {
        switch source {
        case let .neighbours(triples):
            let o = ((b * queries + q) * k + m) * 3
            return Position(t: Int(triples[o]), h: Int(triples[o + 1]), w: Int(triples[o + 2]))
        case let .grid(grid, start):
            return grid.position(start + q)
        case .deviceNeighbours:
            preconditionFailure("GPU site tables reach the CPU kernels only through onHost()")
        }
    }
}

/// Positions of grid queries `start ..< start + count` as flat `(t, h, w)` triples.
func gridPositions(_ grid: QueryGrid, start: Int, count: Int) -> [Int32] {
    var triples = [Int32]()
    triples.reserveCapacity(3 * count)
    for q in start..<start + count {
        let p = grid.position(q)
        triples += [Int32(p.t), Int32(p.h), Int32(p.w)]
    }
    return triples
}
