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
        let shown = PythonLiteral.string(descr).brief  // quoted, escaped and cut short
        // Compared byte for byte: Swift's String equality is by canonical equivalence, under
        // which "<" followed by U+0338 is one character ("≮").
        let bytes = Array(descr.utf8)
        guard let first = bytes.first else {
            throw NPYFormatIssue("'descr' is an empty string, not a dtype")
        }
        let hasOrder = [UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "|"), UInt8(ascii: "=")].contains(first)
        let order = hasOrder ? Unicode.Scalar(first) : "="
        let code = bytes.dropFirst(hasOrder ? 1 : 0)
        if code.first == UInt8(ascii: "O") {
            throw NPYFormatIssue(
                "dtype \(shown) is an object array (pickled Python objects), which DNLS does not read; "
                    + "save a numeric array instead (DNLS reads \(supportedList))")
        }
        let known = [NPYDType.float32, .float64, .int32, .int64].first { code.elementsEqual($0.rawValue.utf8.dropFirst()) }
        guard let known else {
            throw NPYFormatIssue(
                "dtype \(shown) is not supported; DNLS reads \(supportedList) (convert with a.astype('<f4'), for example)")
        }
        var bigEndian = order == ">"
        #if _endian(big)
        if order == "=" || order == "|" { bigEndian = true }
        #endif
        if bigEndian {
            throw NPYFormatIssue(
                "dtype \(shown) is big-endian, which DNLS does not read; DNLS reads \(supportedList) "
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

    /// The most axes NumPy arrays have (`NPY_MAXDIMS`); NumPy refuses to load more.
    static let maxRank = 64

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

    /// Whether `shape` × `itemSize` bytes is addressable, empty axes counted as 1 (NumPy's
    /// "array is too big" rule): `(0, 2^62, 2^62)` holds no elements, but its strides overflow.
    static func isAddressable(_ shape: [Int], itemSize: Int) -> Bool {
        var bytes = itemSize
        for extent in shape {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: max(extent, 1))
            if overflow { return false }
            bytes = product
        }
        return true
    }

    /// The header dict of `.npy` format version `major` (1, 2 or 3), decoded and parsed as
    /// strictly as NumPy's `numpy.lib.format._read_array_header`: what NumPy refuses is refused
    /// here too, with a reason naming what is wrong. Beyond NumPy, the header must end with the
    /// newline the format prescribes, and a dict with a repeated key is refused (NumPy keeps the
    /// last value without a word). Some literals NumPy accepts but no writer produces (comments,
    /// line continuations, non-decimal integers, string prefixes, `\N{…}` escapes) are refused.
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
        if let nul = bytes.firstIndex(of: 0) {
            throw NPYFormatIssue("the header holds a NUL byte (at byte \(nul) of the header), which no Python literal may")
        }
        // The format ends the header with '\n' (after any padding spaces); a header without it
        // was cut short or not written by a .npy writer.
        guard text.unicodeScalars.last == "\n" else {
            throw NPYFormatIssue("the header does not end with a newline (\\n), as the .npy format requires: "
                + "\(excerpt(text, fromEnd: true))")
        }
        var parser = PythonLiteralParser(text, python2Longs: major < 3)
        let literal = try parser.parseAll()
        guard case let .dict(entries) = literal else {
            throw NPYFormatIssue("the header is not a Python dict: \(excerpt(text))")
        }
        let expected = ["descr", "fortran_order", "shape"]
        var values: [String: PythonLiteral] = [:]
        for (key, value) in entries {
            guard case let .string(name) = key else {
                throw NPYFormatIssue("the header dict has a key that is not a string: \(key.brief)")
            }
            // Only ASCII keys can be NumPy's, and they compare byte for byte (see NPYDType.parse).
            guard name.utf8.allSatisfy({ $0 < 0x80 }) else {
                throw NPYFormatIssue("the header dict has the unexpected key \(key.brief); a .npy header holds only "
                    + "'descr', 'fortran_order' and 'shape'")
            }
            // NumPy keeps the last of repeated keys; which one a writer meant is a guess.
            if values.updateValue(value, forKey: name) != nil {
                throw NPYFormatIssue("the header dict has the key \(PythonLiteral.string(name).brief) more than once")
            }
        }
        for required in expected where values[required] == nil {
            throw NPYFormatIssue("the header dict lacks the key '\(required)': \(excerpt(text))")
        }
        if let extra = values.keys.sorted().first(where: { !expected.contains($0) }) {
            throw NPYFormatIssue("the header dict has the unexpected key \(PythonLiteral.string(extra).brief); a .npy "
                + "header holds only 'descr', 'fortran_order' and 'shape'")
        }

        let dtype: NPYDType
        switch values["descr"]! {
        case let .string(descr):
            dtype = try NPYDType.parse(descr: descr)
        case let .list(fields):
            throw NPYFormatIssue("the dtype is structured (\(fields.count) field\(fields.count == 1 ? "" : "s"): "
                + "\(values["descr"]!.brief)), which DNLS does not read; DNLS reads \(NPYDType.supportedList)")
        case let other:
            throw NPYFormatIssue("'descr' must be a dtype string, found \(other.brief)")
        }

        guard case let .bool(fortranOrder) = values["fortran_order"]! else {
            throw NPYFormatIssue("'fortran_order' must be True or False, found \(values["fortran_order"]!.brief)")
        }
        if fortranOrder {
            throw NPYFormatIssue("fortran_order is True (column-major data), which DNLS does not read; "
                + "save np.ascontiguousarray(a) instead")
        }

        guard case let .tuple(items) = values["shape"]! else {
            throw NPYFormatIssue("'shape' must be a tuple of non-negative integers, found \(values["shape"]!.brief)")
        }
        var shape: [Int] = []
        for item in items {
            // True and False are Python ints, but NumPy refuses them as extents too.
            guard case let .int(extent) = item, extent >= 0 else {
                throw NPYFormatIssue("'shape' must be a tuple of non-negative integers, found \(values["shape"]!.brief)")
            }
            shape.append(extent)
        }
        guard shape.count <= maxRank else {
            throw NPYFormatIssue("the shape has \(shape.count) axes, more than the \(maxRank) NumPy arrays can have")
        }
        guard isAddressable(shape, itemSize: dtype.itemSize) else {
            throw NPYFormatIssue("shape \(shapeRepr(shape)) of dtype '\(dtype.rawValue)' is too large to address: "
                + "its byte size overflows 64 bits")
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

    /// The start (or end) of a header for error messages (at most 120 characters), quoted with
    /// control characters escaped.
    static func excerpt(_ text: String, fromEnd: Bool = false) -> String {
        let scalars = Array(text.unicodeScalars)
        let limit = 120
        let cut = scalars.count > limit
        let part = fromEnd ? scalars.suffix(limit) : scalars.prefix(limit)
        var quoted = ""
        for c in part { quoted += PythonLiteral.escaped(c) }
        return "\"" + (cut && fromEnd ? "…" : "") + quoted + (cut && !fromEnd ? "…" : "") + "\""
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
        case let .string(s): return "'" + s.unicodeScalars.map { $0 == "'" ? "\\'" : Self.escaped($0) }.joined() + "'"
        case let .int(i): return String(i)
        case let .bool(b): return b ? "True" : "False"
        case .none: return "None"
        case let .tuple(items):
            return items.count == 1 ? "(\(items[0]),)" : "(" + items.map(\.description).joined(separator: ", ") + ")"
        case let .list(items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case let .dict(entries): return "{" + entries.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}"
        }
    }

    /// The repr cut to 120 characters, for error messages (a header may be a megabyte long).
    var brief: String {
        let full = description
        return full.unicodeScalars.count <= 120 ? full : String(String.UnicodeScalarView(full.unicodeScalars.prefix(120))) + "…"
    }

    /// A character as Python's repr writes it inside a string: control characters escaped.
    static func escaped(_ c: Unicode.Scalar) -> String {
        switch c {
        case "\\": return "\\\\"
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        default:
            guard c.value < 0x20 || (0x7F..<0xA0).contains(c.value) else { return String(c) }
            let hex = String(c.value, radix: 16)
            return "\\x" + (hex.count < 2 ? "0" : "") + hex
        }
    }
}

