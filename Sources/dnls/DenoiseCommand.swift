import ArgumentParser
import DNLS
import DNLSImageIO
#if canImport(Glibc)
import Glibc
#endif

/// `dnls denoise`: video non-local means (search → weights → wpsum → fold, normalised).
struct DenoiseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "denoise",
        abstract: "Denoise a video by non-local Bayes or non-local means built from the library's operations.",
        discussion: """
            With no --input, runs on the embedded default: a public-domain photograph (NASA) made \
            into a 5-frame video by a camera moving 3 px right and 2 px down per frame, with seeded \
            Gaussian noise of sigma 25. It writes clean, noisy and denoised videos as .npy files \
            into the output folder and compares non-local means with single-frame search, temporal \
            search without flow, temporal search with the known flow and two steps, and non-local \
            Bayes (two steps) with the known flow and with the flow it estimates from the noisy \
            video, and writes PNG frames of \
            the best one (denoised_%03d.png) and side-by-side pictures (compare_%03d.png: noisy | \
            denoised | clean). With --input, it denoises that video by two-step non-local Bayes \
            (--method nlm: non-local means) along the flow it estimates from the noisy video as \
            dnls flow does (--flow none: no flow; or the flows of --forward-flow and --backward-flow) \
            and writes the same files for it. Videos are \
            (T, C, H, W) or (B, T, C, H, W) .npy arrays, folders \
            of PNG/JPEG frames (sorted by file name, all the same size), with values on the 0–255 \
            scale, or video files (.mp4, .mkv, .mov, .webm, .avi, …, read as 8-bit RGB through an \
            ffmpeg program on the PATH); flows (T, 2, H, W) .npy arrays.
            """)

    @Option(help: ArgumentHelp("Noisy video (.npy, a folder of PNG/JPEG frames, or a video file ffmpeg reads). "
                               + "Default: the embedded photograph with synthetic noise."))
    var input: String?

    @Option(help: "Clean reference video (.npy, a folder of PNG/JPEG frames, or a video file), to report PSNR.")
    var clean: String?

    @Option(help: "Frames read from the start of a video file given as --input or --clean (default: all).")
    var frames: Int?

    @Option(help: ArgumentHelp("Also write the denoised video as a video file through ffmpeg (its format from the "
                               + "extension: .mp4, .mkv, .webm, …).", valueName: "file"))
    var outputVideo: String?

    @Option(help: ArgumentHelp("Frame rate of --output-video (default: the input video's, else 25).", valueName: "fps"))
    var fps: Double?

    @Option(help: "Forward flow (.npy): frame t → t+1, channel 0 moves x, channel 1 moves y.")
    var forwardFlow: String?

    @Option(help: "Backward flow (.npy): frame t → t−1.")
    var backwardFlow: String?

    @Option(help: ArgumentHelp("Without flow files: estimate the flow from the noisy video (as dnls flow does, with its "
                               + "defaults) or search with none. Default: estimate.", valueName: "estimate|none"))
    var flow: FlowChoice?

    // Unconditional: `--sigma -5` is a (wrong) value, not a missing one.
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Noise standard deviation on the 0–255 scale, or auto to estimate it from the noisy video (the median "
            + "absolute deviation of its finest diagonal Haar wavelet details, over 0.6745), which is reported.",
        valueName: "sigma|auto"))
    var sigma: SigmaChoice = .value(25)

    /// The defaults of the search options here: those of ``NonLocalMeans``.
    enum SearchDefaults: SearchOptionDefaults {
        static var patchSize: Int { 5 }
        static var window: Int { 15 }
        static var temporalRadius: Int { 2 }
        static var queryStrideDefault: String { "1 with nlm, 2 with nlb" }
    }

    @OptionGroup var searchOptions: SearchOptions<SearchDefaults>

    @Option(help: ArgumentHelp("Method for --input: nlb (non-local Bayes: per-group Wiener estimates, two steps) or "
                               + "nlm (non-local means).", valueName: "nlb|nlm"))
    var method: DenoiseMethod = .nlb

    @Option(help: "Neighbours per query: aggregated (nlm) or in each group (nlb). Default: 16 with nlm, 45 with nlb.")
    var neighbours: Int?

    @Option(help: "Resolutions nlb denoises: each further one is the video halved, whose result corrects the finer one's coarse content (1: the full resolution only).")
    var scales = NonLocalBayes(sigma: 1).scales

    @Option(help: "Queries per batch (memory is bounded by it). Default: 8192 with nlm; 2048 with nlb on the CPU, 65536 on a GPU.")
    var batchSize: Int?

    @Flag(help: "Second pass of nlm: search on the first estimate, aggregate the noisy video again (nlb always takes two steps).")
    var twoStep = false

    @OptionGroup var placement: DeviceOptions

    @Option(help: "Folder for the results.")
    var output = "dnls-out"

    @Option(help: "Seed of the synthetic noise of the default.")
    var seed: UInt64 = 25

    @Option(help: ArgumentHelp("Factor that brings the input to the 0–255 scale of --sigma (255 for a video scaled 0–1); "
                               + "the results are written back on the input's scale.", valueName: "factor"))
    var scale: Float = 1

    /// How library errors read here, and which of them are about input files.
    var flagNames: FlagNames {
        var names = FlagNames.search.merging(["k": "--neighbours", "batchSize": "--batch-size", "sigma": "--sigma"]) { $1 }
        if let input { names["noisy"] = input; names["video"] = input }
        return FlagNames(names: names, inputs: ["noisy", "video", "flows.forward", "flows.backward"])
    }

    func run() throws {
        try reportingErrors(flagNames) { try denoise() }
    }

    /// Everything is read and checked (the files against each other, the values finite, the output
    /// folder writable) before the work starts, so that a failure writes nothing.
    private func denoise() throws {
        if input == nil, let given = [("--clean", clean), ("--forward-flow", forwardFlow), ("--backward-flow", backwardFlow)]
            .first(where: { $0.1 != nil }) {
            throw ValidationError("\(given.0) needs --input: the embedded default has its own clean video and flows")
        }
        try requireFlowPair(forward: forwardFlow, backward: backwardFlow)
        if let flow {
            guard input != nil else {
                throw ValidationError("--flow \(flow.rawValue) needs --input: the embedded default compares its own flows")
            }
            guard forwardFlow == nil else {
                throw ValidationError("--flow \(flow.rawValue) applies without --forward-flow and --backward-flow")
            }
        }
        guard scale > 0, scale.isFinite else { throw ValidationError("--scale must be a positive factor, got \(scale)") }
        if let frames, frames < 1 { throw ValidationError("--frames must be at least 1, got \(frames)") }
        if let fps, !(fps > 0 && fps.isFinite && fps <= 1000) {
            throw ValidationError("--fps must be a frame rate above 0 and at most 1000, got \(fps)")
        }
        if let outputVideo, !FFmpeg.isVideoFile(outputVideo) {
            throw ValidationError("--output-video \(outputVideo): name a video file (.\(FFmpeg.videoExtensions.sorted().joined(separator: ", .")))")
        }
        if frames != nil, ![input, clean].contains(where: { $0.map(FFmpeg.isVideoFile) ?? false }) {
            throw ValidationError("--frames applies to a video file given as --input or --clean")
        }
        let target = try placement.resolve(for: Self.self)
        var nlm = denoiser
        try nlm.validate()
        if input != nil && method == .nlb { try bayes(sigma: nlm.sigma, device: target).validate() }
        let progress = Progress(enabled: isatty(2) != 0)

        if let outputVideo { _ = try FFmpeg.program(for: outputVideo) }  // before the work, not after it
        guard let input else {
            try prepareOutputFolder(output)  // the default writes as it goes
            let best = try runDefault(nlm, device: target, progress: progress)
            if let outputVideo { try writeVideoFile(best, to: outputVideo, rate: fps ?? 25, progress: progress) }
            return
        }
        let (read, inputRate) = try readVideo(input, progress: progress)
        let noisy = try scaled(read, by: scale)
        try requireFiniteVideo(noisy, path: input)
        warnAboutScale(noisy, path: input)
        nlm.sigma = try noiseLevel(of: noisy)
        let nlb = bayes(sigma: nlm.sigma, device: target)
        let (stride, steps) = method == .nlb ? (nlb.queryStride, nlb.twoStep ? 2 : 1) : (nlm.queryStride, nlm.twoStep ? 2 : 1)
        warnAboutNeighbours(method == .nlb ? nlb.neighbours : nlm.neighbours, frames: noisy.rank == 5 ? noisy.shape[1] : noisy.shape[0])
        if noisy.rank >= 4, case let dims = Array(noisy.shape.suffix(4)),
           let grid = try? QueryGrid(region: .whole(frames: dims[0], height: dims[2], width: dims[3]), stride: stride) {
            let queries = (noisy.rank == 5 ? noisy.shape[0] : 1) * grid.count
            let candidates = SearchWindow(size: nlm.windowSize, temporalRadius: nlm.temporalRadius).candidateCount(videoFrames: dims[0])
            noteSearchCost(command: "denoise", queries: queries * steps, candidates: candidates,
                           channels: dims[1], patchSize: nlm.patchSize, device: target)
        }
        let reference = try clean.map { path throws in try scaled(readVideo(path, progress: progress).video, by: scale) }
        if let reference, let clean {
            guard reference.shape == noisy.shape else {
                throw DNLSError.shapeMismatch(argument: clean, expected: "the shape of --input \(noisy.shape)",
                                              actual: reference.shape)
            }
            try requireFiniteVideo(reference, path: clean)
        }
        var flows = Flows(forward: try forwardFlow.map { path throws in try NPY.read(path).floatTensor().to(target) },
                          backward: try backwardFlow.map { path throws in try NPY.read(path).floatTensor().to(target) })
        try checkOutputFolder(output)
        var flowNote = forwardFlow == nil ? ", no flow" : ", the given flow"
        let (denoised, seconds) = try timed {
            let onTarget = try noisy.to(target)  // one upload for the flow estimate and the denoiser
            if forwardFlow == nil && (flow ?? .estimate) == .estimate {
                let (estimated, took) = try timed {
                    try FlowEstimation()(onTarget) { progress.show("estimating the flow: search \($0) of \($1)") }
                }
                flows = estimated
                flowNote = ", the flow estimated in \(format(took)) s (mean displacement "
                    + "\(format(Double(try displacementLengths(estimated.forward!).mean))) px)"
            }
            let show = { (done: Int, total: Int) in progress.show("denoising (\(method.title)): batch \(done) of \(total)") }
            return try (method == .nlb ? nlb(onTarget, flows: flows, progress: show)
                                       : nlm(onTarget, flows: flows, progress: show)).to(.cpu)
        }
        progress.clear()
        try prepareOutputFolder(output)
        try NPY.write(try scaled(denoised, by: 1 / scale), to: output + "/denoised.npy")  // on the input's scale
        var line = "denoised \(describe(noisy.shape)) with \(method.title)\(flowNote), in \(format(seconds)) s on \(target)"
        if let reference {
            line += ", PSNR \(format(psnr(noisy, reference))) → \(format(psnr(denoised, reference))) dB"
        }
        let pictures = try writePictures(noisy: noisy, denoised: denoised, clean: reference)
        var video = ""
        if let outputVideo {
            guard denoised.rank == 4, [1, 3].contains(denoised.shape[1]) else {
                throw ValidationError("--output-video needs gray or RGB frames (T, 1 or 3, H, W), not \(denoised.shape)")
            }
            try writeVideoFile(denoised, to: outputVideo, rate: fps ?? inputRate ?? 25,
                               progress: progress)
            video = ", \(outputVideo)"
        }
        print(line + "; wrote \(output)/denoised.npy" + video + pictures)
    }

    /// `video` (on the 0–255 scale) as the video file `path`, through ffmpeg.
    private func writeVideoFile(_ video: Tensor<Float>, to path: String, rate: Double, progress: Progress) throws {
        progress.show("writing \(path)")
        try FFmpeg.write(video, to: path, framesPerSecond: rate)
        progress.clear()
        if input == nil { print("wrote \(path)") }
    }

    /// `video` times `factor` (the video itself for 1).
    private func scaled(_ video: Tensor<Float>, by factor: Float) throws -> Tensor<Float> {
        factor == 1 ? video : try Tensor(shape: video.shape, scalars: video.scalars.map { $0 * factor })
    }

    /// A video whose values all lie in [0, 1] is most likely scaled 0–1, where a --sigma on the
    /// 0–255 scale would wipe it out: say so, and how to fix it.
    private func warnAboutScale(_ video: Tensor<Float>, path: String) {
        guard scale == 1, case let .value(sigma) = sigma, let high = video.scalars.max(), let low = video.scalars.min(),
              low >= 0, high <= 1, sigma > 1 else {
            return
        }
        writeStandardError("dnls denoise: warning: \(path) holds values in [\(low), \(high)], but --sigma \(sigma) is on the "
            + "0–255 scale; for a video scaled 0–1 add --scale 255\n")
    }

    /// More neighbours than the window has candidates are cut to the candidates: say so.
    private func warnAboutNeighbours(_ neighbours: Int, frames: Int) {
        let window = SearchWindow(size: searchOptions.window, temporalRadius: searchOptions.temporalRadius)
        let candidates = window.candidateCount(videoFrames: frames)
        guard neighbours > candidates else { return }
        writeStandardError("dnls denoise: warning: --neighbours \(neighbours) is more than the \(candidates) candidates of "
            + "the window; taking all \(candidates)\n")
    }

    /// The non-local means the options describe (with --sigma auto, for the default's 25 until a
    /// video is read): the embedded default's variants, and --method nlm.
    var denoiser: NonLocalMeans { denoiser(sigma: sigma.value ?? SigmaChoice.defaultSigma) }

    /// The non-local means the options describe, for noise of `sigma`.
    func denoiser(sigma: Float) -> NonLocalMeans {
        let defaults = NonLocalMeans(sigma: sigma)
        return searchOptions.nonLocalMeans(sigma: sigma, neighbours: neighbours ?? defaults.neighbours,
                                           batchSize: batchSize ?? defaults.batchSize, twoStep: twoStep)
    }

    /// Queries per batch of non-local Bayes on a GPU: enough groups to fill it and few batches
    /// (8 frames of 1080p took 4.0 s on an H100, against 7.1 s with 16384 and 11.5 s with 4096);
    /// a batch's groups and their estimates take about 2.7 GB at the default sizes.
    static let gpuBayesBatch = 65536

    /// The non-local Bayes the options describe (--method nlb), for noise of `sigma` on `device`:
    /// the search options, and the library's defaults for what is not given (45 neighbours, 2048
    /// queries a batch on the CPU and 65536 on a GPU, query stride 2 unless --query-stride says
    /// otherwise).
    func bayes(sigma: Float, device: Device = .cpu) -> NonLocalBayes {
        var nlb = NonLocalBayes(sigma: sigma)
        if device != .cpu { nlb.batchSize = Self.gpuBayesBatch }
        nlb.patchSize = searchOptions.patchSize
        nlb.windowSize = searchOptions.window
        nlb.temporalRadius = searchOptions.temporalRadius
        if let stride = searchOptions.queryStride { nlb.queryStride = stride }
        if let neighbours { nlb.neighbours = neighbours }
        if let batchSize { nlb.batchSize = batchSize }
        nlb.scales = scales
        return nlb
    }

    /// The noise level for `noisy`: the given one, or with --sigma auto the estimate, reported.
    func noiseLevel(of noisy: Tensor<Float>) throws -> Float {
        guard case .auto = sigma else { return sigma.value! }
        let estimate = try NoiseEstimate.sigma(of: noisy)
        print("estimated noise: sigma \(format(Double(estimate))) on the 0–255 scale")
        guard estimate > 0 else {
            throw ValidationError("--sigma auto estimated no noise in the video (sigma 0); give --sigma")
        }
        return estimate
    }

    /// The embedded default: the five variants side by side. Returns the best variant's video.
    @discardableResult
    private func runDefault(_ base: NonLocalMeans, device: Device, progress: Progress) throws -> Tensor<Float> {
        let clean = DefaultScene.video()
        let noisy = addNoise(clean, sigma: sigma.value ?? SigmaChoice.defaultSigma, seed: seed)
        var base = base
        base.sigma = try noiseLevel(of: noisy)
        let flows = DefaultScene.flows()
        let deviceFlows = Flows(forward: try flows.forward?.to(device), backward: try flows.backward?.to(device))
        try NPY.write(clean, to: output + "/clean.npy")
        try NPY.write(noisy, to: output + "/noisy.npy")
        try NPY.write(flows.forward!, to: output + "/forward_flow.npy")
        try NPY.write(flows.backward!, to: output + "/backward_flow.npy")

        var single = base; single.temporalRadius = 0; single.twoStep = false
        var temporal = base; temporal.twoStep = false
        var twoStep = base; twoStep.twoStep = true
        var bayes = NonLocalBayes(sigma: base.sigma)
        if device != .cpu { bayes.batchSize = Self.gpuBayesBatch }
        bayes.patchSize = base.patchSize; bayes.windowSize = base.windowSize; bayes.temporalRadius = base.temporalRadius
        bayes.scales = scales
        typealias Denoiser = (Tensor<Float>, Flows<Float>, (Int, Int) -> Void) throws(DNLSError) -> Tensor<Float>
        func nlm(_ d: NonLocalMeans) -> Denoiser { { (v, f, p) throws(DNLSError) in try d(v, flows: f, progress: p) } }
        let variants: [(String, String, Denoiser, Flows<Float>)] = [
            ("single frame (wt 0)", "single", nlm(single), .none),
            ("temporal, no flow", "temporal", nlm(temporal), .none),
            ("temporal, known flow", "temporal_flow", nlm(temporal), deviceFlows),
            ("two-step, known flow", "two_step_flow", nlm(twoStep), deviceFlows),
            ("non-local Bayes, two steps, known flow", "bayes_flow",
             { (v, f, p) throws(DNLSError) in try bayes(v, flows: f, progress: p) }, deviceFlows),
            // The flow estimated from the noisy video; its estimation counts in the time.
            ("non-local Bayes, two steps, estimated flow", "bayes_estimated",
             { (v, _, p) throws(DNLSError) in try bayes(v, flows: try FlowEstimation()(v), progress: p) }, .none),
        ]
        let before = psnr(noisy, clean)
        var rows: [[String]] = []
        var best: (name: String, psnr: Double, seconds: Double)?
        var bestVideo: Tensor<Float>?
        for (label, file, denoise, flows) in variants {
            let (out, seconds) = try timed {
                try denoise(noisy.to(device), flows) { progress.show("\(label): batch \($0) of \($1)") }.to(.cpu)
            }
            progress.clear()
            try NPY.write(out, to: "\(output)/denoised_\(file).npy")
            let after = psnr(out, clean)
            rows.append([label, format(after), format(after - before), format(seconds)])
            if best == nil || after > best!.psnr { best = (label, after, seconds); bestVideo = out }
        }
        let pictures = try writePictures(noisy: noisy, denoised: bestVideo!, clean: clean)
        print(renderTable([Column(title: "variant"), Column(title: "PSNR dB", rightAligned: true),
                           Column(title: "gain dB", rightAligned: true), Column(title: "seconds", rightAligned: true)], rows))
        print()
        print("default: \(DefaultScene.frames) frames, 3×\(DefaultScene.frameSide)×\(DefaultScene.frameSide), sigma \(format(Double(base.sigma)))\(sigma == .auto ? " (estimated)" : ""), "
            + "\(device): best \(best!.name), PSNR \(format(before)) → \(format(best!.psnr)) dB in \(format(best!.seconds)) s; "
            + "wrote \(output)/*.npy" + pictures)
        return bestVideo!
    }

    /// A video from `path` (--frames frames at most of a video file).
    private func readVideo(_ path: String, progress: Progress) throws -> (video: Tensor<Float>, framesPerSecond: Double?) {
        try readVideoInput(path, maxFrames: frames, progress: progress)
    }

    /// PNG frames of the denoised video and side-by-side pictures (noisy | denoised | clean when
    /// known), when the frames are gray or RGB; returns the words for the summary line.
    private func writePictures(noisy: Tensor<Float>, denoised: Tensor<Float>, clean: Tensor<Float>?) throws -> String {
        let shape = denoised.shape
        guard shape.count >= 4, [1, 3].contains(shape[shape.count - 3]) else { return "" }
        let frames = try ImageIO.writeFrames(denoised, folder: output, prefix: "denoised")
        var videos = [noisy, denoised]
        if let clean, clean.shape == shape { videos.append(clean) }
        try ImageIO.writeStrips(videos, folder: output, prefix: "compare")
        let last = frames.count - 1
        return ", denoised_000…\(pad3(last)).png and compare_000…\(pad3(last)).png ("
            + (videos.count == 3 ? "noisy | denoised | clean" : "noisy | denoised") + ")"
    }

    private func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let clock = ContinuousClock()
        var result: T?
        let elapsed = try clock.measure { result = try body() }
        return (result!, elapsed.milliseconds / 1000)
    }
}

