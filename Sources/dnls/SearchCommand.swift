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

    func run() throws {
        let search = try patchSearch()
        let target = try placement.resolve(for: Self.self)
        let query = try NPY.read(video).floatTensor()
        let keyVideo = try keys.map { path throws in try NPY.read(path).floatTensor().to(target) }
        let flows = Flows(forward: try forwardFlow.map { path throws in try NPY.read(path).floatTensor().to(target) },
                          backward: try backwardFlow.map { path throws in try NPY.read(path).floatTensor().to(target) })
        guard query.rank == 4 || query.rank == 5 else {
            throw ValidationError("\(video) has shape \(query.shape); expected (T, C, H, W) or (B, T, C, H, W)")
        }
        let grid = try searchOptions.queryGrid(videoShape: query.shape)
        let result = try search(query.to(target), keys: keyVideo, queries: .grid(grid), flows: flows)
        makeDirectory(output)
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
