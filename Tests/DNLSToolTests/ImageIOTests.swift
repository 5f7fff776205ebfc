import CImageCodecs
import DNLS
import DNLSImageIO
import Testing
@testable import dnls
#if canImport(Glibc)
import Glibc
#endif

/// PNG and JPEG frames: round trips, 16-bit and corrupt files, folders of frames, and `dnls denoise`
/// on a folder.
@Suite struct ImageIOTests {
    /// A fresh folder under /tmp, removed with everything in it by `remove`.
    final class Folder {
        let path: String
        init(_ name: String) {
            path = "/tmp/dnls-image-test-\(name)-\(getpid())"
            remove()
            makeDirectory(path)
        }
        func remove() {
            for name in listing(path) { unlink(path + "/" + name) }
            rmdir(path)
        }
        deinit { remove() }
        var entries: [String] { listing(path).sorted() }
    }

    /// Interleaved 8-bit pixels of a (C, H, W) tensor (values assumed 0–255 integers).
    static func interleaved(_ t: Tensor<Float>) -> [UInt8] {
        let (c, h, w) = (t.shape[0], t.shape[1], t.shape[2])
        var out = [UInt8](repeating: 0, count: c * h * w)
        for y in 0..<h { for x in 0..<w { for k in 0..<c { out[(y * w + x) * c + k] = UInt8(t[k, y, x]) } } }
        return out
    }

    static func picture(channels: Int, height: Int, width: Int, seed: Int = 0) -> Tensor<Float> {
        var values: [Float] = []
        for c in 0..<channels {
            for y in 0..<height { for x in 0..<width { values.append(Float((37 * x + 91 * y + 53 * c + 17 * seed) % 256)) } }
        }
        return try! Tensor(shape: [channels, height, width], scalars: values)
    }

    /// A smooth picture (JPEG keeps it within a few levels).
    static func smooth(channels: Int, height: Int, width: Int) -> Tensor<Float> {
        var values: [Float] = []
        for c in 0..<channels {
            for y in 0..<height { for x in 0..<width { values.append(Float(40 + 4 * x + 3 * y + 30 * c)) } }
        }
        return try! Tensor(shape: [channels, height, width], scalars: values)
    }

    static func bytes(of path: String) -> [UInt8] {
        guard let file = fopen(path, "rb") else { return [] }
        defer { fclose(file) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n == 0 { break }
            out += buffer[..<n]
        }
        return out
    }

    static func write(_ bytes: [UInt8], to path: String) {
        let file = fopen(path, "wb")!
        _ = fwrite(bytes, 1, bytes.count, file)
        fclose(file)
    }

    static func writeJPEG(_ t: Tensor<Float>, to path: String, quality: Int32 = 95) {
        var message = [CChar](repeating: 0, count: 256)
        let status = dnls_jpeg_write(path, interleaved(t), Int32(t.shape[2]), Int32(t.shape[1]), Int32(t.shape[0]),
                                     quality, &message, message.count)
        precondition(status == 0)
    }

    @Test(arguments: [1, 3]) func pngRoundTrip(channels: Int) throws {
        let folder = Folder("png\(channels)")
        let picture = Self.picture(channels: channels, height: 5, width: 7)
        try ImageIO.writePNG(picture, to: folder.path + "/a.png")
        let back = try ImageIO.read(folder.path + "/a.png")
        #expect(back.shape == [channels, 5, 7])
        #expect(back.scalars == picture.scalars)
        #expect(folder.entries == ["a.png"])  // no temporary file left behind
    }

    @Test func pngWriteClampsAndRounds() throws {
        let folder = Folder("clamp")
        let t = try Tensor<Float>(shape: [1, 1, 5], scalars: [-20, 0.4, 127.6, 254.5, 900])
        try ImageIO.writePNG(t, to: folder.path + "/c.png")
        #expect(try ImageIO.read(folder.path + "/c.png").scalars == [0, 0, 128, 255, 255])
        #expect(throws: DNLSError.self) { try ImageIO.writePNG(Tensor<Float>(zeros: [2, 3, 3]), to: folder.path + "/x.png") }
        #expect(folder.entries == ["c.png"])
    }

