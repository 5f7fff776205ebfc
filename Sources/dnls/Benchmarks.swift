import DNLS

/// The operations `dnls bench` times, in the order they run.
enum BenchOp: String, CaseIterable {
    case searchForward = "search-fwd"
    case searchBackward = "search-bwd"
    case scatter
    case gather
    case wpsum
    case iunfold
    case ifold
}

extension Implementation {
    /// The name used on the command line and in the tables.
    var name: String {
        switch self {
        case .reference: return "reference"
        case .fast: return "fast"
        case .automatic: return "cuda"  // dnls bench uses .automatic only for GPU tensors
        }
    }
}

/// What one run of a case computes or moves, for the throughput column.
enum Work {
    /// Floating-point operations.
    case flops(Double)
    /// Bytes read and written.
    case bytes(Double)

    /// Throughput at `milliseconds` per run: value and unit.
    func rate(milliseconds: Double) -> (value: Double, unit: String) {
        switch self {
        case let .flops(n): return (n / (milliseconds * 1e6), "GFLOP/s")
        case let .bytes(n): return (n / (milliseconds * 1e6), "GB/s")
        }
    }

    var amount: Double {
        switch self {
        case let .flops(n), let .bytes(n): return n
        }
    }
}

/// The benchmark problem shared by every case: one random video, the grid of all its queries and
/// the search whose neighbours the patch operations use.
///
/// T5 C3 64×64 by default (`--frames`, `--channels`, `--height`, `--width`), ps 7, ws 21, wt 2,
/// K 10, reflect border, zero flow, every pixel a query.
final class BenchProblem {
    let frames: Int, channels: Int, height: Int, width: Int
    let search = PatchSearch(geometry: PatchGeometry(patchSize: 7), window: SearchWindow(size: 21, temporalRadius: 2), k: 10)
    let video: Tensor<Float>
    let grid: QueryGrid
    let seed: UInt64
    /// Where the inputs live and the operations run.
    let device: Device
    /// Neighbours of every query, from the full-size search (set by the fast search forward case,
    /// or computed on first use).
    var neighbours: Tensor<Int32>?
    /// Called before work that is not timed but takes a while.
    let announce: (String) -> Void

    init(seed: UInt64, device: Device, frames: Int = 5, channels: Int = 3, height: Int = 64, width: Int = 64,
         announce: @escaping (String) -> Void) throws {
        self.frames = frames; self.channels = channels; self.height = height; self.width = width
        self.seed = seed
        self.device = device
        self.announce = announce
        video = try randomTensor([frames, channels, height, width], seed: seed).to(device)
        grid = try QueryGrid(region: .whole(frames: frames, height: height, width: width))
    }

    var geometry: PatchGeometry { search.geometry }
    var patchSize: Int { geometry.patchSize }
    var k: Int { search.k ?? search.window.candidateCount(videoFrames: frames) }
    var queries: Int { grid.count }
    var videoCount: Int { frames * channels * height * width }
    /// Float32 entries of one patch.
    var patchEntries: Int { channels * patchSize * patchSize }
    /// Candidates scored per query (frames × ws², invalid ones included).
    var candidatesPerQuery: Int { search.window.candidateCount(videoFrames: frames) }

    /// A fresh random tensor whose contents depend only on the seed and `stream`.
    func random(_ shape: [Int], stream: UInt64, in range: Range<Float> = 0..<1) throws -> Tensor<Float> {
        try randomTensor(shape, seed: seed &* 0x1000 &+ stream, in: range).to(device)
    }

    /// The search's neighbour indices `(Q, K, 3)` over all queries.
    func neighbourIndices() throws -> Tensor<Int32> {
        if let neighbours { return neighbours }
        announce("searching neighbours for the patch operations (untimed)")
        let result = try search(video, queries: .grid(grid), implementation: .automatic)
        neighbours = result.indices
        return result.indices
    }

    /// The reference search's sample: 8 batches of Q/512 queries spread evenly over the grid (one
    /// at the start of each eighth), 1/64 of the queries in all, every frame and both borders
    /// included. (The reference scores about 20 million candidate pixels a second, so the full
    /// search would take minutes per run.)
    var sampleBatches: [Range<Int>] {
        let length = Swift.max(1, queries / 512)
        return (0..<8).map { i in
            let start = i * queries / 8
            return start..<Swift.min(start + length, queries)
        }
    }

    var searchConfig: String {
        let w = search.window
        return "T\(frames) C\(channels) \(height)×\(width) ps\(patchSize) ws\(w.size) wt\(w.temporalRadius) K\(k) Q\(queries)"
    }
    var patchConfig: String { "T\(frames) C\(channels) \(height)×\(width) ps\(patchSize) K\(k) Q\(queries)" }
    var gridConfig: String { "T\(frames) C\(channels) \(height)×\(width) ps\(patchSize) stride\(grid.stride) Q\(queries)" }
}

extension BenchProblem {
    /// Keeps a result alive and waits for the device, so a timed run includes all its GPU work.
    func finish<T>(_ value: T) throws {
        blackHole(value)
        try device.synchronize()
    }
}

