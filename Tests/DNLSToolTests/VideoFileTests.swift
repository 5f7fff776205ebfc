import ArgumentParser
import DNLS
import DNLSImageIO
import Testing
@testable import dnls
#if canImport(Glibc)
import Glibc
#endif

private let ffmpeg = Subprocess.locate("ffmpeg")

/// The library error `body` throws, if it throws one.
private func libraryError(_ body: () throws -> Void) -> DNLSError? {
    do {
        try body()
        return nil
    } catch {
        return error as? DNLSError
    }
}

/// Video files through ffmpeg: the PPM stream ffmpeg decodes to, the frame rate it reports, the
/// error without ffmpeg, and `dnls denoise --input clip --output-video` end to end where ffmpeg is
/// installed. Serialized: one test swaps the program looked for.
@Suite(.serialized) struct VideoFileTests {
    @Test func videoFilesAreToldByTheirExtension() {
        for path in ["clip.mp4", "a/b.MKV", "x.webm", "y.mov", "z.avi", "t.y4m"] { #expect(FFmpeg.isVideoFile(path), "\(path)") }
        for path in ["video.npy", "frames", "frames.d/", "mp4", "a.mp4/b", "pic.png"] { #expect(!FFmpeg.isVideoFile(path), "\(path)") }
    }

    /// Two 2×1 RGB frames, as ffmpeg's `image2pipe` of PPM pictures writes them.
    private func ppm(_ width: Int, _ height: Int, _ samples: [UInt8], maxval: Int = 255) -> [UInt8] {
        Array("P6\n\(width) \(height)\n\(maxval)\n".utf8) + samples
    }

    @Test func ppmStreamsBecomePlanarFrames() throws {
        let stream = ppm(2, 1, [1, 2, 3, 4, 5, 6]) + ppm(2, 1, [7, 8, 9, 10, 11, 12])
        let video = try FFmpeg.parsePPMStream(stream, path: "s")
        #expect(video.shape == [2, 3, 1, 2])
        // Interleaved RGB becomes (C, H, W) planes per frame.
        #expect(video.scalars == [1, 4, 2, 5, 3, 6, 7, 10, 8, 11, 9, 12])
        // A header's fields may be separated by any white space.
        let spaced = Array("P6 2\t1\r\n255\n".utf8) + [1, 2, 3, 4, 5, 6]
        #expect(try FFmpeg.parsePPMStream(spaced, path: "s").scalars == [1, 4, 2, 5, 3, 6])
    }

    @Test func malformedPPMStreamsAreFileFormatErrors() {
        let cases: [([UInt8], String)] = [
            ([], "no video frames"),
            (ppm(2, 1, [1, 2, 3, 4, 5, 6]) + ppm(1, 1, [1, 2, 3]), "every frame of a video must have the same size"),
            (ppm(2, 1, [1, 2, 3]), "ended inside frame 0"),
            (Array("P5\n2 1\n255\n".utf8) + [1, 2], "not a PPM stream"),
            (ppm(1, 1, [0, 1, 0, 2, 0, 3], maxval: 65535), "not 8-bit RGB"),
        ]
        for (bytes, words) in cases {
            let error = libraryError { _ = try FFmpeg.parsePPMStream(bytes, path: "stream") }
            guard case let .fileFormat(path, reason)? = error else { Issue.record("\(String(describing: error)) for \(words)"); continue }
            #expect(path == "stream" && reason.contains(words), "\(reason)")
        }
    }

    @Test func frameRateIsReadFromFFmpegsStreamDescription() {
        let log = """
            Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'clip.mp4':
              Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p, 64x48, 12 kb/s, 29.97 fps, 29.97 tbr, 30k tbn
            """
        #expect(FFmpeg.frameRate(in: log) == 29.97)
        #expect(FFmpeg.frameRate(in: "Stream #0:0: Audio: aac, 44100 Hz, 12 fps") == nil)
        #expect(FFmpeg.frameRate(in: "") == nil)
    }

    @Test func withoutFFmpegAVideoFileIsAClearInputError() throws {
        let folder = "/tmp/dnls-video-missing-\(getpid())"
        makeDirectory(folder)
        defer { unlink(folder + "/clip.mp4"); rmdir(folder) }
        let file = fopen(folder + "/clip.mp4", "w")
        fclose(file)
        FFmpeg.programOverride = "dnls-test-no-such-program"
        defer { FFmpeg.programOverride = nil }
        let error = libraryError { _ = try FFmpeg.read(folder + "/clip.mp4") }
        guard case let .fileAccess(path, reason)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(path == folder + "/clip.mp4")
        #expect(reason.contains("needs the `dnls-test-no-such-program` program, which is not on the PATH"), "\(reason)")
        #expect(reason.contains("PNG or JPEG") && reason.contains(".npy"), "\(reason)")
        // Through the tool: an input error (65), and nothing written.
        let command = try DenoiseCommand.parse(["--input", folder + "/clip.mp4", "--output", folder + "/out"])
        #expect(throws: ExitCode(65)) { try command.run() }
        #expect(!ImageIO.isDirectory(folder + "/out"))
        // The default's --output-video is refused before the work starts, not after it.
        let video = try DenoiseCommand.parse(["--output", folder + "/out", "--output-video", folder + "/out.mp4"])
        #expect(throws: ExitCode(65)) { try video.run() }
        #expect(!ImageIO.isDirectory(folder + "/out"))
    }

    @Test func videoOptionsAreChecked() throws {
        for arguments in [["--output-video", "denoised.npy"], ["--frames", "0", "--input", "a.mp4"], ["--frames", "3"],
                          ["--frames", "3", "--input", "video.npy"], ["--fps", "0"], ["--fps", "nan"], ["--fps", "5000"]] {
            let command = try DenoiseCommand.parse(arguments + ["--output", "/tmp/dnls-video-options-\(getpid())"])
            #expect(throws: ValidationError.self, "\(arguments)") { try command.run() }
        }
    }

    @Test(.enabled(if: ffmpeg != nil, "ffmpeg is not on the PATH: video files are not tried"))
    func denoiseReadsAndWritesVideoFiles() throws {
        let folder = "/tmp/dnls-video-\(getpid())"
        makeDirectory(folder)
        defer { _ = try? Subprocess.run("/bin/rm", ["rm", "-rf", folder], path: folder) }
        let clip = folder + "/clip.mp4", output = folder + "/out", written = folder + "/denoised.mkv"
        // Six frames of ffmpeg's test pattern, 64×48 at 10 frames per second.
        let made = try Subprocess.run(ffmpeg!, ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10",
                                                "-frames:v", "6", "-pix_fmt", "yuv420p", clip], path: clip)
        #expect(made.status == 0, "\(String(decoding: made.errors, as: UTF8.self))")
        let source = try FFmpeg.read(clip)
        #expect(source.frames.shape == [6, 3, 48, 64] && source.framesPerSecond == 10)
        #expect(source.frames.scalars.allSatisfy { $0 >= 0 && $0 <= 255 })
        let first = try FFmpeg.read(clip, maxFrames: 3)
        #expect(first.frames.shape == [3, 3, 48, 64])
        #expect(Array(first.frames.scalars) == Array(source.frames.scalars.prefix(first.frames.count)))

        let command = try DenoiseCommand.parse(["--input", clip, "--frames", "3", "--sigma", "10", "--patch-size", "3",
                                               "--window", "5", "--device", "cpu", "--output", output,
                                               "--output-video", written])
        try command.run()
        let denoised = try NPY.read(output + "/denoised.npy").floatTensor()
        #expect(denoised.shape == [3, 3, 48, 64])
        // The video file holds the same frames up to the codec's loss, at the input's frame rate.
        let back = try FFmpeg.read(written)
        #expect(back.frames.shape == [3, 3, 48, 64] && back.framesPerSecond == 10)
        let clipped = denoised.scalars.map { min(255, max(0, $0.rounded())) }
        let meanError = zip(back.frames.scalars, clipped).reduce(0) { $0 + abs($1.0 - $1.1) } / Float(clipped.count)
        #expect(meanError < 8, "mean absolute difference \(meanError)")
        // A file ffmpeg cannot read is an input error naming it.
        let bad = folder + "/bad.mp4"
        let file = fopen(bad, "w")
        fputs("not a video", file)
        fclose(file)
        let error = libraryError { _ = try FFmpeg.read(bad) }
        guard case let .fileFormat(path, reason)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(path == bad && reason.contains("ffmpeg could not read it as a video"), "\(reason)")
    }
}
