#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Reading and writing NumPy `.npy` files (format versions 1.0, 2.0 and 3.0).
///
/// DNLS reads little-endian, C-ordered arrays of `float32` (`'<f4'`), `float64` (`'<f8'`),
/// `int32` (`'<i4'`) and `int64` (`'<i8'`), of any rank (0-d and empty arrays included), and
/// writes ``Tensor``s as `'<f4'`, `'<f8'` or `'<i4'` files that NumPy loads with `np.load`. Every
/// problem is a typed ``DNLSError``: ``DNLSError/fileAccess(path:reason:)`` when the file cannot be
/// opened, read, written or renamed (with the system's reason), and
/// ``DNLSError/fileFormat(path:reason:)`` when its contents are not a supported `.npy` array
/// (bad magic string, truncated or malformed header, Fortran order, big-endian or other dtypes,
/// a data size that does not match the shape), naming what was found.
///
/// ```swift
/// let video = try NPY.read("video.npy").floatTensor()      // any float or integer dtype
/// let indices = try NPY.read("indices.npy").int32Tensor()  // '<i4', or '<i8' that fits Int32
/// try NPY.write(video, to: "copy.npy")                      // '<f4', like np.save
/// ```
///
/// In NumPy: `np.save("video.npy", np.ascontiguousarray(v, dtype="<f4"))` and `np.load("copy.npy")`.
public enum NPY {
    /// Reads the array stored in the `.npy` file at `path`.
    ///
    /// The file must hold exactly the header and `product(shape) × itemsize` bytes of data.
    /// `'|'` and `'='` byte orders (native) read as little-endian, as they are on every platform
    /// DNLS runs on. The header is parsed as strictly as NumPy's own reader (what `np.load`
    /// refuses is refused here), must end with a newline, and may not describe more than 64 axes
    /// or more bytes than 64 bits address; its lengths are checked against the file's size before
    /// anything is allocated. Only regular files are read: a FIFO, pipe, socket or device is
    /// refused before it is opened (so reading never blocks).
    ///
    /// - Returns: the array with the file's element type (see ``NPYArray/floatTensor()`` and
    ///   ``NPYArray/int32Tensor()`` to convert).
    /// - Throws: ``DNLSError/fileAccess(path:reason:)`` when the file cannot be opened or read or
    ///   is not a regular file, ``DNLSError/fileFormat(path:reason:)`` when it is not a `.npy`
    ///   file DNLS reads.
    public static func read(_ path: String) throws(DNLSError) -> NPYArray {
        let (file, size) = try openRegularFile(path)
        defer { fclose(file) }
        var source = FileSource(path: path, file: file, size: size)
        return try decode(&source, path: path)
    }

    /// Reads the `.npy` array held in `bytes`, with exactly the checks of ``read(_:)`` (the same
    /// code reads both); `path` names the bytes in errors. For fuzzing and tests.
    @_spi(Fuzzing)
    public static func read(bytes: [UInt8], path: String = "<memory>") throws(DNLSError) -> NPYArray {
        var source = MemorySource(bytes: bytes)
        return try decode(&source, path: path)
    }

