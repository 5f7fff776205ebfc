import ArgumentParser
import DNLS

/// The defaults of ``SearchOptions`` for one command: `dnls denoise` and `dnls search` share the
/// options but not all their defaults.
protocol SearchOptionDefaults {
    /// `--patch-size`.
    static var patchSize: Int { get }
    /// `--window`.
    static var window: Int { get }
    /// `--temporal-radius`.
    static var temporalRadius: Int { get }
    /// What `--query-stride` defaults to, in words (the option itself is optional).
    static var queryStrideDefault: String { get }
}

/// The search options of `dnls denoise` and `dnls search`: `--patch-size`, `--window`,
/// `--temporal-radius` and `--query-stride`, with each command's defaults from `Defaults`.
///
/// The options only one command has stay in it (`--neighbours` of `denoise`; `--k`,
/// `--window-stride`, `--dilation`, `--border`, `--anchor`, `--metric` and `--channels` of
/// `search`). The methods below are the one place where these values become the library's
/// types (``NonLocalMeans``, ``PatchGeometry``, ``SearchWindow``, ``PatchSearch``, ``QueryGrid``).
struct SearchOptions<Defaults: SearchOptionDefaults>: ParsableArguments {
    @Option(help: "Patch size.")
    var patchSize = Defaults.patchSize

    @Option(help: "Search window side.")
    var window = Defaults.window

    @Option(help: "Frames searched on each side of the query frame.")
    var temporalRadius = Defaults.temporalRadius

    @Option(help: ArgumentHelp("Spacing of the query grid (default: \(Defaults.queryStrideDefault))."))
    var queryStride: Int?

    /// The query-grid spacing where the command's default is 1.
    var strideOrOne: Int { queryStride ?? 1 }
}

extension SearchOptions {
    /// The denoiser of `dnls denoise`: these options with its own.
    func nonLocalMeans(sigma: Float, neighbours: Int, batchSize: Int, twoStep: Bool) -> NonLocalMeans {
        var nlm = NonLocalMeans(sigma: sigma)
        nlm.patchSize = patchSize
        nlm.windowSize = window
        nlm.temporalRadius = temporalRadius
        nlm.neighbours = neighbours
        nlm.queryStride = strideOrOne
        nlm.batchSize = batchSize
        nlm.twoStep = twoStep
        return nlm
    }

    /// The search of `dnls search`: these options with its own, given as on the command line.
    ///
    /// Throws a `ValidationError` naming the option for a `border`, `anchor`, `metric` or `k`
    /// that is not one of the accepted words (checked in that order).
    func patchSearch(windowStride: Int, k: String, dilation: Int, border: String, anchor: String, metric: String,
                     channels: Int?) throws -> PatchSearch {
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
        return PatchSearch(
            geometry: PatchGeometry(patchSize: patchSize, dilation: dilation, anchor: anchorValue, border: borderValue),
            window: SearchWindow(size: window, stride: windowStride, temporalRadius: temporalRadius),
            k: kValue, metric: metricValue, channels: channels)
    }

    /// The queries of `dnls search`: every `--query-stride`-th pixel of every frame of a video of
    /// `shape` (`(T, C, H, W)` or `(B, T, C, H, W)`).
    func queryGrid(videoShape shape: [Int]) throws -> QueryGrid {
        let dims = Array(shape.suffix(4))
        return try QueryGrid(region: .whole(frames: dims[0], height: dims[2], width: dims[3]), stride: strideOrOne)
    }
}