/// `clean` plus seeded Gaussian noise of `sigma` (Box–Muller on SplitMix64), not clipped.
func addNoise(_ clean: Tensor<Float>, sigma: Float, seed: UInt64) -> Tensor<Float> {
    var rng = SplitMix64(seed: seed)
    let values = clean.scalars.map { v -> Float in
        let a = Double.random(in: Double.ulpOfOne..<1, using: &rng), b = Double.random(in: 0..<1, using: &rng)
        return v + sigma * Float((-2 * log(a)).squareRoot() * cos(2 * Double.pi * b))
    }
    return try! Tensor(shape: clean.shape, scalars: values)
}

/// Peak signal-to-noise ratio on the 0–255 scale.
func psnr(_ a: Tensor<Float>, _ b: Tensor<Float>) -> Double {
    let mse = zip(a.scalars, b.scalars).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(max(1, a.count))
    return 10 * log10(255 * 255 / mse)
}

func describe(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "×") }

func format(_ x: Double) -> String {
    let scaled = (x * 100).rounded() / 100
    return "\(scaled)"
}

/// Checks, before any work and without writing anything, that the output folder can be used: it
/// is a writable folder, or the nearest existing folder above it is writable (so it can be made).
/// - Throws: a `ValidationError` naming `--output` (a usage error) when it is empty, is a file,
///   lies under a file, or cannot be written or created.
func checkOutputFolder(_ path: String) throws {
    guard !path.isEmpty else { throw ValidationError("--output is empty: name a folder for the results") }
    var candidate = path
    while true {
        var info = stat()
        if stat(candidate, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw ValidationError(candidate == path ? "--output \(path) exists and is not a folder"
                                                        : "--output \(path): \(candidate) is a file, not a folder")
            }
            guard access(candidate, W_OK | X_OK) == 0 else {
                throw ValidationError("--output \(path): \(candidate) is not writable: \(String(cString: strerror(errno)))")
            }
            return
        }
        guard errno == ENOENT else {
            throw ValidationError("--output \(path): cannot look at \(candidate): \(String(cString: strerror(errno)))")
        }
        // The parent of `candidate`: what stands before its last component.
        let trimmed = candidate.hasSuffix("/") ? String(candidate.dropLast()) : candidate
        guard let slash = trimmed.lastIndex(of: "/") else { candidate = "."; continue }
        candidate = slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }
}

