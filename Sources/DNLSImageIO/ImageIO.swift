import CImageCodecs
import Dispatch
@_spi(FileIO) import DNLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// PNG and JPEG frames for the `dnls` tool: reading 8-bit PNG (gray, gray+alpha, RGB, RGBA,
/// palette; alpha dropped) and JPEG (gray, RGB) into `(C, H, W)` tensors with values 0–255,
/// reading folders of frames into `(T, C, H, W)` videos, and writing `(C, H, W)` tensors as 8-bit
/// PNG. Every problem is a typed ``DNLSError``: ``DNLSError/fileAccess(path:reason:)`` when a file
/// or folder cannot be opened, created or renamed, ``DNLSError/fileFormat(path:reason:)`` when its
/// contents are not a picture DNLS reads (corrupt, truncated, 16-bit, CMYK, other formats, or
/// larger than ``maxSamples``).
///
/// PNG samples are read as stored: gamma (gAMA), colour (cHRM, sRGB, iCCP), significant-bit
/// (sBIT) and transparency (tRNS) chunks are ignored, so a PNG of 64s reads as 64s whatever gamma
/// it declares; palette entries are looked up (an index past the palette is an error), and 1, 2
/// and 4-bit gray is scaled to 0–255 as the PNG specification defines. Corruption libpng would
/// only warn about (a bad CRC in any chunk, image data left over) is an error.
package enum ImageIO {
    /// The file extensions of frames in a folder (case-insensitive).
    package static let frameExtensions = ["png", "jpg", "jpeg"]

    /// The most samples (width × height × channels) a picture may declare: 2^28 (a 1 GiB
    /// tensor). Larger pictures are refused before anything is allocated.
    package static let maxSamples = Int(DNLS_IMAGE_MAX_SAMPLES)

    /// The largest picture file read: 1 GiB.
    package static let maxFileBytes = 1 << 30

    /// Reads the PNG or JPEG file at `path` (recognised by its first bytes) as a `(C, H, W)`
    /// tensor, C = 1 (gray) or 3 (RGB), values 0–255. Only regular files are read: a FIFO, pipe
    /// or device is refused before it is opened.
    package static func read(_ path: String) throws(DNLSError) -> Tensor<Float> {
        try decode(try readFile(path), path: path)
    }

    /// Decodes the PNG or JPEG file held in `bytes`, with exactly the checks of ``read(_:)``
    /// (which reads the file and calls this); `path` names the bytes in errors. For fuzzing and tests.
    package static func decode(_ bytes: [UInt8], path: String = "<memory>") throws(DNLSError) -> Tensor<Float> {
        let pngMagic: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        let isPNG = bytes.starts(with: pngMagic)
        let isJPEG = bytes.starts(with: [0xFF, 0xD8, 0xFF])
        guard isPNG || isJPEG else {
            if bytes.isEmpty { throw .fileFormat(path: path, reason: "not a PNG or JPEG file: the file is empty") }
            let found = bytes.prefix(8).map { String($0, radix: 16, uppercase: true) }.joined(separator: " ")
            throw .fileFormat(path: path, reason: "not a PNG or JPEG file: it starts with \(found)")
        }
        var image = dnls_image()
        var message = [CChar](repeating: 0, count: 512)
        let status = bytes.withUnsafeBufferPointer { data in
            message.withUnsafeMutableBufferPointer { text in
                isPNG ? dnls_png_decode(data.baseAddress, data.count, &image, text.baseAddress, text.count)
                    : dnls_jpeg_decode(data.baseAddress, data.count, &image, text.baseAddress, text.count)
            }
        }
        guard status == 0, let pixels = image.pixels else {
            throw .fileFormat(path: path, reason: "cannot read the \(isPNG ? "PNG" : "JPEG") file: \(string(message))")
        }
        defer { dnls_image_free(&image) }
        let (width, height, channels) = (Int(image.width), Int(image.height), Int(image.channels))
        var values = [Float](repeating: 0, count: channels * height * width)
        let plane = height * width
        for i in 0..<plane {
            for c in 0..<channels { values[c * plane + i] = Float(pixels[i * channels + c]) }
        }
        return try Tensor(shape: [channels, height, width], scalars: values)
    }

    /// The bytes of the regular file at `path` (at most ``maxFileBytes``).
    private static func readFile(_ path: String) throws(DNLSError) -> [UInt8] {
        let (file, size) = try NPY.openRegularFile(path)
        defer { fclose(file) }
        guard size <= maxFileBytes else {
            throw .fileFormat(path: path, reason: "the file is \(size) bytes long, more than the \(maxFileBytes) "
                + "bytes DNLS reads as a picture")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        let read = bytes.withUnsafeMutableBytes { size == 0 ? 0 : fread($0.baseAddress, 1, size, file) }
        if read < size && ferror(file) != 0 {
            throw .fileAccess(path: path, reason: "read failed: \(systemError(errno))")
        }
        return Array(bytes.prefix(read))  // a file that shrank since its size was taken reads as truncated
    }

    /// Writes a `(C, H, W)` tensor, C = 1 or 3, as an 8-bit PNG: values are clamped to 0–255 and
    /// rounded. The file is written under a temporary name next to `path`, then renamed, so a
    /// failure leaves nothing behind.
    package static func writePNG(_ tensor: Tensor<Float>, to path: String) throws(DNLSError) {
        let shape = tensor.shape
        guard shape.count == 3, shape[0] == 1 || shape[0] == 3, shape[1] > 0, shape[2] > 0 else {
            throw .invalidArgument(argument: "tensor", expected: "a (C, H, W) picture with C = 1 or 3 and H, W > 0",
                                   actual: "shape \(shape)")
        }
        let (channels, height, width) = (shape[0], shape[1], shape[2])
        let values = try tensor.to(.cpu).scalars
        let plane = height * width
        var pixels = [UInt8](repeating: 0, count: channels * plane)
        for i in 0..<plane {
            for c in 0..<channels {
                let v = values[c * plane + i]
                pixels[i * channels + c] = v.isNaN ? 0 : UInt8(min(255, max(0, v)).rounded())
            }
        }
        let temporary = path + ".tmp-\(getpid())"
        var message = [CChar](repeating: 0, count: 512)
        guard dnls_png_write(temporary, pixels, Int32(width), Int32(height), Int32(channels), &message, message.count) == 0 else {
            unlink(temporary)
            throw .fileAccess(path: path, reason: "cannot write the PNG file: \(string(message))")
        }
        guard rename(temporary, path) == 0 else {
            let reason = systemError(errno)
            unlink(temporary)
            throw .fileAccess(path: path, reason: "cannot rename the temporary file `\(temporary)` to it: \(reason)")
        }
    }

    /// Whether `path` is a folder.
    package static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The PNG and JPEG files in `folder`, sorted by name.
    package static func frameFiles(in folder: String) throws(DNLSError) -> [String] {
        guard let directory = opendir(folder) else {
            throw .fileAccess(path: folder, reason: "cannot open the folder: \(systemError(errno))")
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard !name.hasPrefix("."), let dot = name.lastIndex(of: ".") else { continue }
            if frameExtensions.contains(name[name.index(after: dot)...].lowercased()) { names.append(name) }
        }
        return names.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
            .map { folder + "/" + $0 }
    }

    /// Reads the PNG and JPEG frames of `folder`, sorted by file name, as a `(T, C, H, W)` video.
    /// Every frame must have the same size and channel count.
    package static func readFrames(folder: String) throws(DNLSError) -> Tensor<Float> {
        let files = try frameFiles(in: folder)
        guard !files.isEmpty else {
            throw .fileFormat(path: folder, reason: "the folder holds no PNG or JPEG frames (.png, .jpg, .jpeg)")
        }
        var values: [Float] = []
        var first: [Int] = []
        for file in files {
            let frame = try read(file)
            if first.isEmpty {
                first = frame.shape
                values.reserveCapacity(files.count * frame.count)
            } else if frame.shape != first {
                throw .fileFormat(path: file, reason: "this frame is (C, H, W) = \(frame.shape), but the first frame "
                    + "`\(files[0])` is \(first); every frame of a folder must have the same size and channels")
            }
            values += frame.scalars
        }
        return try Tensor(shape: [files.count] + first, scalars: values)
    }

    /// Writes each `(C, H, W)` frame of a `(T, C, H, W)` (or `(B, T, C, H, W)`) video as
    /// `folder/<prefix>_%03d.png`, frames numbered from 0 through every leading dimension.
    /// - Returns: the paths written.
    @discardableResult
    package static func writeFrames(_ video: Tensor<Float>, folder: String, prefix: String) throws(DNLSError) -> [String] {
        let shape = video.shape
        guard shape.count >= 4 else {
            throw .invalidArgument(argument: "video", expected: "a (T, C, H, W) or (B, T, C, H, W) video", actual: "shape \(shape)")
        }
        let frameShape = Array(shape.suffix(3))
        let frameSize = frameShape.reduce(1, *)
        let count = shape.dropLast(3).reduce(1, *)
        let values = try video.to(.cpu).scalars
        let paths = (0..<count).map { folder + "/" + prefix + "_" + pad($0) + ".png" }
        try inParallel(count) { t throws(DNLSError) in
            let frame = try Tensor(shape: frameShape, scalars: Array(values[(t * frameSize)..<((t + 1) * frameSize)]))
            try writePNG(frame, to: paths[t])
        }
        return paths
    }

    /// Runs `body(t)` for every `t` in `0..<count` on all cores (PNG encoding is most of the time
    /// of writing pictures, and frames are independent); throws the error of the first frame that
    /// failed, after all have finished.
    private static func inParallel(_ count: Int, _ body: @Sendable (Int) throws(DNLSError) -> Void) throws(DNLSError) {
        var failures = [DNLSError?](repeating: nil, count: count)
        failures.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let slots = slots  // each frame writes only its own slot
            DispatchQueue.concurrentPerform(iterations: count) { t in
                do throws(DNLSError) { try body(t) } catch { slots[t] = error }
            }
        }
        if let failure = failures.lazy.compactMap({ $0 }).first { throw failure }
    }

    /// Side-by-side pictures: frame t of each video (all the same shape), left to right, as
    /// `folder/<prefix>_%03d.png`.
    @discardableResult
    package static func writeStrips(_ videos: [Tensor<Float>], folder: String, prefix: String) throws(DNLSError) -> [String] {
        guard let shape = videos.first?.shape, shape.count >= 4, videos.allSatisfy({ $0.shape == shape }) else {
            throw .invalidArgument(argument: "videos", expected: "videos of the same (T, C, H, W) shape",
                                   actual: "shapes \(videos.map(\.shape))")
        }
        let (channels, height, width) = (shape[shape.count - 3], shape[shape.count - 2], shape[shape.count - 1])
        let frameSize = channels * height * width
        let count = shape.dropLast(3).reduce(1, *)
        let sources = try videos.map { (video) throws(DNLSError) in try video.to(.cpu).scalars }
        let stripWidth = width * videos.count
        let paths = (0..<count).map { folder + "/" + prefix + "_" + pad($0) + ".png" }
        try inParallel(count) { t throws(DNLSError) in
            var strip = [Float](repeating: 0, count: channels * height * stripWidth)
            for (k, source) in sources.enumerated() {
                for c in 0..<channels {
                    for y in 0..<height {
                        let from = t * frameSize + (c * height + y) * width
                        let to = (c * height + y) * stripWidth + k * width
                        for x in 0..<width { strip[to + x] = source[from + x] }
                    }
                }
            }
            try writePNG(try Tensor(shape: [channels, height, stripWidth], scalars: strip), to: paths[t])
        }
        return paths
    }

    private static func pad(_ n: Int) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }

    private static func string(_ buffer: [CChar]) -> String {
        let bytes = buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func systemError(_ code: Int32) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }
}
