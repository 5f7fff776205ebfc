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

    @Option(help: "Patch size.")
    var patchSize = 7

    @Option(help: "Search window side.")
    var window = 21

    @Option(help: "Spacing of candidates inside the window.")
    var windowStride = 1

    @Option(help: "Frames searched on each side of the query frame.")
    var temporalRadius = 0

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

    @Option(help: "Spacing of the query grid.")
    var queryStride = 1

    @OptionGroup var placement: DeviceOptions

    @Option(help: "Folder for distances.npy and indices.npy.")
    var output = "dnls-out"

    func run() throws {
        guard let borderValue = ["reflect": Border.reflect, "zero": .zero][border] else {
            throw ValidationError("--border must be reflect or zero")
        }
        guard let anchorValue = ["center": PatchAnchor.center, "top-left": .topLeft][anchor] else {
            throw ValidationError("--anchor must be center or top-left")
        }
        guard let metricValue = ["l2": SearchMetric.l2, "inner-product": .innerProduct][metric] else {
            throw ValidationError("--metric must be l2 or inner-product")
        }
        let kValue: Int?
        if k == "all" { kValue = nil } else if let n = Int(k) { kValue = n } else {
            throw ValidationError("--k must be a number or all")
        }
        let target = try placement.resolve()
        let query = try NPY.read(video).floatTensor()
        let keyVideo = try keys.map { path throws in try NPY.read(path).floatTensor().to(target) }
        let flows = Flows(forward: try forwardFlow.map { path throws in try NPY.read(path).floatTensor().to(target) },
                          backward: try backwardFlow.map { path throws in try NPY.read(path).floatTensor().to(target) })
        guard query.rank == 4 || query.rank == 5 else {
            throw ValidationError("\(video) has shape \(query.shape); expected (T, C, H, W) or (B, T, C, H, W)")
        }
        let dims = Array(query.shape.suffix(4))
        let grid = try QueryGrid(region: .whole(frames: dims[0], height: dims[2], width: dims[3]), stride: queryStride)
        let search = PatchSearch(
            geometry: PatchGeometry(patchSize: patchSize, dilation: dilation, anchor: anchorValue, border: borderValue),
            window: SearchWindow(size: window, stride: windowStride, temporalRadius: temporalRadius),
            k: kValue, metric: metricValue, channels: channels)
        let result = try search(query.to(target), keys: keyVideo, queries: .grid(grid), flows: flows)
        makeDirectory(output)
        try NPY.write(result.distances.to(.cpu), to: output + "/distances.npy")
        try NPY.write(result.indices.to(.cpu), to: output + "/indices.npy")
        print("searched \(grid.count) queries of \(describe(query.shape)) on \(target): "
            + "wrote \(output)/distances.npy \(result.distances.shape) and \(output)/indices.npy \(result.indices.shape)")
    }
}
