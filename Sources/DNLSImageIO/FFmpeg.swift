@_spi(FileIO) import DNLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Video files (MP4, MKV, MOV, WebM, AVI, …) for the `dnls` tool, read and written through an
/// `ffmpeg` program found on the `PATH` (nothing is linked: without `ffmpeg` only these files are
/// unavailable, with an error that says so). Frames are decoded to 8-bit RGB, `(T, 3, H, W)`
/// tensors with values 0–255 as PNG frames give, and encoded from gray or RGB frames, clamped to
/// 0–255 and rounded.
package enum FFmpeg {
    /// File extensions taken for video files (case-insensitive).
    package static let videoExtensions: Set<String> = ["mp4", "m4v", "mkv", "mov", "webm", "avi", "mpg", "mpeg", "ts",
                                                       "flv", "wmv", "ogv", "3gp", "gif", "y4m"]
    /// The most samples (frames × 3 × height × width) a video read may hold: 2^30 (a 4 GiB tensor).
    package static let maxSamples = 1 << 30
    /// The name of the program looked for on the `PATH` (``programOverride`` replaces it, for tests).
    package static let programName = "ffmpeg"
    /// When set, the program run instead of `ffmpeg` from the `PATH` (tests set a missing one).
    nonisolated(unsafe) package static var programOverride: String?

    /// Whether `path` names a video file by its extension.
    package static func isVideoFile(_ path: String) -> Bool {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return false }
        return videoExtensions.contains(path[path.index(after: dot)...].lowercased())
    }

    /// The `ffmpeg` executable, or a `fileAccess` error naming `path` that says how to do without.
    package static func program(for path: String) throws(DNLSError) -> String {
        if let found = Subprocess.locate(programOverride ?? programName) { return found }
        throw .fileAccess(path: path, reason: "reading and writing video files needs the `\(programOverride ?? programName)` "
            + "program, which is not on the PATH: install ffmpeg (e.g. `apt-get install ffmpeg`), or give the frames "
            + "as a folder of PNG or JPEG files or as a .npy file")
    }

    /// A decoded video: its frames and, when the file tells, its frame rate.
    package struct Video {
        package var frames: Tensor<Float>
        package var framesPerSecond: Double?
    }

    /// Reads the first `maxFrames` frames (all when nil) of the video file at `path` as a
    /// `(T, 3, H, W)` tensor, values 0–255; `progress` is called with the frames decoded so far.
    package static func read(_ path: String, maxFrames: Int? = nil,
                             progress: (Int) -> Void = { _ in }) throws(DNLSError) -> Video {
        let (file, _) = try NPY.openRegularFile(path)  // a missing or unreadable file: the usual error
        fclose(file)
        let ffmpeg = try program(for: path)
        var arguments = [ffmpeg, "-nostdin", "-hide_banner", "-v", "info", "-i", path]
        if let maxFrames { arguments += ["-frames:v", "\(max(1, maxFrames))"] }
        arguments += ["-map", "0:v:0", "-f", "image2pipe", "-vcodec", "ppm", "-"]
        var frameBytes = 0  // of one frame with its header, once the first header has arrived
        let run = try Subprocess.run(ffmpeg, arguments, path: path) { output in
            if frameBytes == 0, output.count >= 64, let header = try? ppmHeader(output, at: 0, path: path) {
                frameBytes = header.start + header.width * header.height * 3
            }
            if frameBytes > 0 { progress(output.count / frameBytes) }
        }
        let log = String(decoding: run.errors, as: UTF8.self)
        guard run.status == 0 else {
            throw .fileFormat(path: path, reason: "ffmpeg could not read it as a video (\(exitWords(run))): \(lastLines(log))")
        }
        let frames = try parsePPMStream(run.output, path: path)
        return Video(frames: frames, framesPerSecond: frameRate(in: log))
    }

    /// Writes a `(T, C, H, W)` video (C = 1 or 3) to the video file `path` at `framesPerSecond`, in
    /// the format its extension names (H.264 in yuv420p for MP4, MOV and MKV of even sizes).
    package static func write(_ video: Tensor<Float>, to path: String, framesPerSecond: Double) throws(DNLSError) {
        let shape = video.shape
        guard shape.count == 4, shape[1] == 1 || shape[1] == 3, shape[0] > 0, shape[2] > 0, shape[3] > 0 else {
            throw .invalidArgument(argument: "video", expected: "a (T, C, H, W) video with C = 1 or 3", actual: "shape \(shape)")
        }
        guard framesPerSecond.isFinite, framesPerSecond > 0 else {
            throw .invalidArgument(argument: "framesPerSecond", expected: "a positive frame rate", actual: "\(framesPerSecond)")
        }
        let ffmpeg = try program(for: path)
        let (frames, channels, height, width) = (shape[0], shape[1], shape[2], shape[3])
        let values = try video.to(.cpu).scalars
        var bytes = [UInt8](repeating: 0, count: frames * height * width * 3)
        let plane = height * width
        for t in 0..<frames {
            for p in 0..<plane {
                for c in 0..<3 {
                    let v = values[(t * channels + (channels == 1 ? 0 : c)) * plane + p]
                    bytes[(t * plane + p) * 3 + c] = UInt8(v.isNaN ? 0 : min(255, max(0, v.rounded())))
                }
            }
        }
        var arguments = [ffmpeg, "-hide_banner", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
                         "-s", "\(width)x\(height)", "-r", "\(framesPerSecond)", "-i", "-"]
        let ext = path.split(separator: ".").last.map { $0.lowercased() } ?? ""
        if ["mp4", "m4v", "mov", "mkv"].contains(ext) && width % 2 == 0 && height % 2 == 0 {
            arguments += ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "18"]
        }
        arguments.append(path)
        let run = try Subprocess.run(ffmpeg, arguments, input: bytes, path: path)
        guard run.status == 0 else {
            throw .fileAccess(path: path, reason: "ffmpeg could not write the video (\(exitWords(run))): "
                + lastLines(String(decoding: run.errors, as: UTF8.self)))
        }
    }

    // MARK: - The PPM stream

    /// Frames of a stream of binary PPM (P6, maxval 255) pictures, all of one size.
    package static func parsePPMStream(_ data: [UInt8], path: String) throws(DNLSError) -> Tensor<Float> {
        var at = 0
        var size: (width: Int, height: Int)?
        var values: [Float] = []
        var count = 0
        while at < data.count {
            let header = try ppmHeader(data, at: at, path: path)
            if let size, size != (header.width, header.height) {
                throw .fileFormat(path: path, reason: "frame \(count) is \(header.width)×\(header.height), but frame 0 is "
                    + "\(size.width)×\(size.height); every frame of a video must have the same size")
            }
            size = (header.width, header.height)
            let samples = header.width * header.height * 3
            guard (count + 1) * samples <= maxSamples else {
                throw .fileFormat(path: path, reason: "the video holds more than \(maxSamples) samples; read fewer frames")
            }
            guard header.start + samples <= data.count else {
                throw .fileFormat(path: path, reason: "ffmpeg's output ended inside frame \(count)")
            }
            if values.isEmpty { values.reserveCapacity(samples * max(1, data.count / (samples + header.start - at))) }
            let plane = header.width * header.height
            var frame = [Float](repeating: 0, count: samples)
            for p in 0..<plane {
                for c in 0..<3 { frame[c * plane + p] = Float(data[header.start + p * 3 + c]) }
            }
            values += frame
            count += 1
            at = header.start + samples
        }
        guard let size else { throw .fileFormat(path: path, reason: "the file holds no video frames") }
        return try Tensor(shape: [count, 3, size.height, size.width], scalars: values)
    }

    /// The header of the PPM picture at `at`: its size and where its samples start.
    package static func ppmHeader(_ data: [UInt8], at start: Int, path: String) throws(DNLSError) -> (width: Int, height: Int, start: Int) {
        var i = start
        func field() throws(DNLSError) -> Int {
            while i < data.count, [0x20, 0x0A, 0x0D, 0x09].contains(data[i]) { i += 1 }
            var value = 0, digits = 0
            while i < data.count, data[i] >= 0x30, data[i] <= 0x39, digits < 9 {
                value = value * 10 + Int(data[i] - 0x30); i += 1; digits += 1
            }
            guard digits > 0 else { throw .fileFormat(path: path, reason: "ffmpeg's output is not a PPM stream") }
            return value
        }
        guard i + 2 <= data.count, data[i] == 0x50, data[i + 1] == 0x36 else {
            throw .fileFormat(path: path, reason: "ffmpeg's output is not a PPM stream")
        }
        i += 2
        let width = try field(), height = try field(), maxval = try field()
        guard maxval == 255, width > 0, height > 0, i < data.count else {
            throw .fileFormat(path: path, reason: "ffmpeg's frames are not 8-bit RGB (PPM maxval \(maxval))")
        }
        return (width, height, i + 1)  // one whitespace byte ends the header
    }

    /// The frame rate in ffmpeg's description of the first video stream ("…, 25 fps, …").
    package static func frameRate(in log: String) -> Double? {
        for line in log.split(separator: "\n") where line.contains("Video:") {
            // The word before "fps": "…, 29.97 fps, …".
            let words = line.split(whereSeparator: { $0 == " " || $0 == "," })
            for (i, word) in words.enumerated() where word == "fps" && i > 0 {
                if let value = Double(words[i - 1]), value > 0, value.isFinite { return value }
            }
        }
        return nil
    }

    private static func exitWords(_ run: Subprocess.Result) -> String {
        if let signal = run.signal { return "ended by signal \(signal)" }
        return "exit status \(run.status ?? -1)"
    }

    /// The last few lines of ffmpeg's messages, for an error.
    private static func lastLines(_ log: String) -> String {
        let lines = log.split(separator: "\n").map { $0.drop(while: { $0 == " " || $0 == "\r" }) }.filter { !$0.isEmpty }
        let tail = lines.suffix(3).joined(separator: "; ")
        return tail.isEmpty ? "no message" : tail
    }
}
