import ArgumentParser
import DNLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `dnls bench`: times every operation on seeded random inputs and prints a table.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the patch operations on seeded random inputs.",
        discussion: """
            Every case runs on T5 C3 64×64 video by default (--frames, --channels, --height, --width), ps 7, reflect border, zero flow, all queries \
            (stride 1): search forward and backward with ws 21, wt 2, K 10; scatter, gather and \
            wpsum at the search's neighbours; iunfold and ifold over the whole video. Times are \
            wall-clock (ContinuousClock), median and minimum of the timed runs.
            Operations: \(BenchOp.allCases.map(\.rawValue).joined(separator: ", ")).
            """)

    enum ImplementationChoice: String, ExpressibleByArgument, CaseIterable {
        case reference, fast, both

        var implementations: [Implementation] {
            switch self {
            case .reference: return [.reference]
            case .fast: return [.fast]
            case .both: return [.reference, .fast]
            }
        }
    }

    @Option(help: "Where to run: cpu or cuda.")
    var device: DeviceOption = .cpu

    @Option(help: "GPU ordinal for --device cuda.")
    var gpu = 0

    @Option(help: "Video frames (T).")
    var frames = 5

    @Option(help: "Video channels (C).")
    var channels = 3

    @Option(help: "Frame height (H).")
    var height = 64

    @Option(help: "Frame width (W).")
    var width = 64

    @Option(help: "Timed runs per case (fewer when --max-seconds runs out).")
    var repeats = 5

    @Option(help: "Untimed runs before the timed ones.")
    var warmup = 1

    @Option(help: "Which CPU backend: reference, fast or both.")
    var implementation: ImplementationChoice = .both

    @Option(help: "Comma-separated operations to run, or all.")
    var ops = "all"

    @Option(help: "Also write the results as JSON to this file.")
    var json: String?

    @Option(help: "Stop timing a case once its timed runs have taken this many seconds (at least one run).")
    var maxSeconds = 30.0

    @Flag(help: "Time the reference search over every query instead of a scaled 1/64 sample (minutes per run).")
    var fullReference = false

    @Option(help: "Seed of the random inputs.")
    var seed: UInt64 = 1

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be at least 0") }
        guard maxSeconds > 0 else { throw ValidationError("--max-seconds must be positive") }
        _ = try selectedOps()
    }

    func selectedOps() throws -> [BenchOp] {
        if ops == "all" { return BenchOp.allCases }
        var selected: [BenchOp] = []
        for name in ops.split(separator: ",") {
            guard let op = BenchOp(rawValue: String(name)) else {
                throw ValidationError("unknown operation '\(name)' in --ops; expected all or a comma-separated list of "
                    + BenchOp.allCases.map(\.rawValue).joined(separator: ", "))
            }
            selected.append(op)
        }
        guard !selected.isEmpty else { throw ValidationError("--ops names no operation") }
        return selected
    }

    func run() throws {
        let target: Device
        do {
            target = try device.resolve(gpu: gpu)
        } catch {
            writeStandardError("dnls bench: \(error)\n")
            throw ExitCode.failure
        }
        let progress = Progress(enabled: isatty(2) != 0)
        let problem = try BenchProblem(seed: seed, device: target, frames: frames, channels: channels, height: height,
                                       width: width, announce: progress.show)
        let cases = benchCases(problem, ops: try selectedOps(),
                               implementations: target == .cpu ? implementation.implementations : [.automatic],
                               fullReference: fullReference)
        let where_ = target.gpuDescription.map { "device \($0)" } ?? "device cpu, \(onlineCPUs()) CPUs online"
        print("dnls bench: \(where_), warmup \(warmup), repeats \(repeats) "
            + "(at most \(maxSeconds) s timed per case), seed \(seed)")

        var results: [BenchResult] = []
        for (i, benchCase) in cases.enumerated() {
            let label = "[\(i + 1)/\(cases.count)] \(benchCase.op.rawValue) \(benchCase.implementation.name)"
            progress.show(label + ": preparing inputs")
            let body = try benchCase.prepare()
            progress.show(label + ": running")
            let timing = try measure(warmup: warmup, repeats: repeats, budget: maxSeconds, body)
            results.append(BenchResult(benchCase: benchCase, timing: timing))
        }
        progress.clear()

        print()
        print(renderTable(resultColumns, results.map(resultRow)))
        print()
        for note in notes(problem, results) { print(note) }
        let speedup = searchSpeedup(results)
        if let speedup { print(speedup.summary) }

        if let json {
            try writeFile(json, contents: jsonReport(problem: problem, results: results, speedup: speedup?.ratio))
            print("wrote \(json)")
        }
    }

    private var resultColumns: [Column] {
        [Column(title: "op"), Column(title: "implementation"), Column(title: "shape/config"),
         Column(title: "runs", rightAligned: true), Column(title: "median ms", rightAligned: true),
         Column(title: "min ms", rightAligned: true), Column(title: "throughput", rightAligned: true)]
    }

    private func resultRow(_ r: BenchResult) -> [String] {
        let sampled = r.benchCase.fraction < 1
        let rate = r.rate
        return [r.benchCase.op.rawValue, r.benchCase.implementation.name + (sampled ? " *" : ""), r.benchCase.config,
                String(r.timing.samples.count), readable(r.median), readable(r.min), readable(rate.value) + " " + rate.unit]
    }

    private func notes(_ p: BenchProblem, _ results: [BenchResult]) -> [String] {
        var notes = ["runs: timed runs, after \(warmup) untimed warm-up run(s) each."]
        if results.contains(where: { $0.timing.samples.count < repeats }) {
            notes.append("A case with fewer than \(repeats) runs used up --max-seconds \(maxSeconds).")
        }
        notes += [
            "search GFLOP/s: 3·C·ps² FLOP per candidate, \(p.candidatesPerQuery) candidates per query "
                + "(frames·ws², out-of-frame ones included); search-bwd: 4·C·ps² FLOP per neighbour.",
            "GB/s: inputs read once + outputs written once (Float32 values, Int32 indices).",
        ]
        if let sampled = results.first(where: { $0.benchCase.fraction < 1 }) {
            let batches = p.sampleBatches
            notes.append("* sampled: the reference search ran on \(batches.count) evenly spaced batches of "
                + "\(batches[0].count) queries (\(batches.reduce(0) { $0 + $1.count }) of \(p.queries)); its times are "
                + "scaled ×\(readable(1 / sampled.benchCase.fraction)) to all queries (--full-reference runs them all).")
        }
        return notes
    }

    /// Fast versus reference search forward, when both ran.
    private func searchSpeedup(_ results: [BenchResult]) -> (ratio: Double, summary: String)? {
        let forward = results.filter { $0.benchCase.op == .searchForward }
        guard let reference = forward.first(where: { $0.benchCase.implementation == .reference }),
              let fast = forward.first(where: { $0.benchCase.implementation == .fast }) else { return nil }
        let ratio = reference.median / fast.median
        let rate = fast.rate.value
        return (ratio, "search forward, fast/reference speed: \(fixed(ratio, 2))× (reference \(readable(reference.median)) ms"
            + " / fast \(readable(fast.median)) ms; target ≥ 8×: \(ratio >= 8 ? "met" : "not met")); fast "
            + "\(readable(rate)) GFLOP/s (target ≥ 40 on two cores: \(rate >= 40 ? "met" : "not met")).")
    }
}

/// A one-line status on standard error, redrawn in place; silent when stderr is not a terminal.
struct Progress {
    let enabled: Bool

    func show(_ text: String) {
        if enabled { writeStandardError("\r\u{1B}[K" + text) }
    }

    func clear() {
        if enabled { writeStandardError("\r\u{1B}[K") }
    }
}

func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(2, bytes.baseAddress! + offset, bytes.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}

func onlineCPUs() -> Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

/// Writes `contents` to `path` with stdio (no Foundation).
func writeFile(_ path: String, contents: String) throws {
    guard let file = fopen(path, "w") else {
        throw ValidationError("cannot open \(path) for writing (errno \(errno))")
    }
    var contents = contents
    let written = contents.withUTF8 { fwrite($0.baseAddress, 1, $0.count, file) }
    let closed = fclose(file)
    guard written == contents.utf8.count, closed == 0 else {
        throw ValidationError("cannot write \(path) (errno \(errno))")
    }
}
