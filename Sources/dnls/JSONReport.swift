import DNLS

/// Everything one `dnls bench` run found, for the table and the JSON document.
struct BenchReport {
    /// "cpu" or "cuda".
    var device: String
    /// The GPU in words, for `--device cuda`.
    var gpu: String?
    var seed: UInt64
    var warmup: Int
    var repeats: Int
    var maxSeconds: Double
    /// "wall clock (ContinuousClock)" or "CUDA events".
    var timer: String
    /// The configurations that ran, with their problems' sizes.
    var configs: [(config: BenchConfig, queries: Int)]
    var results: [BenchResult]
    var skipped: [SkippedCase]
    var speedup: Double?
    /// The flow the search followed (`--flow`).
    var flow = BenchFlow.none

    /// The report as a JSON document (hand-written: the tool stays Foundation-free).
    ///
    /// `samples_ms` are raw (unscaled) run times; `median_ms`/`min_ms` are scaled by 1/`fraction`.
    /// Memory fields are bytes, `null` on the CPU.
    var json: String {
        var out = "{\n"
        out += "  \"tool\": \"dnls bench\",\n  \"device\": \(jsonString(device)),\n"
        out += "  \"gpu\": \(gpu.map(jsonString) ?? "null"),\n  \"cpus\": \(onlineCPUs()),\n  \"seed\": \(seed),\n"
        out += "  \"warmup\": \(warmup),\n  \"repeats\": \(repeats),\n  \"max_seconds\": \(jsonNumber(maxSeconds)),\n"
        out += "  \"timer\": \(jsonString(timer)),\n  \"flow\": \(jsonString(flow.rawValue)),\n"
        let search = BenchProblem.search, window = search.window
        let problems: [String] = configs.map { c, queries in
            let name: String = jsonString(c.name ?? "custom")
            let k: Int = search.k ?? window.candidateCount(videoFrames: c.frames)
            var text: String = "{\"name\": \(name), \"frames\": \(c.frames), "
            text += "\"channels\": \(c.channels), \"height\": \(c.height), \"width\": \(c.width), "
            text += "\"stride\": \(c.stride), \"patchSize\": \(search.geometry.patchSize), "
            text += "\"windowSize\": \(window.size), \"temporalRadius\": \(window.temporalRadius), "
            text += "\"k\": \(k), \"queries\": \(queries)}"
            return text
        }
        // "problem": the first configuration, as the single-configuration reports had it.
        out += "  \"problem\": \(problems.first ?? "null"),\n"
        out += "  \"configs\": [\n" + problems.map { "    " + $0 }.joined(separator: ",\n") + "\n  ],\n"
        out += "  \"results\": [\n"
        out += results.map { (r: BenchResult) -> String in
            let c = r.benchCase, rate = r.rate, m = r.memory
            func bytes(_ value: Int?) -> String { value.map(String.init) ?? "null" }
            let samples: String = r.timing.samples.map(jsonNumber).joined(separator: ", ")
            var text: String = "    {\"op\": \(jsonString(c.op.rawValue)), \"implementation\": \(jsonString(c.implementation.name)), "
            text += "\"config_name\": \(jsonString(r.configName ?? "custom")), "
            text += "\"config\": \(jsonString(c.config)), \"fraction\": \(jsonNumber(c.fraction)), "
            text += "\"samples_ms\": [\(samples)], "
            text += "\"median_ms\": \(jsonNumber(r.median)), \"min_ms\": \(jsonNumber(r.min)), "
            text += "\"work\": \(jsonNumber(c.work.amount)), \"throughput\": \(jsonNumber(rate.value)), "
            text += "\"unit\": \(jsonString(rate.unit)), "
            text += "\"input_bytes\": \(jsonNumber(c.inputBytes)), \"output_bytes\": \(jsonNumber(c.outputBytes)), "
            text += "\"memory_before_bytes\": \(bytes(m?.before)), \"memory_peak_bytes\": \(bytes(m?.peak)), "
            text += "\"peak_extra_bytes\": \(bytes(m?.extra)), "
            text += "\"peak_extra_beyond_outputs_bytes\": \(bytes(m?.extraBeyondOutputs)), "
            text += "\"memory_source\": \(m.map { jsonString($0.source) } ?? "null")}"
            return text
        }.joined(separator: ",\n")
        out += (results.isEmpty ? "" : "\n") + "  ],\n"
        out += "  \"skipped\": [\n"
        out += skipped.map { s in
            "    {\"op\": \(jsonString(s.op.rawValue)), \"config_name\": \(jsonString(s.configName ?? "custom")), "
                + "\"config\": \(jsonString(s.config)), \"reason\": \(jsonString(s.reason))}"
        }.joined(separator: ",\n")
        out += (skipped.isEmpty ? "" : "\n") + "  ],\n"
        out += "  \"search_forward_fast_over_reference_speed\": \(speedup.map(jsonNumber) ?? "null")\n}\n"
        return out
    }
}

func jsonNumber(_ x: Double) -> String { x.isFinite ? x.description : "null" }

func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}