    /// Parses a `.npy` file from `source`. Every length the file claims is checked against the
    /// bytes `source` holds before anything that large is allocated or read.
    private static func decode<Source: NPYSource>(_ source: inout Source, path: String) throws(DNLSError) -> NPYArray {
        let size = source.size
        func truncated(_ what: String) -> DNLSError {
            .fileFormat(path: path, reason: "truncated: the file ends inside \(what) (\(size) bytes in all)")
        }
        func exactly(_ count: Int, _ what: String) throws(DNLSError) -> [UInt8] {
            let bytes = try source.bytes(upTo: count)
            guard bytes.count == count else { throw truncated(what) }
            return bytes
        }

        // Magic string and version.
        guard size > 0 else { throw .fileFormat(path: path, reason: "not a .npy file: the file is empty") }
        let lead = try source.bytes(upTo: 8)
        guard lead.starts(with: NPYHeader.magic) else {
            if lead.count < NPYHeader.magic.count && NPYHeader.magic.starts(with: lead) {
                throw truncated("the magic string")
            }
            let found = lead.map { hex($0) }.joined(separator: " ")
            let hint = lead.starts(with: [0x50, 0x4B, 0x03, 0x04])
                ? " (this looks like a zip archive, such as a .npz file: read its .npy members instead)" : ""
            throw .fileFormat(path: path, reason: "not a .npy file: it starts with \(found), "
                + "not the magic string 93 4E 55 4D 50 59 (\"\\x93NUMPY\")\(hint)")
        }
        guard lead.count == 8 else { throw truncated("the format version") }
        let (major, minor) = (lead[6], lead[7])
        guard [(1, 0), (2, 0), (3, 0)].contains(where: { $0 == (Int(major), Int(minor)) }) else {
            throw .fileFormat(path: path, reason: "format version \(major).\(minor) is not supported; DNLS reads 1.0, 2.0 and 3.0")
        }

        // Header: its length is checked against the file before it is read.
        let lengthBytes = major == 1 ? 2 : 4
        let lengthField = try exactly(lengthBytes, "the header length")
        let headerLength = lengthField.enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let dataOffset = NPYHeader.magic.count + 2 + lengthBytes + headerLength
        if size < dataOffset {
            throw .fileFormat(path: path, reason: "truncated: the header is \(headerLength) bytes long, so the "
                + "data would start at byte \(dataOffset), but the file holds only \(size) bytes")
        }
        guard headerLength <= maxHeaderLength else {
            throw .fileFormat(path: path, reason: "the header is \(headerLength) bytes long, more than the "
                + "\(maxHeaderLength) bytes DNLS accepts")
        }
        let headerBytes = try exactly(headerLength, "the header")
        let header: NPYHeader
        do {
            header = try NPYHeader.parse(headerBytes, major: major)
        } catch {
            throw .fileFormat(path: path, reason: error.reason)
        }

        // Data: exactly count × itemsize bytes, compared with the file before it is allocated.
        let count = NPYHeader.elementCount(header.shape)!  // parse checked the byte size
        let dataBytes = count * header.dtype.itemSize
        let what = "shape \(NPYHeader.shapeRepr(header.shape)) of dtype '\(header.dtype.rawValue)' needs \(dataBytes) bytes of data"
        let held = size - dataOffset
        if held != dataBytes {
            throw .fileFormat(path: path, reason: held < dataBytes
                ? "truncated: the \(what), the file holds \(held)"
                : "the \(what), but the file holds \(held) (\(held - dataBytes) bytes after the data)")
        }
        let array: NPYArray
        switch header.dtype {
        case .float32:
            array = .float(Tensor(uncheckedShape: header.shape, scalars: try source.elements(count, what, path)))
        case .float64:
            array = .double(Tensor(uncheckedShape: header.shape, scalars: try source.elements(count, what, path)))
        case .int32:
            array = .int32(Tensor(uncheckedShape: header.shape, scalars: try source.elements(count, what, path)))
        case .int64:
            array = .int64(shape: header.shape, scalars: try source.elements(count, what, path))
        }
        // A file that grew since its size was taken.
        if try source.hasMore() {
            throw .fileFormat(path: path, reason: "the \(what), but the file holds more bytes after the data")
        }
        return array
    }

    /// Writes `tensor` to `path` as a `'<f4'` `.npy` file in C order, byte for byte what
    /// `np.save` writes: format version 1.0 (2.0 when the header needs more than 65535 bytes),
    /// the data starting at a multiple of 64 bytes.
    ///
    /// The file is written under a temporary name in the same directory, then renamed to `path`
    /// (replacing any file there; a symbolic link at `path` is replaced, not followed), so a
    /// failed write leaves neither a partial file nor the temporary one behind. A tensor on a GPU
    /// is downloaded first.
    ///
    /// - Throws: ``DNLSError/fileAccess(path:reason:)`` when the file cannot be created, written
    ///   or renamed; ``DNLSError/deviceFailure(device:reason:)`` when a GPU download fails;
    ///   ``DNLSError/invalidArgument(argument:expected:actual:)`` for more than 64 axes, which
    ///   NumPy cannot load.
    public static func write(_ tensor: Tensor<Float>, to path: String) throws(DNLSError) {
        try write(try tensor.hostElements(), shape: tensor.shape, dtype: .float32, to: path)
    }

