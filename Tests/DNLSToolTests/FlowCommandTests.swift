import ArgumentParser
@testable import dnls
import DNLS
import DNLSImageIO
import DNLSTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `dnls flow` writes the library's flow estimate and its pictures; `dnls denoise --flow` chooses
/// between the estimate and no flow; the flow pictures follow the colour wheel.
@Suite(.serialized) struct FlowCommandTests {
    /// A texture of seeded waves moving (2, −1) pixels a frame, `(T, 1, H, W)`.
    static func movingClip(frames T: Int = 3, height H: Int = 32, width W: Int = 36) throws -> Tensor<Float> {
        var rng = SplitMix64(seed: 21)
        let waves = (0..<10).map { _ in (rng.uniform(0.2, 0.9), rng.uniform(0, 2 * Double.pi), rng.uniform(0, 2 * Double.pi)) }
        var values: [Float] = []
        for t in 0..<T {
            for y in 0..<H {
                for x in 0..<W {
                    let (u, v) = (Double(x - 2 * t), Double(y + t))
                    values.append(Float(125 + waves.reduce(0) { $0 + 18 * sin($1.0 * (cos($1.1) * u + sin($1.1) * v) + $1.2) }))
                }
            }
        }
        return try Tensor(shape: [T, 1, H, W], scalars: values)
    }

    @Test func flowWritesTheLibrarysEstimateAndItsPictures() throws {
        let folder = "/tmp/dnls-flow-command-\(getpid())"
        makeDirectory(folder)
        let names = ["clip.npy", "out/forward_flow.npy", "out/backward_flow.npy"] + (0..<3).map { "out/flow_00\($0).png" }
        defer {
            for name in names { unlink(folder + "/" + name) }
            rmdir(folder + "/out"); rmdir(folder)
        }
        let clip = try Self.movingClip()
        try NPY.write(clip, to: folder + "/clip.npy")
        try FlowCommand.parse([folder + "/clip.npy", "--radius", "2", "--median-radius", "1", "--device", "cpu",
                               "--output", folder + "/out"]).run()
        var estimator = FlowEstimation()
        estimator.radius = 2
        estimator.medianRadius = 1
        let expected = try estimator(clip)
        let forward = try NPY.read(folder + "/out/forward_flow.npy").floatTensor()
        let backward = try NPY.read(folder + "/out/backward_flow.npy").floatTensor()
        #expect(forward == expected.forward! && backward == expected.backward!)
        #expect(forward.shape == [3, 2, 32, 36])
        // The motion itself, in the middle of the first frame.
        #expect(forward.scalars[(0 * 32 + 16) * 36 + 18] == 2 && forward.scalars[((1) * 32 + 16) * 36 + 18] == -1)
        for t in 0..<3 {
            let picture = try ImageIO.read(folder + "/out/flow_00\(t).png")
            #expect(picture.shape == [3, 32, 36], "frame \(t)")
        }
    }

    @Test func flowRefusesBadOptionsAndFilesBeforeAnyWork() throws {
        let folder = "/tmp/dnls-flow-refusals-\(getpid())"
        makeDirectory(folder)
        defer { unlink(folder + "/clip.npy"); rmdir(folder + "/out"); rmdir(folder) }
        try NPY.write(try Self.movingClip(frames: 2, height: 16, width: 16), to: folder + "/clip.npy")
        let clip = folder + "/clip.npy", out = ["--output", folder + "/out"]
        #expect(throws: ExitCode(64)) { try FlowCommand.parse([clip, "--radius=-1"] + out).run() }
        #expect(throws: ExitCode(64)) { try FlowCommand.parse([clip, "--prefilter", "nan"] + out).run() }
        #expect(throws: ExitCode(65)) { try FlowCommand.parse([folder + "/missing.npy"] + out).run() }
        #expect(throws: (any Error).self) { try FlowCommand.parse([clip, "--frames", "2"] + out).run() }
        #expect(access(folder + "/out", F_OK) != 0)  // nothing was written
    }

    @Test func denoiseFlowChoicesAreChecked() throws {
        for arguments in [["--flow", "none"], ["--flow", "estimate", "--input", "v.npy", "--forward-flow", "f.npy", "--backward-flow", "b.npy"]] {
            #expect(throws: (any Error).self, "\(arguments)") { try DenoiseCommand.parse(arguments + ["--output", "/tmp/dnls-unused"]).run() }
        }
        #expect(try DenoiseCommand.parse(["--input", "v.npy"]).flow == nil)
        #expect(try DenoiseCommand.parse(["--input", "v.npy", "--flow", "none"]).flow == FlowChoice.none)
        #expect(throws: (any Error).self) { _ = try DenoiseCommand.parse(["--input", "v.npy", "--flow", "given"]) }
    }

    @Test func flowPicturesFollowTheColourWheel() throws {
        // (dx, dy) per pixel: none, right at the longest, left at the longest, down at half of it.
        let flow = try Tensor<Float>(shape: [1, 2, 1, 4], scalars: [0, 4, -4, 0, 0, 0, 0, 2])
        let picture = try flowPicture(flow, longest: 4)
        #expect(picture.shape == [1, 3, 1, 4])
        let rgb = (0..<4).map { i in (0..<3).map { (picture.scalars[$0 * 4 + i] * 2).rounded() / 2 } }
        #expect(rgb[0] == [255, 255, 255])          // no motion: white
        #expect(rgb[1] == [255, 0, 0])              // right: red
        #expect(rgb[2] == [0, 255, 255])            // left: cyan
        #expect(rgb[3][0] < 255 && rgb[3][1] == 255 && rgb[3][2] == 127.5)  // down, half saturated: green-yellow, pale
        let lengths = try displacementLengths(flow)
        #expect(lengths.longest == 4 && abs(lengths.mean - 2.5) < 1e-6)
    }
}
