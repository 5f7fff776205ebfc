// The header of a NumPy `.npy` file (format versions 1.0, 2.0 and 3.0), as
// numpy/lib/format.py defines it:
//
//     "\x93NUMPY" major minor HEADER_LEN HEADER
//
// HEADER_LEN is a little-endian UInt16 (version 1.0) or UInt32 (2.0 and 3.0); HEADER is the
// repr of a Python dict with exactly the keys 'descr', 'fortran_order' and 'shape', padded with
// spaces and ended by '\n' so that the data starts at a multiple of 64 bytes. It is Latin-1 in
// versions 1.0 and 2.0 and UTF-8 in 3.0. This file parses and formats that header; NPYFile.swift
// does the file I/O.

/// A reason why bytes are not a supported `.npy` file; the file layer adds the path.
struct NPYFormatIssue: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// The element types DNLS reads from and writes to `.npy` files (little-endian, C order).
enum NPYDType: String, Sendable, Equatable {
    case float32 = "<f4"
    case float64 = "<f8"
    case int32 = "<i4"
    case int64 = "<i8"

    /// Bytes per element.
    var itemSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        }
    }

    /// The dtypes DNLS reads, for error messages.
    static let supportedList = "'<f4', '<f8', '<i4' and '<i8'"

    /// The dtype a `descr` string names, or a reason why DNLS cannot read it.
    ///
    /// `<` is little-endian; `=` (native) and `|` (not applicable) mean the host's byte order,
    /// which is little-endian on every platform DNLS runs on. A `descr` without a byte-order
    /// character is native too. `>` (big-endian), object arrays and every other type are refused.
    static func parse(descr: String) throws(NPYFormatIssue) -> NPYDType {
        guard let first = descr.unicodeScalars.first else {
            throw NPYFormatIssue("'descr' is an empty string, not a dtype")
        }
        let order: Unicode.Scalar
        let code: Substring
        if "<>|=".unicodeScalars.contains(first) {
            order = first
            code = descr.dropFirst()
        } else {
            order = "="
            code = Substring(descr)
        }
        if code.hasPrefix("O") {
            throw NPYFormatIssue(
                "dtype '\(descr)' is an object array (pickled Python objects), which DNLS does not read; "
                    + "save a numeric array instead (DNLS reads \(supportedList))")
        }
        let known: NPYDType? = switch code {
        case "f4": .float32
        case "f8": .float64
        case "i4": .int32
        case "i8": .int64
        default: nil
        }
        guard let known else {
            throw NPYFormatIssue(
                "dtype '\(descr)' is not supported; DNLS reads \(supportedList) (convert with a.astype('<f4'), for example)")
        }
        var bigEndian = order == ">"
        #if _endian(big)
        if order == "=" || order == "|" { bigEndian = true }
        #endif
        if bigEndian {
            throw NPYFormatIssue(
                "dtype '\(descr)' is big-endian, which DNLS does not read; DNLS reads \(supportedList) "
                    + "(convert with a.astype('\(known.rawValue)'))")
        }
        return known
    }
}

/// The parsed header: what the data after it holds.
struct NPYHeader: Sendable, Equatable {
    /// The element type.
    var dtype: NPYDType
    /// The extent of each axis, outermost first (empty for a 0-d array).
    var shape: [Int]

    /// The magic string every `.npy` file starts with.
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"
    /// The data of a file DNLS writes starts at a multiple of this many bytes.
    static let alignment = 64
    /// Spaces NumPy reserves after the dict so that the first extent can grow in place.
    static let growthAxisMaxDigits = 21