    @Test func pngWithAlphaAndPaletteIsRead() throws {
        // A 2×1 RGBA PNG and a 2×1 palette PNG, made by hand (zlib stored blocks, valid CRCs).
        let folder = Folder("alpha")
        let rgba: [UInt8] = [10, 20, 30, 255, 200, 100, 50, 0]
        try writeRawPNG(folder.path + "/rgba.png", width: 2, height: 1, colorType: 6, row: rgba)
        let t = try ImageIO.read(folder.path + "/rgba.png")
        #expect(t.shape == [3, 1, 2])
        #expect(t.scalars == [10, 200, 20, 100, 30, 50])
        try writeRawPNG(folder.path + "/ga.png", width: 2, height: 1, colorType: 4, row: [77, 255, 99, 10])
        #expect(try ImageIO.read(folder.path + "/ga.png").scalars == [77, 99])
        try writeRawPNG(folder.path + "/pal.png", width: 2, height: 1, colorType: 3, row: [1, 0],
                        palette: [1, 2, 3, 250, 128, 7])
        let p = try ImageIO.read(folder.path + "/pal.png")
        #expect(p.shape == [3, 1, 2])
        #expect(p.scalars == [250, 1, 128, 2, 7, 3])
    }

    @Test func sixteenBitPNGIsRejected() throws {
        let folder = Folder("sixteen")
        var message = [CChar](repeating: 0, count: 256)
        let pixels: [UInt16] = (0..<12).map { UInt16($0 * 5000) }
        #expect(dnls_png_write_gray16(folder.path + "/g16.png", pixels, 4, 3, &message, message.count) == 0)
        #expect(throws: DNLSError.self) { try ImageIO.read(folder.path + "/g16.png") }
        var caught: DNLSError?
        do { _ = try ImageIO.read(folder.path + "/g16.png") } catch { caught = error }
        guard case let .fileFormat(path, reason)? = caught else {
            Issue.record("expected a fileFormat error, got \(String(describing: caught))")
            return
        }
        #expect(path.hasSuffix("g16.png"))
        #expect(reason.contains("16-bit"))
    }

    @Test(arguments: [1, 3]) func jpegIsRead(channels: Int) throws {
        let folder = Folder("jpeg\(channels)")
        let picture = Self.smooth(channels: channels, height: 5, width: 7)
        Self.writeJPEG(picture, to: folder.path + "/a.jpg")
        let back = try ImageIO.read(folder.path + "/a.jpg")
        #expect(back.shape == [channels, 5, 7])
        let worst = zip(back.scalars, picture.scalars).map { abs($0 - $1) }.max()!
        #expect(worst <= 8)
    }

