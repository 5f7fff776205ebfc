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
        abstract: "Time the patch operations, forward and backward, on seeded random inputs.",
        discussion: """
            Every configuration uses ps 7, reflect border and no flow unless --flow says otherwise: \
            search forward and backward with ws 21, wt 2, K 10; scatter, gather and wpsum (and their backwards) at the search's \
            neighbours; iunfold and ifold (and their backwards) over the query grid.
            Configurations (--config, repeatable or comma-separated, or all): \
            \(BenchConfig.named.map { "\($0.name!) (\($0.summary))" }.joined(separator: "; ")); \
            custom: --frames/--channels/--height/--width/--stride (T5 C3 64×64, stride 1 by default). \
            The comparison configurations are those on which BENCHMARKS.md compares the GPU backend \
            with the original dnls and stnls; the scale ones try larger videos.
            Without --config: the custom configuration on the CPU (the table of BENCHMARKS.md), \
            every named configuration on a GPU, each case skipped with its reason where its inputs \
            and outputs would not fit (--memory-limit-gib, and 85 % of the GPU's memory).
            CPU times are wall-clock (ContinuousClock); GPU times come from CUDA events on the \
            default stream around each call (with --stream, on the case's own stream). Median and minimum of the timed runs. On a GPU, one \
            more untimed run measures device memory: the peak in use during it minus what was in \
            use before (its inputs), and that minus its outputs.
            Operations: \(BenchOp.allCases.map(\.rawValue).joined(separator: ", ")) (default: all on a \
            GPU; on the CPU \(BenchOp.cpuDefault.map(\.rawValue).joined(separator: ", "))).
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

    @OptionGroup var placement: DeviceOptions

    @Option(help: ArgumentHelp("Configurations to run: \(BenchConfig.names.joined(separator: ", ")) or all "
        + "(repeatable or comma-separated).", valueName: "names"))
    var config: [String] = []

    @Option(help: "Video frames (T) of the custom configuration (default 5).")
    var frames: Int?

    @Option(help: "Video channels (C) of the custom configuration (default 3).")
    var channels: Int?

    @Option(help: "Frame height (H) of the custom configuration (default 64).")
    var height: Int?

    @Option(help: "Frame width (W) of the custom configuration (default 64).")
    var width: Int?

    @Option(help: "Query grid stride of the custom configuration (default 1: every pixel a query).")
    var stride: Int?

    @Option(help: "Timed runs per case, fewer when --max-seconds runs out (default 5 on the CPU, 20 on a GPU).")
    var repeats: Int?

    @Option(help: "Untimed runs before the timed ones (default 1 on the CPU, 3 on a GPU).")
    var warmup: Int?

    @Option(help: "Which CPU backend: reference, fast or both.")
    var implementation: ImplementationChoice = .both

    @Option(help: "Comma-separated operations to run, all, or default.")
    var ops = "default"

    @Option(help: "Also write the results as JSON to this file.")
    var json: String?

    @Option(help: "Stop timing a case once its timed runs have taken this many seconds (at least one run).")
    var maxSeconds = 30.0

    @Option(help: "Skip a case whose inputs and outputs together exceed this many GiB.")
    var memoryLimitGib = 16.0

    @Flag(help: "Time the reference search over every query instead of a scaled 1/64 sample (minutes per run).")
    var fullReference = false

    @Option(help: ArgumentHelp("The flow the search follows: none (no flow tensors), zero (tensors of zeros), smooth "
        + "(a pan of 1.5 px right and 1 px up per frame plus uniform ±0.5 px noise) or random (uniform ±2.5 px per pixel), "
        + "both seeded by --seed."))
    var flow: BenchFlow = .none

    @Option(help: ArgumentHelp("On a GPU, search along flows with the box-filtered union-window kernel, in chunks of the "
        + "window plus this many offsets per side (experimental; default: the standard choice).", valueName: "offsets"))
    var flowUnionReach: Int?

    @Option(help: "Seed of the random inputs.")
    var seed: UInt64 = 1

    @Flag(help: ArgumentHelp("On a GPU, run every case on a stream of its own with deferred input checking, as "
        + "inside a training loop: no operation waits for the device (default: the legacy default stream, eager checking)."))
    var stream = false

    var repeatCount: Int { repeats ?? (placement.device == .cpu ? 5 : 20) }
    var warmupCount: Int { warmup ?? (placement.device == .cpu ? 1 : 3) }

    func validate() throws {
        guard repeatCount >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard warmupCount >= 0 else { throw ValidationError("--warmup must be at least 0") }
        guard maxSeconds > 0 else { throw ValidationError("--max-seconds must be positive") }
        guard memoryLimitGib > 0 else { throw ValidationError("--memory-limit-gib must be positive") }
        if stream && placement.device == .cpu { throw ValidationError("--stream needs --device cuda") }
        if let flowUnionReach {
            guard placement.device != .cpu else { throw ValidationError("--flow-union-reach needs --device cuda") }
            guard flowUnionReach >= 1 else { throw ValidationError("--flow-union-reach must be at least 1") }
        }
        for (name, value) in [("frames", frames), ("channels", channels), ("height", height), ("width", width),
                              ("stride", stride)] {
            if let value, value < 1 { throw ValidationError("--\(name) must be at least 1") }
        }
        if customGiven {
            let c = customConfig
            let (plane, o1) = c.height.multipliedReportingOverflow(by: c.width)
            let (frame, o2) = plane.multipliedReportingOverflow(by: c.channels)
            let (video, o3) = frame.multipliedReportingOverflow(by: c.frames)
            let limit = memoryLimitGib * Double(1 << 30)
            guard !(o1 || o2 || o3), Double(video) * 4 <= limit else {
                throw ValidationError("--frames/--channels/--height/--width describe a video of "
                    + (o1 || o2 || o3 ? "more than 2⁶³ values" : "\(video) values (\(video * 4) bytes)")
                    + ", more than --memory-limit-gib \(memoryLimitGib) allows")
            }
        }
        _ = try selectedOps()
        _ = try selectedConfigs()
    }

    func selectedOps() throws -> [BenchOp] {
        if ops == "default" { return placement.device == .cpu ? BenchOp.cpuDefault : BenchOp.allCases }
        if ops == "all" { return BenchOp.allCases }
        var selected: [BenchOp] = []
        for name in ops.split(separator: ",") {
            guard let op = BenchOp(rawValue: String(name)) else {
                throw ValidationError("unknown operation '\(name)' in --ops; expected all, default or a comma-separated "
                    + "list of " + BenchOp.allCases.map(\.rawValue).joined(separator: ", "))
            }
            selected.append(op)
        }
        guard !selected.isEmpty else { throw ValidationError("--ops names no operation") }
        return selected
    }

    /// The configuration of `--frames/--channels/--height/--width/--stride`.
    var customConfig: BenchConfig {
        BenchConfig(name: nil, frames: frames ?? 5, channels: channels ?? 3, height: height ?? 64, width: width ?? 64,
                    stride: stride ?? 1, summary: "custom")
    }

    /// Whether any option of the custom configuration was given.
    var customGiven: Bool { [frames, channels, height, width, stride].contains { $0 != nil } }

    func selectedConfigs() throws -> [BenchConfig] {
        guard !config.isEmpty else {
            return placement.device == .cpu || customGiven ? [customConfig] : BenchConfig.named
        }
        let chosen: [BenchConfig]
        do { chosen = try BenchConfig.parse(config, custom: customConfig) } catch { throw ValidationError(error.message) }
        if customGiven && !chosen.contains(customConfig) {
            throw ValidationError("--frames/--channels/--height/--width/--stride describe the custom configuration: "
                + "add custom to --config")
        }
        return chosen
    }

    func run() throws {
        try reportingErrors(FlagNames(names: [:], inputs: [], unnamed: .internal)) { try benchmark() }
    }

    private func benchmark() throws {
        if let flowUnionReach { CUDATuning.current.flowUnionReach = flowUnionReach }
        let target = try placement.resolve(for: Self.self)
        let progress = Progress(terminal: isatty(2) != 0)
        let configs = try selectedConfigs(), ops = try selectedOps()
        let onGPU = target != .cpu
        let where_ = target.gpuDescription.map { "device \($0)" } ?? "device cpu, \(onlineCPUs()) CPUs online"
        print("dnls bench: \(where_), warmup \(warmupCount), repeats \(repeatCount) "
            + "(at most \(maxSeconds) s timed per case), seed \(seed)"
            + (stream ? ", on a stream of its own with deferred checking" : "")
            + (flow == .none ? "" : ", flow \(flow.rawValue)")
            + (flowUnionReach.map { ", union-window flow search of reach \($0)" } ?? ""))
        for c in configs where c.name != nil { print("  \(c.name!): \(c.summary)") }

        var report = BenchReport(device: onGPU ? "cuda" : "cpu", gpu: target.gpuDescription, seed: seed,
                                 warmup: warmupCount, repeats: repeatCount, maxSeconds: maxSeconds,
                                 timer: onGPU ? (stream ? "CUDA events on a stream of its own, deferred checking" : "CUDA events")
                                     : "wall clock (ContinuousClock)",
                                 configs: [], results: [], skipped: [], speedup: nil, flow: flow)
        for config in configs {
            try runConfig(config, on: target, ops: ops, progress: progress, into: &report)
        }
        progress.clear()

        print()
        print(renderTable(resultColumns(onGPU), report.results.map { resultRow($0, onGPU) }))
        print()
        for note in notes(report) { print(note) }
        let speedup = searchSpeedup(report.results)
        if let speedup { print(speedup.summary) }
        report.speedup = speedup?.ratio

        if let json {
            try writeFile(json, contents: report.json)
            print("wrote \(json)")
        }
    }

    /// Builds the problem of `config` and times its cases.
    private func runConfig(_ config: BenchConfig, on target: Device, ops: [BenchOp], progress: Progress,
                           into report: inout BenchReport) throws {
        let onGPU = target != .cpu
        let label = config.name ?? "custom"
        progress.show("\(label): preparing the video (T\(config.frames) C\(config.channels) \(config.height)×\(config.width))")
        let problem = try BenchProblem(seed: seed, device: target, config: config, flow: flow) { progress.show(label + ": " + $0) }
        report.configs.append((config, problem.queries))
        let own = stream && onGPU ? try GPUStream(on: target) : nil
        let cases = benchCases(problem, ops: ops, implementations: onGPU ? [.automatic] : implementation.implementations,
                               fullReference: fullReference)
        for (i, benchCase) in cases.enumerated() {
            let caseLabel = "\(label) [\(i + 1)/\(cases.count)] \(benchCase.op.rawValue) \(benchCase.implementation.name)"
            if let reason = try skipReason(benchCase, problem: problem, named: config.name != nil) {
                report.skipped.append(SkippedCase(op: benchCase.op, config: benchCase.config, configName: config.name,
                                                  reason: reason))
                progress.show(caseLabel + ": skipped, " + reason)
                continue
            }
            progress.show(caseLabel + ": preparing inputs")
            let body = try benchCase.prepare()
            progress.show(caseLabel + ": running")
            let timing: Timing
            var memory: MemoryFigures? = nil
            if onGPU {
                // With --stream the events go on the case's stream (elapsedMilliseconds times the
                // scope's stream); the synchronisation after each run is not timed.
                timing = try measure(warmup: warmupCount, repeats: repeatCount, budget: maxSeconds,
                                     warmupBody: { try run(body, on: own) },
                                     timedRun: { try run({ () throws(DNLSError) in try target.elapsedMilliseconds(body) }, on: own) })
                // One more run, untimed, for the memory: the peak during it beyond what was in use before.
                if let before = try target.resetPeakMemoryUsage() {
                    try run(body, on: own)
                    if let after = try target.memoryUsage() {
                        memory = MemoryFigures(before: before.current, peak: after.peak,
                                               outputs: Int(benchCase.outputBytes), source: after.source.rawValue)
                    }
                }
            } else {
                timing = try measure(warmup: warmupCount, repeats: repeatCount, budget: maxSeconds) { try body() }
            }
            let result = BenchResult(benchCase: benchCase, timing: timing, configName: config.name, memory: memory)
            report.results.append(result)
            // Each result as it comes, so a run cut short still says what it measured.
            progress.show(caseLabel + ": median \(readable(result.median)) ms over \(timing.samples.count) runs"
                + (memory.map { ", peak extra \(readable(Double($0.extra) / 1048576)) MiB" } ?? ""))
        }
    }

    /// Runs `body` as `--stream` asks: on `own` with deferred checking, then that stream's
    /// synchronisation (which throws any deferred input failure); without `own`, as it is.
    private func run<R>(_ body: () throws(DNLSError) -> R, on own: GPUStream?) throws(DNLSError) -> R {
        guard let own else { return try body() }
        let result = try withStream(own, checking: .deferred, body)
        try own.synchronize()
        return result
    }

    /// Why `benchCase` should not run here, or `nil` to run it.
    ///
    /// Every case: its inputs and outputs must fit under `--memory-limit-gib` and, on a GPU, in 85 %
    /// of the card's memory beside what is already in use. Named configurations on the CPU: one run
    /// must not be expected to take longer than `--max-seconds` (the estimate uses rates well above
    /// what two cores reach, so only the hopeless cases go).
    func skipReason(_ benchCase: BenchCase, problem p: BenchProblem, named: Bool) throws -> String? {
        let gib = Double(1 << 30)
        let need = benchCase.inputBytes + benchCase.outputBytes
        if need > memoryLimitGib * gib {
            return "inputs and outputs need \(fixed(need / gib, 1)) GiB, over --memory-limit-gib \(fixed(memoryLimitGib, 1))"
        }
        if let usage = try p.device.memoryUsage() {
            // The video and the neighbours are already in use and are part of the inputs.
            let resident = Double(4 * p.videoCount) + (p.neighbours == nil ? 0 : Double(12 * p.queries * p.k))
            let room = 0.85 * Double(usage.total) - Double(usage.current) + resident
            if need > room {
                return "inputs and outputs need \(fixed(need / gib, 1)) GiB, over the \(fixed(Swift.max(room, 0) / gib, 1)) "
                    + "GiB the GPU has room for"
            }
        }
        if p.device == .cpu && named {
            let seconds = estimatedCPUSeconds(benchCase)
            if seconds > maxSeconds {
                return "about \(fixed(seconds, 0)) s per run on the CPU (estimated), over --max-seconds \(fixed(maxSeconds, 0))"
            }
        }
        return nil
    }

    /// A generous estimate of one CPU run's seconds, from rates above those BENCHMARKS.md measured
    /// on two cores (fast search 154 GFLOP/s nominal, reference 0.36; the rest 0.1–11 GB/s).
    func estimatedCPUSeconds(_ c: BenchCase) -> Double {
        let fast = c.implementation != .reference
        let rate: Double
        switch c.op {
        case .searchForward: rate = fast ? 300e9 : 0.7e9
        case .searchBackward: rate = fast ? 5e9 : 0.8e9
        default: rate = fast ? 4e9 : 1e9
        }
        return c.work.amount * c.fraction / rate
    }

    private func resultColumns(_ onGPU: Bool) -> [Column] {
        var columns = [Column(title: "op"), Column(title: "implementation"), Column(title: "shape/config"),
                       Column(title: "runs", rightAligned: true), Column(title: "median ms", rightAligned: true),
                       Column(title: "min ms", rightAligned: true), Column(title: "throughput", rightAligned: true)]
        if onGPU {
            columns += [Column(title: "peak extra MiB", rightAligned: true),
                        Column(title: "beyond outputs MiB", rightAligned: true)]
        }
        return columns
    }

    private func resultRow(_ r: BenchResult, _ onGPU: Bool) -> [String] {
        let sampled = r.benchCase.fraction < 1
        let rate = r.rate
        var row = [r.benchCase.op.rawValue, r.benchCase.implementation.name + (sampled ? " *" : ""), r.benchCase.config,
                   String(r.timing.samples.count), readable(r.median), readable(r.min), readable(rate.value) + " " + rate.unit]
        if onGPU {
            let mib = Double(1 << 20)
            row += [r.memory.map { readable(Double($0.extra) / mib) } ?? "-",
                    r.memory.map { readable(Double($0.extraBeyondOutputs) / mib) } ?? "-"]
        }
        return row
    }

    private func notes(_ report: BenchReport) -> [String] {
        let results = report.results
        var notes = ["runs: timed runs, after \(warmupCount) untimed warm-up run(s) each."]
        if results.contains(where: { $0.timing.samples.count < repeatCount }) {
            notes.append("A case with fewer than \(repeatCount) runs used up --max-seconds \(maxSeconds).")
        }
        let candidates = report.configs.map { BenchProblem.search.window.candidateCount(videoFrames: $0.config.frames) }
        let candidateText = Set(candidates).count == 1 ? "\(candidates[0])" : Set(candidates).sorted().map(String.init).joined(separator: " or ")
        notes += [
            "search GFLOP/s: 3·C·ps² FLOP per candidate, \(candidateText) candidates per query "
                + "(frames·ws², out-of-frame ones included); search-bwd: 4·C·ps² FLOP per neighbour.",
            "GB/s: inputs read once + outputs written once (Float32 values, Int32 indices).",
        ]
        if report.device == "cuda" {
            let source = results.first?.memory?.source ?? "memory pool"
            notes += [
                "GPU times: CUDA events on " + (stream ? "a stream of the case's own, deferred input checking" : "the default stream")
                    + " around each call, waited for (host work in the call counts where the GPU waits for it).",
                "peak extra MiB: device memory in use at the peak of one more, untimed run, minus what was in use "
                    + "before it (the inputs); outputs included. beyond outputs MiB: the same minus the outputs' bytes, "
                    + "i.e. beyond inputs and outputs (from the \(source)).",
            ]
        }
        if let sampled = results.first(where: { $0.benchCase.fraction < 1 }),
           let p = report.configs.first.map({ $0.queries }) {
            let length = Swift.max(1, p / 512)
            notes.append("* sampled: the reference search ran on 8 evenly spaced batches of "
                + "\(length) queries (\(8 * length) of \(p)); its times are "
                + "scaled ×\(readable(1 / sampled.benchCase.fraction)) to all queries (--full-reference runs them all).")
        }
        for s in report.skipped {
            notes.append("skipped: \(s.configName.map { $0 + " " } ?? "")\(s.op.rawValue): \(s.reason).")
        }
        return notes
    }

    /// Fast versus reference search forward, when both ran (the first configuration where they did).
    private func searchSpeedup(_ results: [BenchResult]) -> (ratio: Double, summary: String)? {
        let forward = results.filter { $0.benchCase.op == .searchForward }
        guard let reference = forward.first(where: { $0.benchCase.implementation == .reference }),
              let fast = forward.first(where: { $0.benchCase.implementation == .fast && $0.configName == reference.configName })
        else { return nil }
        let ratio = reference.median / fast.median
        let rate = fast.rate.value
        return (ratio, "search forward, fast/reference speed: \(fixed(ratio, 2))× (reference \(readable(reference.median)) ms"
            + " / fast \(readable(fast.median)) ms; target ≥ 8×: \(ratio >= 8 ? "met" : "not met")); fast "
            + "\(readable(rate)) GFLOP/s (target ≥ 40 on two cores: \(rate >= 40 ? "met" : "not met")).")
    }
}

/// Progress on standard error: on a terminal one status line redrawn in place; otherwise, for
/// `dnls bench`, one line per step with the seconds since the start, so long runs in logs show
/// where they are (other commands stay silent there).
struct Progress {
    private enum Mode { case terminal, lines, silent }
    private let mode: Mode
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant

    /// A status line on a terminal when `enabled`, silent otherwise.
    init(enabled: Bool) {
        mode = enabled ? .terminal : .silent
        start = clock.now
    }

    /// A status line on a terminal, plain lines elsewhere.
    init(terminal: Bool) {
        mode = terminal ? .terminal : .lines
        start = clock.now
    }

    func show(_ text: String) {
        switch mode {
        case .terminal: writeStandardError("\r\u{1B}[K" + text)
        case .lines: writeStandardError("dnls bench [\(fixed((clock.now - start).milliseconds / 1e3, 1)) s] " + text + "\n")
        case .silent: break
        }
    }

    func clear() {
        if mode == .terminal { writeStandardError("\r\u{1B}[K") }
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
