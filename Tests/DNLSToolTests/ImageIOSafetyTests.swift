import CImageCodecs
import DNLSImageIO
import DNLS
import Dispatch
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Pictures read as stored and refused cleanly: no gamma or colour conversion, declared sizes
/// checked before anything is allocated, libpng and libjpeg errors as typed errors, FIFOs and
/// devices refused without blocking. The PNGs are made by hand, byte by byte.
@Suite struct ImageIOSafetyTests {
    /// Reads `bytes` from a file; the error when it fails (nil when it reads).
    static func readError(_ bytes: [UInt8], name: String, folder: ImageIOTests.Folder) -> DNLSError? {
        let path = folder.path + "/" + name
        ImageIOTests.write(bytes, to: path)
        do {
            _ = try ImageIO.read(path)
            return nil
        } catch {
            return error
        }
    }

    /// Expects reading `bytes` to fail with a fileFormat error naming the file and containing
    /// `phrase`, both from a file and from memory (the same code, the same reason).
    static func expectRefused(_ bytes: [UInt8], _ phrase: String, _ name: String, folder: ImageIOTests.Folder,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        let error = readError(bytes, name: name, folder: folder)
        guard case let .fileFormat(path, reason)? = error else {
            Issue.record("\(name): expected a fileFormat error, got \(String(describing: error))", sourceLocation: sourceLocation)
            return
        }
        #expect(path.hasSuffix("/" + name), sourceLocation: sourceLocation)
        #expect(reason.contains(phrase), "\(name): expected “\(phrase)” in: \(reason)", sourceLocation: sourceLocation)
        #expect(throws: DNLSError.fileFormat(path: path, reason: reason), "\(name) in memory", sourceLocation: sourceLocation) {
            try ImageIO.decode(bytes, path: path)
        }
    }

    @Test func gammaAndColourChunksDoNotChangeValues() throws {
        let folder = ImageIOTests.Folder("gamma")
        let linear = PNGChunk("gAMA", be32(100_000))  // gamma 1.0: libpng's simplified API turns 64 into 136
        let dark = PNGChunk("gAMA", be32(20_000))
        let chrm = PNGChunk("cHRM", (0..<8).flatMap { be32(UInt32(10_000 + 5_000 * $0)) })
        // Gray 64s.
        let gray = rawPNG(width: 4, height: 3, colorType: 0, data: scanlines([UInt8](repeating: 64, count: 4), height: 3),
                          chunks: [linear])
        let grayPath = folder.path + "/gray.png"
        ImageIOTests.write(gray, to: grayPath)
        let g = try ImageIO.read(grayPath)
        #expect(g.shape == [1, 3, 4])
        #expect(g.scalars == [Float](repeating: 64, count: 12))
        // RGB with gamma, chromaticities and significant bits.
        let rgb = rawPNG(width: 2, height: 1, colorType: 2, data: scanlines([64, 128, 200, 1, 2, 3], height: 1),
                         chunks: [linear, chrm, PNGChunk("sBIT", [4, 4, 4])])
        ImageIOTests.write(rgb, to: folder.path + "/rgb.png")
        #expect(try ImageIO.read(folder.path + "/rgb.png").scalars == [64, 1, 128, 2, 200, 3])
        // Gray+alpha, RGBA and palette (with transparency) with a dark gamma.
        let ga = rawPNG(width: 2, height: 1, colorType: 4, data: scanlines([64, 255, 100, 0], height: 1), chunks: [dark])
        ImageIOTests.write(ga, to: folder.path + "/ga.png")
        #expect(try ImageIO.read(folder.path + "/ga.png").scalars == [64, 100])
        let rgba = rawPNG(width: 1, height: 1, colorType: 6, data: scanlines([64, 65, 66, 10], height: 1), chunks: [dark])
        ImageIOTests.write(rgba, to: folder.path + "/rgba.png")
        #expect(try ImageIO.read(folder.path + "/rgba.png").scalars == [64, 65, 66])
        let palette = rawPNG(width: 2, height: 1, colorType: 3, data: scanlines([1, 0], height: 1),
                             chunks: [dark, PNGChunk("PLTE", [64, 65, 66, 200, 100, 50]), PNGChunk("tRNS", [0, 128])])
        ImageIOTests.write(palette, to: folder.path + "/palette.png")
        #expect(try ImageIO.read(folder.path + "/palette.png").scalars == [200, 64, 100, 65, 50, 66])
    }

    @Test func lowBitDepthAndInterlacedPNGs() throws {
        let folder = ImageIOTests.Folder("depths")
        // 1-, 2- and 4-bit gray scale to 0–255 as the PNG specification defines.
        let oneBit = rawPNG(width: 3, height: 1, depth: 1, colorType: 0, data: scanlines([0b1010_0000], height: 1))
        ImageIOTests.write(oneBit, to: folder.path + "/1.png")
        #expect(try ImageIO.read(folder.path + "/1.png").scalars == [255, 0, 255])
        let twoBit = rawPNG(width: 4, height: 1, depth: 2, colorType: 0, data: scanlines([0b00_01_10_11], height: 1))
        ImageIOTests.write(twoBit, to: folder.path + "/2.png")
        #expect(try ImageIO.read(folder.path + "/2.png").scalars == [0, 85, 170, 255])
        let fourBit = rawPNG(width: 2, height: 1, depth: 4, colorType: 0, data: scanlines([0x3C], height: 1))
        ImageIOTests.write(fourBit, to: folder.path + "/4.png")
        #expect(try ImageIO.read(folder.path + "/4.png").scalars == [51, 204])
        // Adam7 interlacing: the same picture as the plain file.
        let (width, height) = (11, 9)
        let picture = ImageIOTests.picture(channels: 3, height: height, width: width)
        let pixels = ImageIOTests.interleaved(picture)
        let interlaced = rawPNG(width: width, height: height, colorType: 2, interlaced: true,
                                data: adam7(pixels, width: width, height: height, channels: 3))
        ImageIOTests.write(interlaced, to: folder.path + "/adam7.png")
        let back = try ImageIO.read(folder.path + "/adam7.png")
        #expect(back.shape == [3, height, width])
        #expect(back.scalars == picture.scalars)
    }

    @Test func declaredSizesAreCheckedBeforeAllocating() throws {
        let folder = ImageIOTests.Folder("sizes")
        let tiny = scanlines([0, 0, 0, 0], height: 1)
        let start = ContinuousClock.now
        Self.expectRefused(rawPNG(width: 20_000, height: 20_000, colorType: 0, data: tiny),
                           "declares 20000 × 20000 pixels × 1 channel, more than the 268435456 samples", "huge.png",
                           folder: folder)
        Self.expectRefused(rawPNG(width: 10_000, height: 10_000, colorType: 2, data: tiny),
                           "declares 10000 × 10000 pixels × 3 channels", "huge-rgb.png", folder: folder)
        Self.expectRefused(rawPNG(width: 0x7FFF_FFFF, height: 0x7FFF_FFFF, colorType: 6, data: tiny),
                           "exceeds user limit", "widest.png", folder: folder)
        // Under the sample limit, but more than deflate can pack into the file.
        Self.expectRefused(rawPNG(width: 8_000, height: 8_000, colorType: 0, data: tiny),
                           "declares 8000 × 8000 pixels, more than its", "bomb.png", folder: folder)
        // A JPEG whose frame header declares 60000 × 60000.
        let jpegPath = folder.path + "/small.jpg"
        ImageIOTests.writeJPEG(ImageIOTests.smooth(channels: 3, height: 16, width: 16), to: jpegPath)
        var jpeg = ImageIOTests.bytes(of: jpegPath)
        let sof = try #require(jpeg.indices.dropLast().first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg.replaceSubrange((sof + 5)..<(sof + 9), with: [0xEA, 0x60, 0xEA, 0x60])
        Self.expectRefused(jpeg, "declares 60000 × 60000 pixels × 3 channels", "huge.jpg", folder: folder)
        #expect(ContinuousClock.now - start < .seconds(1), "refusing declared sizes took \(ContinuousClock.now - start)")
    }

    @Test func libpngAndLibjpegErrorsAreTypedErrors() throws {
        let folder = ImageIOTests.Folder("libpng-errors")
        let row = scanlines([10, 20, 30], height: 1)
        Self.expectRefused(rawPNG(width: 3, height: 1, depth: 7, colorType: 0, data: row), "bit depth", "depth7.png",
                           folder: folder)
        Self.expectRefused(rawPNG(width: 3, height: 1, colorType: 0, data: row, chunks: [PNGChunk("ABCD", [1])]),
                           "unhandled critical chunk", "critical.png", folder: folder)
        // A palette index past the palette would read as black; it is refused.
        Self.expectRefused(rawPNG(width: 2, height: 1, colorType: 3, data: scanlines([0, 5], height: 1),
                                  chunks: [PNGChunk("PLTE", [1, 2, 3, 4, 5, 6])]),
                           "pixel (1, 0) uses palette index 5, past the 2-entry palette", "index.png", folder: folder)
        Self.expectRefused(rawPNG(width: 2, height: 1, colorType: 3, data: scanlines([0, 1], height: 1)),
                           "PLTE", "no-palette.png", folder: folder)
        // An ancillary chunk with a bad CRC, a missing IDAT and a file cut after its image data.
        var badCRC = rawPNG(width: 3, height: 1, colorType: 0, data: row, chunks: [PNGChunk("tEXt", Array("a\0b".utf8))])
        badCRC[33 + 4 + 4 + 3] ^= 0xFF  // the first CRC byte of tEXt (IHDR ends at byte 33)
        Self.expectRefused(badCRC, "CRC", "crc.png", folder: folder)
        let full = rawPNG(width: 3, height: 1, colorType: 0, data: row)
        Self.expectRefused(Array(full.prefix(33)) + Array(full.suffix(12)), "IEND: out of place", "no-idat.png", folder: folder)
        Self.expectRefused(Array(full.dropLast(12)), "truncated", "no-iend.png", folder: folder)
        // Image data left over after the last row.
        Self.expectRefused(rawPNG(width: 3, height: 1, colorType: 0, data: scanlines([10, 20, 30], height: 2)),
                           "Too much image data", "extra.png", folder: folder)
        // Image data that ends early.
        Self.expectRefused(rawPNG(width: 3, height: 4, colorType: 0, data: row), "Not enough image data", "short.png",
                           folder: folder)
        // libjpeg: a header cut inside the frame header, and a non-JPEG after the SOI marker.
        let jpegPath = folder.path + "/ok.jpg"
        ImageIOTests.writeJPEG(ImageIOTests.smooth(channels: 1, height: 8, width: 8), to: jpegPath)
        let jpeg = ImageIOTests.bytes(of: jpegPath)
        let sof = try #require(jpeg.indices.dropLast().first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        Self.expectRefused(Array(jpeg.prefix(sof + 6)), "JPEG", "cut.jpg", folder: folder)
        Self.expectRefused([0xFF, 0xD8, 0xFF, 0x00, 0x00], "JPEG", "garbage.jpg", folder: folder)
    }

    @Test func decodingBytesInMemoryMatchesReadingTheFile() throws {
        let folder = ImageIOTests.Folder("memory")
        try ImageIO.writePNG(ImageIOTests.picture(channels: 3, height: 6, width: 5), to: folder.path + "/a.png")
        ImageIOTests.writeJPEG(ImageIOTests.smooth(channels: 1, height: 6, width: 5), to: folder.path + "/a.jpg")
        for name in ["a.png", "a.jpg"] {
            let path = folder.path + "/" + name
            let fromFile = try ImageIO.read(path)
            let fromMemory = try ImageIO.decode(ImageIOTests.bytes(of: path))
            #expect(fromMemory.shape == fromFile.shape && fromMemory.scalars == fromFile.scalars, "\(name)")
        }
    }

    @Test func fifosAndDevicesAreRefusedWithoutBlocking() throws {
        let folder = ImageIOTests.Folder("fifo")
        let fifo = folder.path + "/frame.png"
        #expect(mkfifo(fifo, 0o600) == 0)
        // Generous: the other tests may keep both cores busy, and a read that blocks never returns.
        let result = readImageWithDeadline(fifo, seconds: 20)
        guard let result else {
            Issue.record("ImageIO.read blocked on a FIFO with no writer")
            return
        }
        guard case let .failure(.fileAccess(path, reason)) = result else {
            Issue.record("expected a fileAccess error, got \(result)")
            return
        }
        #expect(path == fifo)
        #expect(reason.contains("FIFO"), "\(reason)")
        var caught: DNLSError?
        do { _ = try ImageIO.read("/dev/zero") } catch { caught = error }
        guard case let .fileAccess(_, deviceReason)? = caught else {
            Issue.record("expected a fileAccess error for /dev/zero, got \(String(describing: caught))")
            return
        }
        #expect(deviceReason.contains("character device"), "\(deviceReason)")
    }
}

