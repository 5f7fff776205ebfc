/// The video sizes `dnls bench` runs: named configurations (S1–S4, on which BENCHMARKS.md
/// compares the GPU backend with the original dnls and stnls, and the scale cases S512, HD8, UHD1
/// and C64) and the custom one of `--frames/--channels/--height/--width/--stride`.
///
/// Every configuration uses ps 7, ws 21, wt 2, K 10, reflect border and zero flow; `stride` is the
/// query grid's stride (`stride0` of the original dnls).
struct BenchConfig: Equatable {
    /// Name on the command line and in the tables (`nil` for the custom configuration, whose rows
    /// keep the plain shape so the CPU table of BENCHMARKS.md reads as before).
    var name: String?
    var frames: Int, channels: Int, height: Int, width: Int
    var stride = 1
    /// What the configuration stands for.
    var summary: String

    /// The named configurations, in the order `--config all` runs them.
    static let named: [BenchConfig] = [
        BenchConfig(name: "S1", frames: 5, channels: 3, height: 128, width: 128,
                    summary: "comparison: T5 C3 128×128, all queries"),
        BenchConfig(name: "S2", frames: 5, channels: 3, height: 256, width: 256,
                    summary: "comparison: T5 C3 256×256, all queries (the original dnls and stnls cannot run it)"),
        BenchConfig(name: "S3", frames: 5, channels: 16, height: 256, width: 256, stride: 4,
                    summary: "comparison: T5 C16 256×256, query stride 4"),
        BenchConfig(name: "S4", frames: 5, channels: 3, height: 512, width: 512, stride: 4,
                    summary: "comparison: T5 C3 512×512, query stride 4"),
        BenchConfig(name: "S512", frames: 5, channels: 3, height: 512, width: 512,
                    summary: "scale: T5 C3 512×512, all queries"),
        BenchConfig(name: "HD8", frames: 8, channels: 3, height: 1080, width: 1920,
                    summary: "scale: 8 frames of 1920×1080, C3, all queries"),
        BenchConfig(name: "UHD1", frames: 1, channels: 3, height: 2160, width: 3840,
                    summary: "scale: one 3840×2160 frame, C3, all queries (one frame: the window shifts, wt is 0 in effect)"),
        BenchConfig(name: "C64", frames: 5, channels: 64, height: 128, width: 128,
                    summary: "scale: T5 C64 128×128, all queries"),
    ]

    /// The names `--config` accepts besides `all`: the named configurations and `custom`.
    static var names: [String] { named.compactMap(\.name) + ["custom"] }

    /// The configurations named by `list`: comma-separated names (case-insensitive), repeated
    /// options concatenated, `all` for every named one, `custom` for `custom` (the dimension options).
    static func parse(_ list: [String], custom: BenchConfig) throws(BenchConfigError) -> [BenchConfig] {
        var chosen: [BenchConfig] = []
        for item in list {
            for part in item.split(separator: ",") {
                let name = part.trimmingSpaces.uppercased()
                let configs: [BenchConfig]
                if name == "ALL" {
                    configs = named
                } else if name == "CUSTOM" {
                    configs = [custom]
                } else if let config = named.first(where: { $0.name?.uppercased() == name }) {
                    configs = [config]
                } else {
                    throw BenchConfigError(message: "unknown configuration '\(part)' in --config; expected all or a "
                        + "comma-separated list of " + names.joined(separator: ", "))
                }
                for config in configs where !chosen.contains(config) { chosen.append(config) }
            }
        }
        guard !chosen.isEmpty else { throw BenchConfigError(message: "--config names no configuration") }
        return chosen
    }
}

/// A `--config` list that names no known configuration.
struct BenchConfigError: Error, Equatable, CustomStringConvertible {
    let message: String
    var description: String { message }
}

extension Substring {
    /// Without leading and trailing spaces.
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