/// A recursive-descent parser of the Python literals `ast.literal_eval` accepts in `.npy`
/// headers: strings, decimal integers (with Python 2's `L` suffix in version 1.0 and 2.0
/// headers, which NumPy strips there only), True/False/None, tuples, lists and dicts, with
/// Python's rules where they matter: no leading zeros, no newline inside a string, no
/// indentation before the literal.
struct PythonLiteralParser {
    private let scalars: [Unicode.Scalar]
    private let python2Longs: Bool
    private var position = 0
    private static let maxDepth = 64
    private var depth = 0

    init(_ text: String, python2Longs: Bool) {
        scalars = Array(text.unicodeScalars)
        self.python2Longs = python2Longs
    }

    /// One literal, with nothing but whitespace around it.
    mutating func parseAll() throws(NPYFormatIssue) -> PythonLiteral {
        try skipLeadingWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if position < scalars.count { throw unexpected("after the header dict") }
        return value
    }

    private var current: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    /// Whitespace inside brackets and after the literal: Python ignores spaces, tabs, form feeds
    /// and line breaks there (not vertical tabs).
    private static func isWhitespace(_ c: Unicode.Scalar) -> Bool {
        c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0C}"
    }

    private mutating func skipWhitespace() {
        while let c = current, Self.isWhitespace(c) { position += 1 }
    }

    /// `ast.literal_eval` strips spaces and tabs before the literal; blank lines may follow, but
    /// the line holding the literal must not be indented (Python's IndentationError).
    private mutating func skipLeadingWhitespace() throws(NPYFormatIssue) {
        var sawBreak = false
        while let c = current, Self.isWhitespace(c) {
            if c == "\n" || c == "\r" {
                sawBreak = true
            } else if c == "\u{0C}" && !sawBreak {
                throw NPYFormatIssue("malformed header dict: a form feed before the dict at character \(position)")
            }
            position += 1
        }
        if sawBreak && current != nil && scalars[position - 1] != "\n" && scalars[position - 1] != "\r" {
            throw NPYFormatIssue("malformed header dict: the dict is indented after a line break "
                + "(Python's IndentationError) at character \(position)")
        }
    }

    private func unexpected(_ context: String) -> NPYFormatIssue {
        guard let c = current else { return NPYFormatIssue("the header dict ends early (\(context))") }
        var text = ""
        for s in scalars[position..<min(scalars.count, position + 20)] { text += PythonLiteral.escaped(s) }
        return NPYFormatIssue("malformed header dict: unexpected \(c.isASCII && c.value >= 32 ? "`\(c)`" : "U+\(String(c.value, radix: 16, uppercase: true))") "
            + "at character \(position) \(context) (\"\(text)\")")
    }

    private mutating func expect(_ c: Unicode.Scalar, _ context: String) throws(NPYFormatIssue) {
        skipWhitespace()
        guard current == c else { throw unexpected(context) }
        position += 1
    }

    private static func isDigit(_ c: Unicode.Scalar?) -> Bool {
        guard let c else { return false }
        return ("0"..."9").contains(c)
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
            let start = position
            while let w = current, w.properties.isAlphabetic || w == "_" || Self.isDigit(w) { position += 1 }
            let word = String(String.UnicodeScalarView(scalars[start..<position]))
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .none
            case "":
                throw unexpected("where a value was expected")
            default:
                let shown = word.unicodeScalars.count > 40 ? String(String.UnicodeScalarView(word.unicodeScalars.prefix(40))) + "…" : word
                if let quote = current, quote == "'" || quote == "\"", word.unicodeScalars.count <= 3 {
                    throw NPYFormatIssue("malformed header dict: the string prefix '\(shown)' at character \(start) is not supported")
                }
                throw NPYFormatIssue("malformed header dict: unknown name '\(shown)' at character \(start)")
            }
        }
    }

    /// A single-quoted or double-quoted string with Python 3's escapes. Triple quotes, prefixes
    /// and adjacent strings (which Python joins) are refused: no `.npy` writer makes them.
    private mutating func parseString() throws(NPYFormatIssue) -> String {
        let quote = current!
        let start = position
        position += 1
        var result = String.UnicodeScalarView()
        func notClosed() -> NPYFormatIssue {
            NPYFormatIssue("malformed header dict: the string starting at character \(start) is not closed on its line")
        }
        while let c = current {
            position += 1
            if c == quote {
                if position == start + 2 && current == quote {
                    throw NPYFormatIssue("malformed header dict: a triple-quoted string at character \(start) is not supported")
                }
                return String(result)
            }
            if c == "\n" || c == "\r" { throw notClosed() }
            guard c == "\\" else {
                result.append(c)
                continue
            }
            guard let escaped = current else { break }
            position += 1
            switch escaped {
            case "\n": break  // a line continuation
            case "\r": if current == "\n" { position += 1 }
            case "\\", "'", "\"": result.append(escaped)
            case "a": result.append("\u{07}")
            case "b": result.append("\u{08}")
            case "f": result.append("\u{0C}")
            case "n": result.append("\n")
            case "r": result.append("\r")
            case "t": result.append("\t")
            case "v": result.append("\u{0B}")
            case "0"..."7":
                var value = escaped.value - 48
                for _ in 0..<2 {
                    guard let d = current, ("0"..."7").contains(d) else { break }
                    value = value * 8 + d.value - 48
                    position += 1
                }
                result.append(Unicode.Scalar(value)!)  // at most 0o777
            case "x", "u", "U":
                let digits = escaped == "x" ? 2 : escaped == "u" ? 4 : 8
                var value: UInt32 = 0
                for _ in 0..<digits {
                    guard let d = current, let v = Self.hexValue(d) else {
                        throw NPYFormatIssue("malformed header dict: truncated \\\(escaped) escape in the string starting at character \(start)")
                    }
                    value = value << 4 | v
                    position += 1
                }
                guard let scalar = Unicode.Scalar(value) else {
                    throw NPYFormatIssue("malformed header dict: the escape \\\(escaped)\(String(value, radix: 16)) in the string "
                        + "starting at character \(start) is not a Unicode character DNLS reads")
                }
                result.append(scalar)
            case "N":
                throw NPYFormatIssue("malformed header dict: \\N{…} escapes (in the string starting at character \(start)) are not supported")
            default:
                // Python keeps the backslash of an unknown escape.
                result.append("\\")
                result.append(escaped)
            }
        }
        throw notClosed()
    }

    private static func hexValue(_ c: Unicode.Scalar) -> UInt32? {
        switch c {
        case "0"..."9": return c.value - 48
        case "a"..."f": return c.value - 97 + 10
        case "A"..."F": return c.value - 65 + 10
        default: return nil
        }
    }

    /// A decimal integer with an optional sign, as Python reads it: digits with single
    /// underscores between them, no leading zeros (`03` is a SyntaxError) unless all are zeros.
    private mutating func parseInt() throws(NPYFormatIssue) -> Int {
        let start = position
        var negative = false
        if current == "-" || current == "+" {
            negative = current == "-"
            position += 1
            skipWhitespace()
        }
        let digitsStart = position
        var value = 0
        var digits = 0
        var nonZero = false
        while let c = current {
            if c == "_" && digits > 0 && Self.isDigit(position + 1 < scalars.count ? scalars[position + 1] : nil) {
                position += 1
                continue
            }
            guard Self.isDigit(c) else { break }
            let digit = Int(c.value - 48)
            if digit != 0 { nonZero = true }
            if nonZero && digits > 0 && scalars[digitsStart] == "0" {
                throw NPYFormatIssue("malformed header dict: the integer at character \(start) has a leading zero, "
                    + "which Python 3 does not allow")
            }
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
        if let c = current, c == "x" || c == "X" || c == "o" || c == "O" || c == "b" || c == "B", digits == 1, value == 0 {
            throw NPYFormatIssue("malformed header dict: the non-decimal integer at character \(start) is not supported")
        }
        // Python 2's long suffix, which NumPy strips from version 1.0 and 2.0 headers only.
        if python2Longs && current == "L" { position += 1 }
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