    /// The number of elements, or nil when the product overflows `Int`.
    static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for extent in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            if overflow { return nil }
            count = product
        }
        return count
    }

    /// The header dict of `.npy` format version `major` (1, 2 or 3), decoded and parsed.
    static func parse(_ bytes: [UInt8], major: UInt8) throws(NPYFormatIssue) -> NPYHeader {
        let text: String
        if major == 3 {
            guard let utf8 = String(validating: bytes, as: UTF8.self) else {
                throw NPYFormatIssue("the version 3.0 header is not valid UTF-8")
            }
            text = utf8
        } else {
            var latin1 = String.UnicodeScalarView()
            for byte in bytes { latin1.append(Unicode.Scalar(byte)) }
            text = String(latin1)
        }
        var parser = PythonLiteralParser(text)
        let literal = try parser.parseAll()
        guard case let .dict(entries) = literal else {
            throw NPYFormatIssue("the header is not a Python dict: \(excerpt(text))")
        }
        var values: [String: PythonLiteral] = [:]
        for (key, value) in entries {
            guard case let .string(name) = key else {
                throw NPYFormatIssue("the header dict has a key that is not a string: \(key)")
            }
            values[name] = value
        }
        for required in ["descr", "fortran_order", "shape"] where values[required] == nil {
            throw NPYFormatIssue("the header dict lacks the key '\(required)': \(excerpt(text))")
        }
        if let extra = values.keys.sorted().first(where: { !["descr", "fortran_order", "shape"].contains($0) }) {
            throw NPYFormatIssue("the header dict has the unexpected key '\(extra)'; a .npy header holds only "
                + "'descr', 'fortran_order' and 'shape'")
        }

        let dtype: NPYDType
        switch values["descr"]! {
        case let .string(descr):
            dtype = try NPYDType.parse(descr: descr)
        case let .list(fields):
            throw NPYFormatIssue("the dtype is structured (\(fields.count) field\(fields.count == 1 ? "" : "s"): \(values["descr"]!)), which DNLS "
                + "does not read; DNLS reads \(NPYDType.supportedList)")
        case let other:
            throw NPYFormatIssue("'descr' must be a dtype string, found \(other)")
        }

        guard case let .bool(fortranOrder) = values["fortran_order"]! else {
            throw NPYFormatIssue("'fortran_order' must be True or False, found \(values["fortran_order"]!)")
        }
        if fortranOrder {
            throw NPYFormatIssue("fortran_order is True (column-major data), which DNLS does not read; "
                + "save np.ascontiguousarray(a) instead")
        }

        guard case let .tuple(items) = values["shape"]! else {
            throw NPYFormatIssue("'shape' must be a tuple of non-negative integers, found \(values["shape"]!)")
        }
        var shape: [Int] = []
        for item in items {
            guard case let .int(extent) = item, extent >= 0 else {
                throw NPYFormatIssue("'shape' must be a tuple of non-negative integers, found \(values["shape"]!)")
            }
            shape.append(extent)
        }
        guard let count = elementCount(shape), count.multipliedReportingOverflow(by: dtype.itemSize).overflow == false
        else {
            throw NPYFormatIssue("shape \(PythonLiteral.tuple(shape.map { .int($0) })) is too large to address")
        }
        return NPYHeader(dtype: dtype, shape: shape)
    }

    /// The Python repr of the shape tuple: `()`, `(3,)`, `(2, 3)`.
    static func shapeRepr(_ shape: [Int]) -> String {
        PythonLiteral.tuple(shape.map { .int($0) }).description
    }

    /// The complete header (magic, version, length, padded dict and newline), byte for byte what
    /// NumPy's `np.save` writes: version 1.0 unless the header is longer than 65535 bytes, then
    /// 2.0; the data that follows starts at a multiple of 64 bytes.
    func encoded() -> [UInt8] {
        var dict = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(Self.shapeRepr(shape)), }"
        if let first = shape.first {
            dict += String(repeating: " ", count: max(0, Self.growthAxisMaxDigits - String(first).utf8.count))
        }
        let dictBytes = Array(dict.utf8)  // ASCII
        let unpadded = dictBytes.count + 1  // the final newline
        for (major, lengthBytes) in [(UInt8(1), 2), (UInt8(2), 4)] {
            let prefix = Self.magic.count + 2 + lengthBytes
            let padding = Self.alignment - (prefix + unpadded) % Self.alignment
            let headerLength = unpadded + padding
            if lengthBytes == 2 && headerLength > Int(UInt16.max) { continue }
            var bytes = Self.magic + [major, 0]
            bytes.reserveCapacity(prefix + headerLength)
            for i in 0..<lengthBytes { bytes.append(UInt8(truncatingIfNeeded: headerLength >> (8 * i))) }
            bytes += dictBytes
            bytes += Array(repeating: UInt8(ascii: " "), count: padding)
            bytes.append(UInt8(ascii: "\n"))
            return bytes
        }
        fatalError("unreachable: a version 2.0 header holds any shape DNLS can allocate")
    }

    /// The start of a header for error messages (at most 120 characters).
    static func excerpt(_ text: String) -> String {
        let trimmed = String(text.unicodeScalars.prefix(120))
        return "\"" + trimmed + (text.unicodeScalars.count > 120 ? "…" : "") + "\""
    }
}

// MARK: - Python literals

/// The Python literals a `.npy` header can hold.
indirect enum PythonLiteral: Equatable, CustomStringConvertible {
    case string(String)
    case int(Int)
    case bool(Bool)
    case none
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    case dict([(PythonLiteral, PythonLiteral)])

    static func == (a: PythonLiteral, b: PythonLiteral) -> Bool { a.description == b.description }

    /// The Python repr.
    var description: String {
        switch self {
        case let .string(s): return "'" + s + "'"
        case let .int(i): return String(i)
        case let .bool(b): return b ? "True" : "False"
        case .none: return "None"
        case let .tuple(items):
            return items.count == 1 ? "(\(items[0]),)" : "(" + items.map(\.description).joined(separator: ", ") + ")"
        case let .list(items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case let .dict(entries): return "{" + entries.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}"
        }
    }
}

/// A recursive-descent parser of the Python literals `ast.literal_eval` accepts in `.npy`
/// headers: strings, integers (with Python 2's `L` suffix), True/False/None, tuples, lists and
/// dicts.
struct PythonLiteralParser {
    private let scalars: [Unicode.Scalar]
    private var position = 0
    private static let maxDepth = 64
    private var depth = 0

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    /// One literal followed by nothing but whitespace.
    mutating func parseAll() throws(NPYFormatIssue) -> PythonLiteral {
        let value = try parseValue()
        skipWhitespace()
        if position < scalars.count { throw unexpected("after the header dict") }
        return value
    }