/// Creates the output folder (and its parents) if missing, once the work is done and the results
/// are about to be written.
/// - Throws: a `ValidationError` naming `--output` when it cannot be created or is not a folder.
func prepareOutputFolder(_ path: String) throws {
    try checkOutputFolder(path)
    var prefix = path.hasPrefix("/") ? "" : "."
    for component in path.split(separator: "/") {
        prefix += "/" + component
        if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
            throw ValidationError("--output \(path): cannot create \(prefix): \(String(cString: strerror(errno)))")
        }
    }
    var info = stat()
    guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
        throw ValidationError("--output \(path) exists and is not a folder")
    }
    guard access(path, W_OK | X_OK) == 0 else {
        throw ValidationError("--output \(path): the folder is not writable: \(String(cString: strerror(errno)))")
    }
}

/// `--forward-flow` and `--backward-flow` come together: one alone would silently mean a zero flow
/// the other way.
func requireFlowPair(forward: String?, backward: String?) throws {
    guard (forward == nil) == (backward == nil) else {
        throw ValidationError(forward == nil ? "--backward-flow needs --forward-flow as well (a zero flow is an array of zeros)"
                                             : "--forward-flow needs --backward-flow as well (a zero flow is an array of zeros)")
    }
}

/// An input video must hold numbers: NaN or infinity would spread through every patch that reads it.
/// - Throws: ``DNLSError/nonFinite(argument:position:)`` naming the file and the first bad position.
func requireFiniteVideo(_ video: Tensor<Float>, path: String) throws {
    if let first = video.scalars.firstIndex(where: { !$0.isFinite }) {
        var position: [Int] = [], rest = first
        for extent in video.shape.reversed() { position.insert(rest % extent, at: 0); rest /= extent }
        throw DNLSError.nonFinite(argument: path, position: position)
    }
}

/// `n` with at least three digits, like `%03d`.
func pad3(_ n: Int) -> String {
    let digits = "\(n)"
    return String(repeating: "0", count: max(0, 3 - digits.count)) + digits
}

/// Creates a folder (and its parents) if missing, ignoring failures (for tests and scratch folders;
/// commands use ``prepareOutputFolder(_:)``).
func makeDirectory(_ path: String) {
    _ = try? prepareOutputFolder(path)
}

/// `dnls denoise --flow`: where the flow comes from when no flow files are given.
enum FlowChoice: String, ExpressibleByArgument, CaseIterable, Sendable {
    case estimate, none
}

/// The methods of `dnls denoise --input`.
enum DenoiseMethod: String, ExpressibleByArgument, CaseIterable, Sendable {
    case nlb, nlm

    /// How the summary line names it.
    var title: String { self == .nlb ? "non-local Bayes" : "non-local means" }
}
