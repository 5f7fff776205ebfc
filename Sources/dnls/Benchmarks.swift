import DNLS

/// The operations `dnls bench` times, in the order they run: each forward, then its backward.
enum BenchOp: String, CaseIterable {
    case searchForward = "search-fwd"
    case searchBackward = "search-bwd"
    case scatter
    case scatterBackward = "scatter-bwd"
    case gather
    case gatherBackward = "gather-bwd"
    case wpsum
    case wpsumBackward = "wpsum-bwd"
    case iunfold
    case iunfoldBackward = "iunfold-bwd"
    case ifold
    case ifoldBackward = "ifold-bwd"

    /// What `dnls bench --device cpu` runs by default: the operations of the CPU table in
    /// BENCHMARKS.md (search backward, then the forwards), so that table stays reproducible.
    static let cpuDefault: [BenchOp] = [.searchForward, .searchBackward, .scatter, .gather, .wpsum, .iunfold, .ifold]
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

/// The benchmark problem shared by every case of one configuration: one random video, its query
/// grid and the search whose neighbours the patch operations use.
///
/// T5 C3 64×64 by default (`--frames`, `--channels`, `--height`, `--width`), ps 7, ws 21, wt 2,
/// K 10, reflect border, zero flow, every pixel a query (or every `stride`-th row and column).
final class BenchProblem {
    let frames: Int, channels: Int, height: Int, width: Int
    /// The configuration's name (`nil` for the custom one).
    let name: String?
    /// The search of every configuration: ps 7, ws 21, wt 2, K 10.
    static let search = PatchSearch(geometry: PatchGeometry(patchSize: 7), window: SearchWindow(size: 21, temporalRadius: 2), k: 10)
    let search = BenchProblem.search
    let video: Tensor<Float>
    let grid: QueryGrid
    /// The flow the search follows (`--flow`) and its tensors.
    let flow: BenchFlow
    let flows: Flows<Float>
    let seed: UInt64
    /// Where the inputs live and the operations run.
    let device: Device
    /// Neighbours of every query, from the full-size search (set by the fast search forward case,
    /// or computed on first use).
    var neighbours: Tensor<Int32>?
    /// Called before work that is not timed but takes a while.
    let announce: (String) -> Void

    init(seed: UInt64, device: Device, frames: Int = 5, channels: Int = 3, height: Int = 64, width: Int = 64,
         stride: Int = 1, name: String? = nil, flow: BenchFlow = .none, announce: @escaping (String) -> Void) throws {
        self.frames = frames; self.channels = channels; self.height = height; self.width = width
        self.name = name
        self.seed = seed
        self.device = device
        self.announce = announce
        video = try randomTensor([frames, channels, height, width], seed: seed).to(device)
        grid = try QueryGrid(region: .whole(frames: frames, height: height, width: width), stride: stride)
        self.flow = flow
        flows = try flow.flows(frames: frames, height: height, width: width, seed: seed, device: device)
    }