// MARK: - PNG files by hand

struct PNGChunk {
    let type: String
    let data: [UInt8]
    init(_ type: String, _ data: [UInt8]) {
        self.type = type
        self.data = data
    }
}

func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 255), UInt8((v >> 8) & 255), UInt8(v & 255)] }

func crc32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }
    return c ^ 0xFFFF_FFFF
}

/// The same row `height` times, each with filter type 0 (None).
func scanlines(_ row: [UInt8], height: Int) -> [UInt8] {
    (0..<height).flatMap { _ in [0] + row }
}

/// The Adam7 passes of 8-bit interleaved pixels, each row with filter type 0; empty passes left out.
func adam7(_ pixels: [UInt8], width: Int, height: Int, channels: Int) -> [UInt8] {
    let passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    var out: [UInt8] = []
    for (x0, y0, dx, dy) in passes where x0 < width && y0 < height {
        for y in stride(from: y0, to: height, by: dy) {
            out.append(0)
            for x in stride(from: x0, to: width, by: dx) {
                out += pixels[((y * width + x) * channels)..<((y * width + x + 1) * channels)]
            }
        }
    }
    return out
}

/// A PNG: signature, IHDR, `chunks` (PLTE among them if needed), one IDAT holding `data` (the
/// filtered scanlines) as zlib stored blocks, IEND. Nothing is checked: it may declare anything.
func rawPNG(width: Int, height: Int, depth: UInt8 = 8, colorType: UInt8, interlaced: Bool = false, data: [UInt8],
            chunks: [PNGChunk] = []) -> [UInt8] {
    func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(UInt32(data.count)) + body + be32(crc32(body))
    }
    var zlib: [UInt8] = [0x78, 0x01]
    var offset = 0
    repeat {
        let n = min(65535, data.count - offset)
        let last: UInt8 = offset + n == data.count ? 1 : 0
        zlib += [last, UInt8(n & 255), UInt8(n >> 8), UInt8(~n & 255), UInt8((~n >> 8) & 255)]
        zlib += data[offset..<(offset + n)]
        offset += n
    } while offset < data.count
    var a: UInt32 = 1, b: UInt32 = 0
    for x in data { a = (a + UInt32(x)) % 65521; b = (b + a) % 65521 }
    zlib += be32(b << 16 | a)
    var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    file += chunk("IHDR", be32(UInt32(width)) + be32(UInt32(height)) + [depth, colorType, 0, 0, interlaced ? 1 : 0])
    for extra in chunks { file += chunk(extra.type, extra.data) }
    file += chunk("IDAT", zlib) + chunk("IEND", [])
    return file
}

/// Reads `path` on another thread; nil when it has not returned after `seconds` (a FIFO read
/// still blocked is then released by opening the FIFO for writing, so the test fails, not hangs).
private func readImageWithDeadline(_ path: String, seconds: Int) -> Result<[Int], DNLSError>? {
    final class Outcome: Sendable { let value = Mutex<Result<[Int], DNLSError>?>(nil) }
    let result = Outcome()
    let done = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
        let outcome: Result<[Int], DNLSError>
        do throws(DNLSError) { outcome = .success(try ImageIO.read(path).shape) } catch { outcome = .failure(error) }
        result.value.withLock { $0 = outcome }
        done.signal()
    }
    if done.wait(timeout: .now() + .seconds(seconds)) == .timedOut {
        let writer = open(path, O_WRONLY | O_NONBLOCK)
        if writer >= 0 { close(writer) }
        _ = done.wait(timeout: .now() + .seconds(5))
        return nil
    }
    return result.value.withLock { $0 }
}
