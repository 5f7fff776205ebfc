import DNLS

/// The results of `dnls bench` as a JSON document (hand-written: the tool stays Foundation-free).
func jsonReport(problem p: BenchProblem, results: [BenchResult], speedup: Double?) -> String {
    let w = p.search.window
    var out = "{\n"
    out += "  \"tool\": \"dnls bench\",\n  \"device\": \"cpu\",\n  \"cpus\": \(onlineCPUs()),\n  \"seed\": \(p.seed),\n"
    out += "  \"problem\": {\"frames\": \(p.frames), \"channels\": \(p.channels), \"height\": \(p.height), "
        + "\"width\": \(p.width), \"patchSize\": \(p.patchSize), \"windowSize\": \(w.size), "
        + "\"temporalRadius\": \(w.temporalRadius), \"k\": \(p.k), \"queries\": \(p.queries)},\n"
    out += "  \"results\": [\n"
    out += results.map { r in
        let c = r.benchCase, rate = r.rate
        return "    {\"op\": \(jsonString(c.op.rawValue)), \"implementation\": \(jsonString(c.implementation.name)), "
            + "\"config\": \(jsonString(c.config)), \"fraction\": \(jsonNumber(c.fraction)), "
            + "\"samples_ms\": [\(r.timing.samples.map(jsonNumber).joined(separator: ", "))], "
            + "\"median_ms\": \(jsonNumber(r.median)), \"min_ms\": \(jsonNumber(r.min)), "
            + "\"work\": \(jsonNumber(c.work.amount)), \"throughput\": \(jsonNumber(rate.value)), "
            + "\"unit\": \(jsonString(rate.unit))}"
    }.joined(separator: ",\n")
    out += "\n  ],\n"
    out += "  \"search_forward_fast_over_reference_speed\": \(speedup.map(jsonNumber) ?? "null")\n}\n"
    return out
}

/// `samples_ms` are raw (unscaled) run times; `median_ms`/`min_ms` are scaled by 1/`fraction`.
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