    /// Writes `tensor` to `path` as a `'<f8'` `.npy` file; see the `Tensor<Float>` overload.
    ///
    /// - Throws: ``DNLSError/fileAccess(path:reason:)`` when the file cannot be created, written
    ///   or renamed.
    public static func write(_ tensor: Tensor<Double>, to path: String) throws(DNLSError) {
        try write(try tensor.hostElements(), shape: tensor.shape, dtype: .float64, to: path)
    }

    /// Writes `tensor` to `path` as an `'<i4'` `.npy` file; see the `Tensor<Float>` overload.
    ///
    /// - Throws: ``DNLSError/fileAccess(path:reason:)`` when the file cannot be created, written
    ///   or renamed; ``DNLSError/deviceFailure(device:reason:)`` when a GPU download fails.
    public static func write(_ tensor: Tensor<Int32>, to path: String) throws(DNLSError) {
        try write(try tensor.hostElements(), shape: tensor.shape, dtype: .int32, to: path)
    }

    /// Writes `array` to `path` with its own dtype (`'<f4'`, `'<f8'`, `'<i4'` or `'<i8'`), so
    /// that what ``read(_:)`` returned can be written back unchanged.
    ///
    /// - Throws: the `Tensor<Float>` overload.
    public static func write(_ array: NPYArray, to path: String) throws(DNLSError) {
        switch array {
        case let .float(t): try write(t, to: path)
        case let .double(t): try write(t, to: path)
        case let .int32(t): try write(t, to: path)
        case let .int64(shape, scalars):
            guard NPYHeader.elementCount(shape) == scalars.count, shape.allSatisfy({ $0 >= 0 }) else {
                throw .shapeMismatch(argument: "array", expected: "\(scalars.count) elements", actual: shape)
            }
            try write(scalars, shape: shape, dtype: .int64, to: path)
        }
    }

    // MARK: Implementation

    /// The longest header ``read(_:)`` accepts (NumPy's own limit is 10000 bytes by default).
    static let maxHeaderLength = 1 << 20

    /// Makes the temporary names of concurrent writes in one process distinct.
    private static let temporaryCounter = Atomic<Int>(0)

    /// Writes the header and elements to a temporary file next to `path`, then renames it.
    private static func write<Element: NPYElement>(_ elements: [Element], shape: [Int], dtype: NPYDType,
                                                   to path: String) throws(DNLSError) {
        // NumPy (and so ``read(_:)``) loads no array of more axes.
        guard shape.count <= NPYHeader.maxRank else {
            throw .invalidArgument(argument: "tensor", expected: "at most \(NPYHeader.maxRank) axes (NumPy's limit)",
                                   actual: "\(shape.count) axes")
        }
        let header = NPYHeader(dtype: dtype, shape: shape).encoded()
        let serial = temporaryCounter.wrappingAdd(1, ordering: .relaxed).newValue
        let temporary = "\(path).tmp-\(getpid())-\(serial)"
        guard let file = fopen(temporary, "wbx") else {
            throw .fileAccess(path: path, reason: "cannot create the temporary file `\(temporary)`: \(systemError(errno))")
        }
        func fail(_ reason: String, closing: Bool) -> DNLSError {
            if closing { fclose(file) }
            unlink(temporary)
            return .fileAccess(path: path, reason: reason)
        }
        let headerWritten = header.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        guard headerWritten == header.count else {
            throw fail("write failed: \(systemError(errno))", closing: true)
        }
        if !elements.isEmpty {
            let written = Element.withLittleEndianBytes(of: elements) { fwrite($0.baseAddress, 1, $0.count, file) }
            guard written == elements.count * MemoryLayout<Element>.size else {
                throw fail("write failed: \(systemError(errno))", closing: true)
            }
        }
        guard fclose(file) == 0 else { throw fail("write failed: \(systemError(errno))", closing: false) }
        guard rename(temporary, path) == 0 else {
            throw fail("cannot rename the temporary file `\(temporary)` to it: \(systemError(errno))", closing: false)
        }
    }