    convenience init(seed: UInt64, device: Device, config c: BenchConfig, flow: BenchFlow = .none,
                     announce: @escaping (String) -> Void) throws {
        try self.init(seed: seed, device: device, frames: c.frames, channels: c.channels, height: c.height, width: c.width,
                      stride: c.stride, name: c.name, flow: flow, announce: announce)
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
    ///
    /// On a GPU, tensors above 4 Mi elements repeat a random block of a prime number of elements
    /// (made on the host, so gigabyte inputs take seconds, not minutes); the CPU's inputs are drawn
    /// element by element as they always were, so its table in BENCHMARKS.md stays reproducible.
    func random(_ shape: [Int], stream: UInt64, in range: Range<Float> = 0..<1) throws -> Tensor<Float> {
        try randomTensor(shape, seed: seed &* 0x1000 &+ stream, in: range,
                         repeatingBlock: device == .cpu ? nil : 4_194_301).to(device)
    }

    /// The search's neighbour indices `(Q, K, 3)` over all queries.
    func neighbourIndices() throws -> Tensor<Int32> {
        if let neighbours { return neighbours }
        announce("searching neighbours for the patch operations (untimed)")
        let result = try search(video, queries: .grid(grid), flows: flows, implementation: .automatic)
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

    /// "S1 " for a named configuration, nothing for the custom one.
    private var prefix: String { name.map { $0 + " " } ?? "" }
    /// " stride4" for a strided query grid, nothing for all queries.
    private var strideNote: String { grid.stride == 1 ? "" : " stride\(grid.stride)" }
    private var dims: String { "T\(frames) C\(channels) \(height)×\(width) ps\(patchSize)" }

    var searchConfig: String {
        let w = search.window
        return prefix + dims + " ws\(w.size) wt\(w.temporalRadius) K\(k)" + strideNote + " Q\(queries)"
            + (flow == .none ? "" : " flow \(flow.rawValue)")
    }
    var patchConfig: String { prefix + dims + " K\(k)" + strideNote + " Q\(queries)" }
    var gridConfig: String { prefix + dims + " stride\(grid.stride) Q\(queries)" }
}

extension BenchProblem {
    /// Keeps a result alive until the timed body ends, so its work cannot be dropped. (CPU
    /// operations return when done; on a GPU the timer waits for the device.)
    func finish<T>(_ value: T) {
        blackHole(value)
    }
}

/// A timed body: one call of the operation. It throws only ``DNLSError`` so that the device's
/// timer (``Device/elapsedMilliseconds(_:)``) can wrap it.
typealias BenchBody = () throws(DNLSError) -> Void

/// One timed case: an operation on one backend.
struct BenchCase {
    let op: BenchOp
    let implementation: Implementation
    let config: String
    /// The work of one full-size run.
    let work: Work
    /// Fraction of the full-size problem one run does; times are divided by it.
    var fraction = 1.0
    /// Bytes of the case's inputs (the video and neighbours included) and of one run's outputs.
    var inputBytes = 0.0, outputBytes = 0.0
    /// Builds the inputs (untimed) and returns the body to time.
    let prepare: () throws -> BenchBody
}

/// The cases for `ops` on `implementations`, in run order (per operation: reference, then fast).
///
/// The reference search forward runs on ``BenchProblem/sampleBatches`` unless `fullReference`.
func benchCases(_ p: BenchProblem, ops: [BenchOp], implementations: [Implementation], fullReference: Bool) -> [BenchCase] {
    let Q = Double(p.queries), K = Double(p.k), entries = Double(p.patchEntries), video = Double(p.videoCount)
    let plane = Double(p.frames * p.height * p.width)
    let indexBytes = 12 * Q * K  // (Q, K, 3) Int32
    // Float32 bytes: the video, one weight per neighbour, all neighbours' patches, one patch per query.
    let V = 4 * video, D = 4 * Q * K, P = 4 * Q * K * entries, U = 4 * Q * entries, N = indexBytes, W1 = 4 * plane
    let shape = p.video.shape
    var cases: [BenchCase] = []
    for op in BenchOp.allCases where ops.contains(op) {
        for impl in implementations {
            func add(_ config: String, _ work: Work, in inputs: Double, out outputs: Double, fraction: Double = 1,
                     _ prepare: @escaping () throws -> BenchBody) {
                cases.append(BenchCase(op: op, implementation: impl, config: config, work: work, fraction: fraction,
                                       inputBytes: inputs, outputBytes: outputs, prepare: prepare))
            }
            switch op {
            case .searchForward:
                let sampled = impl == .reference && !fullReference
                let batches: [Range<Int>?] = sampled ? p.sampleBatches : [nil]
                let measured = batches.reduce(0) { $0 + ($1?.count ?? p.queries) }
                add(p.searchConfig, .flops(3 * entries * Q * Double(p.candidatesPerQuery)), in: V, out: D + N,
                    fraction: Double(measured) / Q) {
                    { () throws(DNLSError) in
                        for batch in batches {
                            let result = try p.search(p.video, queries: .grid(p.grid, batch: batch), flows: p.flows,
                                                      implementation: impl)
                            if batch == nil { p.neighbours = result.indices }
                            p.finish(result)
                        }
                    }
                }
            case .searchBackward:
                add(p.searchConfig, .flops(4 * entries * Q * K), in: V + N + D, out: V) {
                    let indices = try p.neighbourIndices()
                    let gradient = try p.random([p.queries, p.k], stream: 1, in: -1..<1)
                    return { () throws(DNLSError) in
                        p.finish(try p.search.backward(distanceGradient: gradient, indices: indices, video: p.video,
                                                       queries: .grid(p.grid), implementation: impl))
                    }
                }
            case .scatter:
                add(p.patchConfig, .bytes(V + N + P), in: V + N, out: P) {
                    let indices = try p.neighbourIndices()
                    let scatter = PatchScatter(geometry: p.geometry)
                    return { () throws(DNLSError) in p.finish(try scatter(p.video, indices: indices, implementation: impl)) }
                }
            case .scatterBackward:
                add(p.patchConfig, .bytes(P + N + V), in: V + N + P, out: V) {
                    let indices = try p.neighbourIndices()
                    let gradient = try p.random([p.queries, p.k, p.channels, p.patchSize, p.patchSize], stream: 5, in: -1..<1)
                    let scatter = PatchScatter(geometry: p.geometry)
                    return { () throws(DNLSError) in
                        p.finish(try scatter.backward(patchGradient: gradient, indices: indices, videoShape: shape,
                                                      implementation: impl))
                    }
                }
            case .gather:
                add(p.patchConfig, .bytes(P + D + N + V + W1), in: V + N + P + D, out: V + W1) {
                    let indices = try p.neighbourIndices()
                    let patches = try p.random([p.queries, p.k, p.channels, p.patchSize, p.patchSize], stream: 2)
                    let weights = try p.random([p.queries, p.k], stream: 3)
                    let gather = PatchGather(geometry: p.geometry)
                    return { () throws(DNLSError) in
                        p.finish(try gather(patches, weights: weights, indices: indices, videoShape: shape,
                                            implementation: impl))
                    }
                }
            case .gatherBackward:
                add(p.patchConfig, .bytes(V + W1 + P + D + N + P + D), in: V + N + V + W1 + P + D, out: P + D) {
                    let indices = try p.neighbourIndices()
                    let patches = try p.random([p.queries, p.k, p.channels, p.patchSize, p.patchSize], stream: 2)
                    let weights = try p.random([p.queries, p.k], stream: 3)
                    let videoGradient = try p.random(shape, stream: 6, in: -1..<1)
                    let sumGradient = try p.random([p.frames, 1, p.height, p.width], stream: 7, in: -1..<1)
                    let gather = PatchGather(geometry: p.geometry)
                    return { () throws(DNLSError) in
                        p.finish(try gather.backward(videoGradient: videoGradient, weightSumGradient: sumGradient,
                                                     patches: patches, weights: weights, indices: indices,
                                                     implementation: impl))
                    }
                }
            case .wpsum:
                add(p.patchConfig, .bytes(V + D + N + U), in: V + N + D, out: U) {
                    let indices = try p.neighbourIndices()
                    let weights = try p.random([p.queries, p.k], stream: 3)
                    let wpsum = WeightedPatchSum(geometry: p.geometry)
                    return { () throws(DNLSError) in p.finish(try wpsum(p.video, weights: weights, indices: indices, implementation: impl)) }
                }
            case .wpsumBackward:
                add(p.patchConfig, .bytes(U + V + D + N + V + D), in: V + N + D + U, out: V + D) {
                    let indices = try p.neighbourIndices()
                    let weights = try p.random([p.queries, p.k], stream: 3)
                    let gradient = try p.random([p.queries, 1, p.channels, p.patchSize, p.patchSize], stream: 8, in: -1..<1)
                    let wpsum = WeightedPatchSum(geometry: p.geometry)
                    return { () throws(DNLSError) in
                        p.finish(try wpsum.backward(outputGradient: gradient, video: p.video, weights: weights,
                                                    indices: indices, implementation: impl))
                    }
                }
            case .iunfold:
                add(p.gridConfig, .bytes(V + U), in: V, out: U) {
                    let unfold = PatchUnfold(geometry: p.geometry)
                    return { () throws(DNLSError) in p.finish(try unfold(p.video, grid: p.grid, implementation: impl)) }
                }
            case .iunfoldBackward:
                add(p.gridConfig, .bytes(U + V), in: V + U, out: V) {
                    let gradient = try p.random([p.queries, 1, p.channels, p.patchSize, p.patchSize], stream: 9, in: -1..<1)
                    let unfold = PatchUnfold(geometry: p.geometry)
                    return { () throws(DNLSError) in
                        p.finish(try unfold.backward(patchGradient: gradient, grid: p.grid, videoShape: shape,
                                                     implementation: impl))
                    }
                }
            case .ifold:
                add(p.gridConfig, .bytes(U + V), in: V + U, out: V) {
                    let patches = try p.random([p.queries, 1, p.channels, p.patchSize, p.patchSize], stream: 4)
                    let fold = PatchFold(geometry: p.geometry)
                    return { () throws(DNLSError) in p.finish(try fold(patches, grid: p.grid, videoShape: shape, implementation: impl)) }
                }
            case .ifoldBackward:
                add(p.gridConfig, .bytes(V + U), in: V + V, out: U) {
                    let gradient = try p.random(shape, stream: 10, in: -1..<1)
                    let fold = PatchFold(geometry: p.geometry)
                    return { () throws(DNLSError) in p.finish(try fold.backward(videoGradient: gradient, grid: p.grid, implementation: impl)) }
                }
            }
        }
    }
    return cases
}

/// Device memory of one run of a case, in bytes (GPU only).
struct MemoryFigures {
    /// In use before the run: the inputs (and anything else alive).
    let before: Int
    /// The most in use during the run.
    let peak: Int
    /// The run's outputs.
    let outputs: Int
    /// Where the figures come from (the memory pool or DNLS's allocation counter).
    let source: String

    /// Peak in use during the run beyond what was in use before it (outputs included).
    var extra: Int { peak - before }
    /// Peak beyond the inputs and the outputs: the operation's workspace.
    var extraBeyondOutputs: Int { peak - before - outputs }
}

/// The timing of one case, scaled to the full-size problem.
struct BenchResult {
    let benchCase: BenchCase
    let timing: Timing
    /// The configuration the case ran in (`nil` for the custom one).
    var configName: String? = nil
    /// Device memory of one extra, untimed run (GPU only).
    var memory: MemoryFigures? = nil

    /// Milliseconds of a full-size run (a sampled run divided by its fraction).
    var median: Double { timing.median / benchCase.fraction }
    var min: Double { timing.min / benchCase.fraction }
    var rate: (value: Double, unit: String) { benchCase.work.rate(milliseconds: median) }
}

/// A case that did not run, and why.
struct SkippedCase {
    let op: BenchOp
    let config: String
    let configName: String?
    let reason: String
}