    @Test func corruptAndTruncatedFilesAreRejected() throws {
        let folder = Folder("corrupt")
        let picture = Self.picture(channels: 3, height: 16, width: 16)
        try ImageIO.writePNG(picture, to: folder.path + "/good.png")
        Self.writeJPEG(Self.smooth(channels: 3, height: 16, width: 16), to: folder.path + "/good.jpg")
        let png = Self.bytes(of: folder.path + "/good.png"), jpeg = Self.bytes(of: folder.path + "/good.jpg")
        var flipped = png
        for i in 40..<min(flipped.count - 12, 60) { flipped[i] ^= 0x5A }  // inside the image data: CRC fails
        var cases: [(String, [UInt8])] = [
            ("trunc.png", Array(png.prefix(png.count / 2))),
            ("head.png", Array(png.prefix(20))),
            ("flip.png", flipped),
            ("trunc.jpg", Array(jpeg.prefix(jpeg.count / 2))),
            ("head.jpg", Array(jpeg.prefix(10))),
            ("empty.png", []),
            ("text.png", Array("hello, not a picture".utf8)),
        ]
        var garbled = jpeg
        for i in 2..<30 { garbled[i] = 0x00 }  // the markers after SOI
        cases.append(("garbled.jpg", garbled))
        for (name, content) in cases {
            Self.write(content, to: folder.path + "/" + name)
            var caught: DNLSError?
            do { _ = try ImageIO.read(folder.path + "/" + name) } catch { caught = error }
            guard case let .fileFormat(path, reason)? = caught else {
                Issue.record("\(name): expected a fileFormat error, got \(String(describing: caught))")
                continue
            }
            #expect(path.hasSuffix(name))
            #expect(!reason.isEmpty)
        }
        // A missing file is an access error.
        #expect(throws: DNLSError.fileAccess(path: folder.path + "/none.png",
                                             reason: "cannot open for reading: No such file or directory (errno 2)")) {
            try ImageIO.read(folder.path + "/none.png")
        }
        // A frame folder holding a corrupt frame fails as a whole.
        let frames = Folder("corrupt-frames")
        try ImageIO.writePNG(picture, to: frames.path + "/000.png")
        Self.write(Array(png.prefix(png.count / 2)), to: frames.path + "/001.png")
        #expect(throws: DNLSError.self) { try ImageIO.readFrames(folder: frames.path) }
    }

    @Test func writeFailureLeavesNothing() throws {
        let folder = Folder("nowrite")
        #expect(throws: DNLSError.self) {
            try ImageIO.writePNG(Self.picture(channels: 1, height: 2, width: 2), to: folder.path + "/missing/x.png")
        }
        #expect(folder.entries.isEmpty)
    }

    @Test func framesAreReadSortedByName() throws {
        let folder = Folder("frames")
        let pictures = (0..<3).map { Self.picture(channels: 3, height: 5, width: 7, seed: $0) }
        // Written out of order, read by name: b_00 < b_01 < b_10.
        try ImageIO.writePNG(pictures[2], to: folder.path + "/b_10.png")
        try ImageIO.writePNG(pictures[0], to: folder.path + "/b_00.png")
        try ImageIO.writePNG(pictures[1], to: folder.path + "/b_01.PNG")
        Self.write(Array("not a frame".utf8), to: folder.path + "/notes.txt")
        let video = try ImageIO.readFrames(folder: folder.path)
        #expect(video.shape == [3, 3, 5, 7])
        #expect(video.scalars == pictures.flatMap(\.scalars))
        let mixed = Folder("frames-jpeg")
        try ImageIO.writePNG(Self.smooth(channels: 3, height: 5, width: 7), to: mixed.path + "/0.png")
        Self.writeJPEG(Self.smooth(channels: 3, height: 5, width: 7), to: mixed.path + "/1.jpeg")
        #expect(try ImageIO.readFrames(folder: mixed.path).shape == [2, 3, 5, 7])
    }

    @Test func mismatchedFramesAreRejected() throws {
        let size = Folder("size")
        try ImageIO.writePNG(Self.picture(channels: 3, height: 5, width: 7), to: size.path + "/0.png")
        try ImageIO.writePNG(Self.picture(channels: 3, height: 5, width: 8), to: size.path + "/1.png")
        #expect(throws: DNLSError.self) { try ImageIO.readFrames(folder: size.path) }
        let channels = Folder("channels")
        try ImageIO.writePNG(Self.picture(channels: 3, height: 5, width: 7), to: channels.path + "/0.png")
        try ImageIO.writePNG(Self.picture(channels: 1, height: 5, width: 7), to: channels.path + "/1.png")
        #expect(throws: DNLSError.self) { try ImageIO.readFrames(folder: channels.path) }
        let empty = Folder("empty")
        #expect(throws: DNLSError.self) { try ImageIO.readFrames(folder: empty.path) }
    }

    /// Frames and strips are written in parallel: every frame lands in its own numbered file with
    /// its own pixels, and a frame that cannot be written fails the call once the others are
    /// written, leaving no temporary file behind.
    @Test func framesAndStripsWrittenInParallelKeepTheirOrder() throws {
        let folder = Folder("parallel")
        let frames = (0..<9).map { Self.picture(channels: 3, height: 6, width: 5, seed: $0) }
        let video = try Tensor(shape: [9, 3, 6, 5], scalars: frames.flatMap(\.scalars))
        let paths = try ImageIO.writeFrames(video, folder: folder.path, prefix: "f")
        #expect(paths == (0..<9).map { folder.path + "/f_00\($0).png" })
        for (t, frame) in frames.enumerated() { #expect(try ImageIO.read(paths[t]).scalars == frame.scalars) }
        let strips = try ImageIO.writeStrips([video, video], folder: folder.path, prefix: "s")
        for (t, frame) in frames.enumerated() {
            let strip = try ImageIO.read(strips[t])
            #expect(strip.shape == [3, 6, 10])
            for c in 0..<3 { for y in 0..<6 { for x in 0..<10 { #expect(strip[c, y, x] == frame[c, y, x % 5]) } } }
        }
        let blocked = Folder("parallel-blocked")
        let obstacle = blocked.path + "/g_004.png"
        makeDirectory(obstacle)  // frame 4 cannot be renamed into place
        #expect(throws: DNLSError.self) { try ImageIO.writeFrames(video, folder: blocked.path, prefix: "g") }
        #expect(blocked.entries == (0..<9).map { "g_00\($0).png" })
        rmdir(obstacle)
        #expect(try ImageIO.read(blocked.path + "/g_008.png").scalars == frames[8].scalars)
    }

    @Test func denoiseReadsFrameFoldersAndWritesPictures() throws {
        let noisyFolder = Folder("den-noisy"), cleanFolder = Folder("den-clean"), output = Folder("den-out")
        let clean = (0..<3).map { Self.smooth(channels: 3, height: 12, width: 10).adding(Float($0)) }
        let noisyVideo = addNoise(try Tensor(shape: [3, 3, 12, 10], scalars: clean.flatMap(\.scalars)), sigma: 10, seed: 1)
        try ImageIO.writeFrames(noisyVideo, folder: noisyFolder.path, prefix: "f")
        for (t, frame) in clean.enumerated() { try ImageIO.writePNG(frame, to: cleanFolder.path + "/f_\(t).png") }
        let command = try DenoiseCommand.parse(["--input", noisyFolder.path, "--clean", cleanFolder.path,
                                                "--sigma", "10", "--patch-size", "3", "--window", "5",
                                                "--temporal-radius", "1", "--neighbours", "4", "--output", output.path])
        try command.run()
        #expect(output.entries == ["compare_000.png", "compare_001.png", "compare_002.png",
                                   "denoised.npy", "denoised_000.png", "denoised_001.png", "denoised_002.png"])
        let denoised = try NPY.read(output.path + "/denoised.npy").floatTensor()
        let frame1 = try ImageIO.read(output.path + "/denoised_001.png")
        #expect(frame1.shape == [3, 12, 10])
        for c in 0..<3 { for y in 0..<12 { for x in 0..<10 {
            #expect(abs(frame1[c, y, x] - min(255, max(0, denoised[1, c, y, x]).rounded())) <= 0.5)
        } } }
        let strip = try ImageIO.read(output.path + "/compare_002.png")
        #expect(strip.shape == [3, 12, 30])
        #expect(strip[1, 4, 20 + 3] == clean[2][1, 4, 3])
    }
}

/// The names in a folder, without "." and "..".
func listing(_ folder: String) -> [String] {
    guard let directory = opendir(folder) else { return [] }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

extension Tensor where Scalar == Float {
    func adding(_ v: Float) -> Tensor<Float> { try! Tensor(shape: shape, scalars: scalars.map { $0 + v }) }
}

/// A minimal 8-bit PNG written by hand (one IDAT of zlib stored blocks), to test colour types
/// that ImageIO does not write.
func writeRawPNG(_ path: String, width: Int, height: Int, colorType: UInt8, row: [UInt8], palette: [UInt8]? = nil) throws {
    let chunks = palette.map { [PNGChunk("PLTE", $0)] } ?? []
    ImageIOTests.write(rawPNG(width: width, height: height, colorType: colorType, data: scanlines(row, height: height),
                              chunks: chunks), to: path)
}
