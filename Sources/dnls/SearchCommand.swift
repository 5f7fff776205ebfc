import ArgumentParser
import DNLS

/// `dnls search`: nearest-neighbour fields of a video, written as `.npy` files.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Find the K nearest patches of every query and write distances and indices as .npy.",
        discussion: """
            Reads a video (.npy, (T, C, H, W) or (B, T, C, H, W), float32 or float64), an optional \
            key video of the same shape and optional flows ((T, 2, H, W) or (B, T, 2, H, W)). \
            Writes distances.npy (float32, (Q, K) or (B, Q, K)) and indices.npy (int32, (…, K, 3) \
            of (t, h, w)), queries numbered in raster order over the whole video with the query \
            stride; empty slots hold +inf (L2) or -inf (inner product) and (-1, -1, -1).
            """)

    @Argument(help: "The query video (.npy).")
    var video: String

    @Option(help: "The video searched (.npy); default: the query video.")
    var keys: String?

    @Option(help: "Forward flow (.npy).")
    var forwardFlow: String?

    @Option(help: "Backward flow (.npy).")
    var backwardFlow: String?

    /// The defaults of the search options here.
    enum SearchDefaults: SearchOptionDefaults {
        static var patchSize: Int { 7 }
        static var window: Int { 21 }
        static var temporalRadius: Int { 0 }
        static var queryStrideDefault: String { "1" }
    }

    @OptionGroup var searchOptions: SearchOptions<SearchDefaults>

    @Option(help: "Spacing of candidates inside the window.")
    var windowStride = 1

    @Option(help: "Neighbours per query, or `all` for the whole window in enumeration order.")
    var k = "10"

    @Option(help: "Spacing of patch samples.")
    var dilation = 1

    @Option(help: "Border: reflect or zero.")
    var border = "reflect"

    @Option(help: "Anchor: center or top-left.")
    var anchor = "center"

    @Option(help: "Metric: l2 or inner-product.")
    var metric = "l2"

    @Option(help: "Leading channels used in the distance (default all).")
    var channels: Int?

    @OptionGroup var placement: DeviceOptions

    @Option(help: "Folder for distances.npy and indices.npy.")
    var output = "dnls-out"

    /// How library errors read here, and which of them are about input files.
    var flagNames: FlagNames {
        var names = FlagNames.search.merging(["k": "--k", "video": video]) { $1 }
        if let keys { names["keys"] = keys }
        return FlagNames(names: names, inputs: ["video", "keys", "flows.forward", "flows.backward"])
    }

    func run() throws {
        try reportingErrors(flagNames) { try searchVideo() }
    }

    /// Everything is read and checked before the search, and the output folder is made writable,
    /// so that a failure writes nothing.
    private func searchVideo() throws {
        try requireFlowPair(forward: forwardFlow, backward: backwardFlow)
        let search = try patchSearch()
        let target = try placement.resolve(for: Self.self)
        let query = try NPY.read(video).floatTensor()
        guard query.rank == 4 || query.rank == 5 else {
            throw DNLSError.shapeMismatch(argument: video, expected: "(T, C, H, W) or (B, T, C, H, W)", actual: query.shape)
        }
        try requireFiniteVideo(query, path: video)
        let keyVideo = try keys.map { path throws in
            let keys = try NPY.read(path).floatTensor()
            try requireFiniteVideo(keys, path: path)
            return try keys.to(target)
        }
        let flows = Flows(forward: try forwardFlow.map { path throws in try NPY.read(path).floatTensor().to(target) },
                          backward: try backwardFlow.map { path throws in try NPY.read(path).floatTensor().to(target) })
        let grid = try searchOptions.queryGrid(videoShape: query.shape)
        try checkOutputFolder(output)
        let frames = query.shape[query.rank - 4], channels = search.channels ?? query.shape[query.rank - 3]
        noteSearchCost(command: "search", queries: grid.count * (query.rank == 5 ? query.shape[0] : 1),
                       candidates: search.window.candidateCount(videoFrames: frames), channels: channels,
                       patchSize: search.geometry.patchSize, device: target)
        let result = try search(query.to(target), keys: keyVideo, queries: .grid(grid), flows: flows)
        try prepareOutputFolder(output)
        try NPY.write(result.distances.to(.cpu), to: output + "/distances.npy")
        try NPY.write(result.indices.to(.cpu), to: output + "/indices.npy")
        print("searched \(grid.count) queries of \(describe(query.shape)) on \(target): "
            + "wrote \(output)/distances.npy \(result.distances.shape) and \(output)/indices.npy \(result.indices.shape)")
    }

    /// The search the options describe; a `ValidationError` for a word `--border`, `--anchor`,
    /// `--metric` or `--k` does not accept.
    func patchSearch() throws -> PatchSearch {
        try searchOptions.patchSearch(windowStride: windowStride, k: k, dilation: dilation, border: border,
                                      anchor: anchor, metric: metric, channels: channels)
    }
}