    /// The system's message for an `errno` value, with the number.
    static func systemError(_ code: Int32) -> String {
        guard let message = strerror(code) else { return "errno \(code)" }
        return "\(String(cString: message)) (errno \(code))"
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }

    /// Opens `path` for reading if it is a regular file, and returns it with its size.
    ///
    /// Anything else is refused before it is opened: a FIFO would block `open` until a writer
    /// came, and neither a pipe nor a device has a size to check the header against. The file is
    /// opened non-blocking and checked again, so a FIFO put there after the `stat` cannot block
    /// either. Used by DNLSImageIO too.
    @_spi(FileIO)
    public static func openRegularFile(_ path: String) throws(DNLSError) -> (file: UnsafeMutablePointer<FILE>, size: Int) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .fileAccess(path: path, reason: "cannot open for reading: \(systemError(errno))")
        }
        try requireRegularFile(info.st_mode, path)
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw .fileAccess(path: path, reason: "cannot open for reading: \(systemError(errno))")
        }
        guard fstat(descriptor, &info) == 0 else {
            let code = errno
            close(descriptor)
            throw .fileAccess(path: path, reason: "cannot read: \(systemError(code))")
        }
        do {
            try requireRegularFile(info.st_mode, path)
        } catch {
            close(descriptor)
            throw error
        }
        let flags = fcntl(descriptor, F_GETFL)
        if flags >= 0 { _ = fcntl(descriptor, F_SETFL, flags & ~O_NONBLOCK) }
        guard let file = fdopen(descriptor, "rb") else {
            let code = errno
            close(descriptor)
            throw .fileAccess(path: path, reason: "cannot open for reading: \(systemError(code))")
        }
        return (file, Int(info.st_size))
    }

    /// Throws ``DNLSError/fileAccess(path:reason:)`` unless `mode` is a regular file's.
    @_spi(FileIO)
    public static func requireRegularFile(_ mode: mode_t, _ path: String) throws(DNLSError) {
        let kind: String
        switch mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: throw .fileAccess(path: path, reason: "cannot open for reading: \(systemError(EISDIR))")
        case S_IFIFO: kind = "a FIFO (named pipe)"
        case S_IFCHR: kind = "a character device"
        case S_IFBLK: kind = "a block device"
        case S_IFSOCK: kind = "a socket"
        default: kind = "not a regular file"
        }
        throw .fileAccess(path: path, reason: "cannot read: it is \(kind), and DNLS reads only regular files, whose "
            + "size it checks against the header before reading (copy the data to a file first)")
    }
}

/// Where ``NPY`` reads a `.npy` file from: a regular file or bytes in memory, of known size.
protocol NPYSource {
    /// The number of bytes in all.
    var size: Int { get }
    /// Fills `buffer` from the current position; fewer bytes only at the end. Returns the count.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(DNLSError) -> Int
    /// Whether a byte follows the current position.
    mutating func hasMore() throws(DNLSError) -> Bool
}

extension NPYSource {
    /// Up to `count` bytes (fewer at the end); `count` is small (the caller checked it).
    mutating func bytes(upTo count: Int) throws(DNLSError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var read = 0
        var failure: DNLSError?
        bytes.withUnsafeMutableBytes { buffer in
            do throws(DNLSError) { read = try self.read(into: buffer) } catch { failure = error }
        }
        if let failure { throw failure }
        return Array(bytes.prefix(read))
    }

    /// `count` little-endian elements; `what` describes the data for a truncation error. The
    /// caller has checked that the source holds them.
    mutating func elements<Element: NPYElement>(_ count: Int, _ what: String, _ path: String) throws(DNLSError) -> [Element] {
        let byteCount = count * MemoryLayout<Element>.size
        var read = 0
        var failure: DNLSError?
        var elements = [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 {
                let raw = UnsafeMutableRawBufferPointer(buffer)
                do throws(DNLSError) { read = try self.read(into: raw) } catch { failure = error }
                if read < byteCount {
                    // Leave the array fully initialised (plain bits) before it is dropped.
                    raw.baseAddress!.advanced(by: read).initializeMemory(as: UInt8.self, repeating: 0, count: byteCount - read)
                }
            }
            initialized = count
        }
        if let failure { throw failure }
        if read < byteCount {
            throw .fileFormat(path: path, reason: "truncated: the \(what), the file holds \(read)")
        }
        Element.fromLittleEndian(&elements)
        return elements
    }
}

