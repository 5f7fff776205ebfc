import ArgumentParser
import DNLS
import DNLSImageIO
#if canImport(Glibc)
import Glibc
#endif

/// `dnls flow`: the forward and backward optical flow of a video, estimated by coarse-to-fine
/// patch search, as `.npy` arrays and colour pictures.
struct FlowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flow",
        abstract: "Estimate the forward and backward optical flow of a video by coarse-to-fine patch search.",
        discussion: """
            Each frame is smoothed (--prefilter) and halved into a pyramid (--levels); from the \
            coarsest level to the finest, every pixel takes the displacement of its best-matching \
            patch (--patch-size, L2) in the next frame (forward) and the previous one (backward), \
            among the offsets within --radius of the pixel itself and of where the coarser level's \
            flow leads; a median filter (--median-radius) then removes isolated mismatches. The \
            flows are whole pixels, as the searches use them. Writes forward_flow.npy and \
            backward_flow.npy ((T, 2, H, W), or (B, T, 2, H, W) for a batch: channel 0 moves x, \
            channel 1 moves y; the last frame's forward and the first frame's backward flow are \
            zero) and flow_%03d.png, the forward flow in colour (the hue gives the direction, the \
            saturation the length against the longest; white: no motion). The input is a (T, C, H, W) \
            or (B, T, C, H, W) .npy array, a folder of PNG/JPEG frames, or a video file ffmpeg reads.
            """)

    @Argument(help: "The video (.npy, a folder of PNG/JPEG frames, or a video file ffmpeg reads).")
    var input: String

    @Option(help: "Frames read from the start of a video file (default: all).")
    var frames: Int?

    @Option(help: "Patch side of the matching.")
    var patchSize = FlowEstimation().patchSize

    @Option(help: "Offsets searched on each side of each centre at every level.")
    var radius = FlowEstimation().radius

    @Option(help: "Pyramid levels, 1 for the frames alone (default: halve while 16 pixels a side remain, at most 5).")
    var levels: Int?

    @Option(help: "Standard deviation in pixels of the Gaussian pre-filter (0: none).")
    var prefilter = FlowEstimation().prefilter

    @Option(help: "Radius of the median filter after each level (0: none).")
    var medianRadius = FlowEstimation().medianRadius

    @Option(help: "Queries per search call.")
    var batchSize = FlowEstimation().batchSize

    @OptionGroup var placement: DeviceOptions

    @Option(help: "Folder for the results.")
    var output = "dnls-out"

    /// The estimator the options describe.
    var estimator: FlowEstimation {
        var estimator = FlowEstimation()
        estimator.patchSize = patchSize
        estimator.radius = radius
        estimator.levels = levels
        estimator.prefilter = prefilter
        estimator.medianRadius = medianRadius
        estimator.batchSize = batchSize
        return estimator
    }

    var flagNames: FlagNames {
        FlagNames(names: ["patchSize": "--patch-size", "radius": "--radius", "levels": "--levels", "prefilter": "--prefilter",
                          "medianRadius": "--median-radius", "batchSize": "--batch-size", "video": input],
                  inputs: ["video"])
    }

    func run() throws {
        try reportingErrors(flagNames) { try estimate() }
    }

    /// Everything is read and checked before the work, so that a failure writes nothing.
    private func estimate() throws {
        if let frames, frames < 1 { throw ValidationError("--frames must be at least 1, got \(frames)") }
        if frames != nil && !FFmpeg.isVideoFile(input) { throw ValidationError("--frames applies to a video file") }
        let estimator = self.estimator
        try estimator.validate()
        let target = try placement.resolve(for: Self.self)
        let progress = Progress(enabled: isatty(2) != 0)
        let video = try readVideoInput(input, maxFrames: frames, progress: progress).video
        guard video.rank == 4 || video.rank == 5 else {
            throw DNLSError.shapeMismatch(argument: input, expected: "(T, C, H, W) or (B, T, C, H, W)", actual: video.shape)
        }
        try requireFiniteVideo(video, path: input)
        try checkOutputFolder(output)
        let clock = ContinuousClock(), start = clock.now
        let flows = try estimator(video.to(target)) { progress.show("estimating the flow: search \($0) of \($1)") }
        let seconds = (clock.now - start).milliseconds / 1000
        progress.clear()
        let forward = try flows.forward!.to(.cpu), backward = try flows.backward!.to(.cpu)
        try prepareOutputFolder(output)
        try NPY.write(forward, to: output + "/forward_flow.npy")
        try NPY.write(backward, to: output + "/backward_flow.npy")
        let (mean, longest) = try displacementLengths(forward)
        let pictures = try ImageIO.writeFrames(try flowPicture(forward, longest: max(longest, 1)), folder: output, prefix: "flow")
        let shape = video.shape, H = shape[shape.count - 2], W = shape[shape.count - 1]
        print("estimated the flows of \(describe(shape)) in \(format(seconds)) s on \(target) "
            + "(\(estimator.levelCount(height: H, width: W)) levels): mean forward displacement "
            + "\(format(Double(mean))) px, longest \(format(Double(longest))) px; wrote "
            + "\(output)/forward_flow.npy, \(output)/backward_flow.npy and flow_000…\(pad3(pictures.count - 1)).png")
    }
}