    private var current: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    private mutating func skipWhitespace() {
        while let c = current, c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0C}" { position += 1 }
    }

    private func unexpected(_ context: String) -> NPYFormatIssue {
        guard let c = current else { return NPYFormatIssue("the header dict ends early (\(context))") }
        let text = String(String.UnicodeScalarView(scalars[position..<min(scalars.count, position + 20)]))
        return NPYFormatIssue("malformed header dict: unexpected \(c.isASCII && c.value >= 32 ? "`\(c)`" : "U+\(String(c.value, radix: 16, uppercase: true))") "
            + "at character \(position) \(context) (\"\(text)\")")
    }

    private mutating func expect(_ c: Unicode.Scalar, _ context: String) throws(NPYFormatIssue) {
        skipWhitespace()
        guard current == c else { throw unexpected(context) }
        position += 1
    }

    private mutating func parseValue() throws(NPYFormatIssue) -> PythonLiteral {
        skipWhitespace()
        guard let c = current else { throw unexpected("where a value was expected") }
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxDepth { throw NPYFormatIssue("malformed header dict: nested more than \(Self.maxDepth) deep") }
        switch c {
        case "'", "\"": return .string(try parseString())
        case "(": return try parseTuple()
        case "[":
            position += 1
            return .list(try parseItems(until: "]"))
        case "{": return try parseDict()
        case "-", "+", "0"..."9": return .int(try parseInt())
        default:
            var word = ""
            while let w = current, w.properties.isAlphabetic || w == "_" || ("0"..."9").contains(w) {
                word.unicodeScalars.append(w)
                position += 1
            }
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .none
            case "": throw unexpected("where a value was expected")
            default: throw NPYFormatIssue("malformed header dict: unknown name '\(word)' at character \(position - word.unicodeScalars.count)")
            }
        }
    }

    private mutating func parseString() throws(NPYFormatIssue) -> String {
        let quote = current!
        let start = position
        position += 1
        var result = String.UnicodeScalarView()
        while let c = current {
            position += 1
            if c == quote { return String(result) }
            if c == "\n" { break }
            if c == "\\" {
                guard let escaped = current else { break }
                position += 1
                switch escaped {
                case "n": result.append("\n")
                case "t": result.append("\t")
                case "r": result.append("\r")
                case "0": result.append("\0")
                case "\\", "'", "\"": result.append(escaped)
                default: result.append("\\"); result.append(escaped)
                }
            } else {
                result.append(c)
            }
        }
        throw NPYFormatIssue("malformed header dict: the string starting at character \(start) is not closed")
    }

    private mutating func parseInt() throws(NPYFormatIssue) -> Int {
        let start = position
        var negative = false
        if current == "-" || current == "+" {
            negative = current == "-"
            position += 1
            skipWhitespace()
        }
        var value = 0
        var digits = 0
        while let c = current, ("0"..."9").contains(c) {
            let digit = Int(c.value - 48)
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
            if o1 || o2 {
                throw NPYFormatIssue("malformed header dict: the integer at character \(start) does not fit 64 bits")
            }
            value = sum
            digits += 1
            position += 1
        }
        guard digits > 0 else { throw unexpected("where digits were expected") }
        if current == "L" || current == "l" { position += 1 }  // Python 2 long
        return value
    }

    /// `(` … `)`: `()` and `(x,)` are tuples, `(x)` is just `x`, as in Python.
    private mutating func parseTuple() throws(NPYFormatIssue) -> PythonLiteral {
        position += 1
        skipWhitespace()
        if current == ")" {
            position += 1
            return .tuple([])
        }
        let first = try parseValue()
        skipWhitespace()
        if current == ")" {
            position += 1
            return first
        }
        try expect(",", "in a tuple")
        return .tuple([first] + (try parseItems(until: ")")))
    }

    /// Comma-separated values up to `close` (a trailing comma allowed); consumes `close`.
    private mutating func parseItems(until close: Unicode.Scalar) throws(NPYFormatIssue) -> [PythonLiteral] {
        var items: [PythonLiteral] = []
        while true {
            skipWhitespace()
            if current == close {
                position += 1
                return items
            }
            items.append(try parseValue())
            skipWhitespace()
            if current == close { continue }
            try expect(",", "between items")
        }
    }

    private mutating func parseDict() throws(NPYFormatIssue) -> PythonLiteral {
        position += 1
        var entries: [(PythonLiteral, PythonLiteral)] = []
        while true {
            skipWhitespace()
            if current == "}" {
                position += 1
                return .dict(entries)
            }
            let key = try parseValue()
            try expect(":", "after a dict key")
            let value = try parseValue()
            entries.append((key, value))
            skipWhitespace()
            if current == "}" { continue }
            try expect(",", "between dict entries")
        }
    }
}