/// A regular file opened by ``NPY/openRegularFile(_:)``.
private struct FileSource: NPYSource {
    let path: String
    let file: UnsafeMutablePointer<FILE>
    let size: Int

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(DNLSError) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        let read = fread(base, 1, buffer.count, file)
        if read < buffer.count && ferror(file) != 0 {
            throw .fileAccess(path: path, reason: "read failed: \(NPY.systemError(errno))")
        }
        return read
    }

    mutating func hasMore() throws(DNLSError) -> Bool {
        if fgetc(file) != EOF { return true }
        if ferror(file) != 0 { throw .fileAccess(path: path, reason: "read failed: \(NPY.systemError(errno))") }
        return false
    }
}

/// Bytes in memory.
private struct MemorySource: NPYSource {
    let bytes: [UInt8]
    var position = 0
    var size: Int { bytes.count }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(DNLSError) -> Int {
        let count = min(buffer.count, bytes.count - position)
        guard count > 0, let base = buffer.baseAddress else { return 0 }
        bytes.withUnsafeBytes { base.copyMemory(from: $0.baseAddress! + position, byteCount: count) }
        position += count
        return count
    }

    mutating func hasMore() -> Bool { position < bytes.count }
}

/// An array read from a `.npy` file, with the element type the file stores.
///
/// `Float`, `Double` and `Int32` arrays come as ``Tensor``s; `int64` arrays (NumPy's default
/// integer type) come as their shape and elements, to be narrowed with ``int32Tensor()`` or
/// converted with ``floatTensor()``.
public enum NPYArray: Sendable, Equatable {
    /// A `'<f4'` array.
    case float(Tensor<Float>)
    /// A `'<f8'` array.
    case double(Tensor<Double>)
    /// An `'<i4'` array.
    case int32(Tensor<Int32>)
    /// An `'<i8'` array: its shape and row-major elements.
    case int64(shape: [Int], scalars: [Int64])

    /// The extent of each axis, outermost first (empty for a 0-d array).
    public var shape: [Int] {
        switch self {
        case let .float(t): return t.shape
        case let .double(t): return t.shape
        case let .int32(t): return t.shape
        case let .int64(shape, _): return shape
        }
    }

    /// The NumPy dtype string: `"<f4"`, `"<f8"`, `"<i4"` or `"<i8"`.
    public var dtype: String {
        switch self {
        case .float: return NPYDType.float32.rawValue
        case .double: return NPYDType.float64.rawValue
        case .int32: return NPYDType.int32.rawValue
        case .int64: return NPYDType.int64.rawValue
        }
    }

    /// The array as `Float`s: `'<f4'` as is; `'<f8'` rounded to the nearest `Float`; integers
    /// converted (rounded to the nearest `Float` beyond 2^24).
    ///
    /// - Throws: ``DNLSError/outOfRange(argument:value:valid:)`` (argument `"array"`) when a
    ///   finite `'<f8'` value is too large for `Float` (it would become infinite). NaNs and
    ///   infinities are kept.
    public func floatTensor() throws(DNLSError) -> Tensor<Float> {
        switch self {
        case let .float(t):
            return t
        case let .double(t):
            let values = t.scalars
            var converted = [Float]()
            converted.reserveCapacity(values.count)
            for (i, x) in values.enumerated() {
                let f = Float(x)
                if f.isInfinite && x.isFinite {
                    throw .outOfRange(argument: "array", value: "the '<f8' value \(x) at \(Self.index(i, in: t.shape))",
                                      valid: "the finite range of Float (±\(Float.greatestFiniteMagnitude))")
                }
                converted.append(f)
            }
            return Tensor(uncheckedShape: t.shape, scalars: converted)
        case let .int32(t):
            return Tensor(uncheckedShape: t.shape, scalars: t.scalars.map { Float($0) })
        case let .int64(shape, scalars):
            return Tensor(uncheckedShape: shape, scalars: scalars.map { Float($0) })
        }
    }