/// One timed case: an operation on one backend.
struct BenchCase {
    let op: BenchOp
    let implementation: Implementation
    let config: String
    /// The work of one full-size run.
    let work: Work
    /// Fraction of the full-size problem one run does; times are divided by it.
    var fraction = 1.0
    /// Builds the inputs (untimed) and returns the body to time.
    let prepare: () throws -> () throws -> Void
}

/// The cases for `ops` on `implementations`, in run order (per operation: reference, then fast).
///
/// The reference search forward runs on ``BenchProblem/sampleBatches`` unless `fullReference`.
func benchCases(_ p: BenchProblem, ops: [BenchOp], implementations: [Implementation], fullReference: Bool) -> [BenchCase] {
    let Q = Double(p.queries), K = Double(p.k), entries = Double(p.patchEntries), video = Double(p.videoCount)
    let plane = Double(p.frames * p.height * p.width)
    let indexBytes = 12 * Q * K  // (Q, K, 3) Int32
    var cases: [BenchCase] = []
    for op in BenchOp.allCases where ops.contains(op) {
        for impl in implementations {
            switch op {
            case .searchForward:
                let sampled = impl == .reference && !fullReference
                let batches: [Range<Int>?] = sampled ? p.sampleBatches : [nil]
                let measured = batches.reduce(0) { $0 + ($1?.count ?? p.queries) }
                cases.append(BenchCase(
                    op: op, implementation: impl, config: p.searchConfig,
                    work: .flops(3 * entries * Q * Double(p.candidatesPerQuery)),
                    fraction: Double(measured) / Q,
                    prepare: {
                        {
                            for batch in batches {
                                let result = try p.search(p.video, queries: .grid(p.grid, batch: batch), implementation: impl)
                                if batch == nil { p.neighbours = result.indices }
                                try p.finish(result)
                            }
                        }
                    }))
            case .searchBackward:
                cases.append(BenchCase(
                    op: op, implementation: impl, config: p.searchConfig,
                    work: .flops(4 * entries * Q * K),
                    prepare: {
                        let indices = try p.neighbourIndices()
                        let gradient = try p.random([p.queries, p.k], stream: 1, in: -1..<1)
                        return {
                            try p.finish(try p.search.backward(distanceGradient: gradient, indices: indices, video: p.video,
                                                            queries: .grid(p.grid), implementation: impl))
                        }
                    }))
            case .scatter:
                cases.append(BenchCase(
                    op: op, implementation: impl, config: p.patchConfig,
                    work: .bytes(4 * video + indexBytes + 4 * Q * K * entries),
                    prepare: {
                        let indices = try p.neighbourIndices()
                        let scatter = PatchScatter(geometry: p.geometry)
                        return { try p.finish(try scatter(p.video, indices: indices, implementation: impl)) }
                    }))
            case .gather:
                cases.append(BenchCase(
                    op: op, implementation: impl, config: p.patchConfig,
                    work: .bytes(4 * Q * K * entries + 4 * Q * K + indexBytes + 4 * video + 4 * plane),
                    prepare: {
                        let indices = try p.neighbourIndices()
                        let patches = try p.random([p.queries, p.k, p.channels, p.patchSize, p.patchSize], stream: 2)
                        let weights = try p.random([p.queries, p.k], stream: 3)
                        let gather = PatchGather(geometry: p.geometry)
                        return {
                            try p.finish(try gather(patches, weights: weights, indices: indices, videoShape: p.video.shape,
                                                 implementation: impl))
                        }
                    }))
            case .wpsum:
                cases.append(BenchCase(
                    op: op, implementation: impl, config: p.patchConfig,
                    work: .bytes(4 * video + 4 * Q * K + indexBytes + 4 * Q * entries),
                    prepare: {
                        let indices = try p.neighbourIndices()
                        let weights = try p.random([p.queries, p.k], stream: 3)
                        let wpsum = WeightedPatchSum(geometry: p.geometry)
                        return { try p.finish(try wpsum(p.video, weights: weights, indices: indices, implementation: impl)) }
                    }))
            case .iunfold:
                cases.append(BenchCase(
                    op: op, implementation: impl, config: p.gridConfig,
                    work: .bytes(4 * video + 4 * Q * entries),
                    prepare: {
                        let unfold = PatchUnfold(geometry: p.geometry)
                        return { try p.finish(try unfold(p.video, grid: p.grid, implementation: impl)) }
                    }))
            case .ifold:
                cases.append(BenchCase(
                    op: op, implementation: impl, config: p.gridConfig,
                    work: .bytes(4 * Q * entries + 4 * video),
                    prepare: {
                        let patches = try p.random([p.queries, 1, p.channels, p.patchSize, p.patchSize], stream: 4)
                        let fold = PatchFold(geometry: p.geometry)
                        return {
                            try p.finish(try fold(patches, grid: p.grid, videoShape: p.video.shape, implementation: impl))
                        }
                    }))
            }
        }
    }
    return cases
}

/// The timing of one case, scaled to the full-size problem.
struct BenchResult {
    let benchCase: BenchCase
    let timing: Timing

    /// Milliseconds of a full-size run (a sampled run divided by its fraction).
    var median: Double { timing.median / benchCase.fraction }
    var min: Double { timing.min / benchCase.fraction }
    var rate: (value: Double, unit: String) { benchCase.work.rate(milliseconds: median) }
}