    /// The array as `Double`s: `'<f8'` as is, `'<f4'` and `'<i4'` exactly, `'<i8'` rounded to
    /// the nearest `Double` beyond 2^53.
    public func doubleTensor() -> Tensor<Double> {
        switch self {
        case let .float(t): return Tensor(uncheckedShape: t.shape, scalars: t.scalars.map { Double($0) })
        case let .double(t): return t
        case let .int32(t): return Tensor(uncheckedShape: t.shape, scalars: t.scalars.map { Double($0) })
        case let .int64(shape, scalars): return Tensor(uncheckedShape: shape, scalars: scalars.map { Double($0) })
        }
    }

    /// The array as `Int32`s, for index tensors: `'<i4'` as is, `'<i8'` when every value fits
    /// `Int32`.
    ///
    /// - Throws: ``DNLSError/outOfRange(argument:value:valid:)`` (argument `"array"`) naming the
    ///   first `'<i8'` value outside `Int32`; ``DNLSError/invalidArgument(argument:expected:actual:)``
    ///   (argument `"array"`) for a floating-point array.
    public func int32Tensor() throws(DNLSError) -> Tensor<Int32> {
        switch self {
        case let .int32(t):
            return t
        case let .int64(shape, scalars):
            var converted = [Int32]()
            converted.reserveCapacity(scalars.count)
            for (i, x) in scalars.enumerated() {
                guard let narrow = Int32(exactly: x) else {
                    throw .outOfRange(argument: "array", value: "the '<i8' value \(x) at \(Self.index(i, in: shape))",
                                      valid: "the range of Int32 (\(Int32.min)...\(Int32.max))")
                }
                converted.append(narrow)
            }
            return Tensor(uncheckedShape: shape, scalars: converted)
        case .float, .double:
            throw .invalidArgument(argument: "array", expected: "an integer array ('<i4' or '<i8')",
                                   actual: "a floating-point array of dtype '\(dtype)'")
        }
    }

    /// The multi-index of a row-major offset.
    private static func index(_ offset: Int, in shape: [Int]) -> [Int] {
        var rest = offset
        var index = [Int](repeating: 0, count: shape.count)
        for axis in shape.indices.reversed() where shape[axis] > 0 {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return index
    }
}

// MARK: - Element bytes

/// A fixed-size element stored little-endian in `.npy` data.
protocol NPYElement {
    /// Calls `body` with the elements' bytes in little-endian order.
    static func withLittleEndianBytes<R>(of elements: [Self], _ body: (UnsafeRawBufferPointer) -> R) -> R
    /// Converts elements read as little-endian bytes to host order, in place.
    static func fromLittleEndian(_ elements: inout [Self])
}

/// Elements whose bytes are those of a fixed-width integer bit pattern.
protocol NPYBitPatternElement: NPYElement {
    associatedtype Bits: FixedWidthInteger
    var npyBits: Bits { get }
    init(npyBits: Bits)
}

extension NPYBitPatternElement {
    static func withLittleEndianBytes<R>(of elements: [Self], _ body: (UnsafeRawBufferPointer) -> R) -> R {
        #if _endian(little)
        return elements.withUnsafeBytes(body)
        #else
        return elements.map { Self(npyBits: $0.npyBits.littleEndian) }.withUnsafeBytes(body)
        #endif
    }

    static func fromLittleEndian(_ elements: inout [Self]) {
        #if !_endian(little)
        for i in elements.indices { elements[i] = Self(npyBits: Bits(littleEndian: elements[i].npyBits)) }
        #endif
    }
}

extension Float: NPYBitPatternElement {
    var npyBits: UInt32 { bitPattern }
    init(npyBits: UInt32) { self.init(bitPattern: npyBits) }
}

extension Double: NPYBitPatternElement {
    var npyBits: UInt64 { bitPattern }
    init(npyBits: UInt64) { self.init(bitPattern: npyBits) }
}

extension Int32: NPYBitPatternElement {
    var npyBits: Int32 { self }
    init(npyBits: Int32) { self = npyBits }
}

extension Int64: NPYBitPatternElement {
    var npyBits: Int64 { self }
    init(npyBits: Int64) { self = npyBits }
}
