@_spi(Fuzzing) import DNLS
import DNLSTestSupport
import Dispatch
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `.npy` reading and writing: round trips of every dtype and rank, files written by NumPy itself
/// (embedded below as bytes, so the tests need no Python), byte-for-byte agreement with `np.save`,
/// and every kind of bad file rejected with a typed error that names the file.
@Suite("NPY files")
struct NPYTests {

    // MARK: Round trips

    /// Shapes from 0-d to 6-D, with empty and unit axes.
    static let shapes: [[Int]] = [
        [], [0], [1], [7], [3, 5], [0, 3], [2, 0, 4], [2, 3, 4], [1, 2, 3, 5], [2, 1, 3, 1, 2], [1, 2, 1, 3, 2, 3],
        [3, 0, 0, 1, 1, 2],
    ]

    @Test("Float tensors round-trip bit for bit, special values included", arguments: shapes)
    func floatRoundTrip(shape: [Int]) throws {
        var rng = SplitMix64(seed: UInt64(shape.count * 31 + shape.reduce(0, +)))
        let specials: [Float] = [.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        let n = shape.reduce(1, *)
        let values = (0..<n).map { i in i < specials.count ? specials[i] : Float(rng.uniform(-1e3, 1e3)) }
        let tensor = try Tensor(shape: shape, scalars: values)
        try withTemporaryPath { path in
            try NPY.write(tensor, to: path)
            expectWellFormed(path, shape: shape, itemSize: 4, dtype: "<f4")
            let array = try NPY.read(path)
            #expect(array.dtype == "<f4" && array.shape == shape)
            guard case let .float(read) = array else { Issue.record("not .float: \(array.dtype)"); return }
            expectBitwiseEqual(read, tensor, "shape \(shape)")
            expectBitwiseEqual(try array.floatTensor(), tensor, "floatTensor of shape \(shape)")
        }
    }

    @Test("Double tensors round-trip bit for bit", arguments: shapes)
    func doubleRoundTrip(shape: [Int]) throws {
        var rng = SplitMix64(seed: UInt64(shape.count * 17 + 5))
        let specials: [Double] = [.nan, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, .pi]
        let n = shape.reduce(1, *)
        let values = (0..<n).map { i in i < specials.count ? specials[i] : rng.uniform(-1e300, 1e300) }
        let tensor = try Tensor(shape: shape, scalars: values)
        try withTemporaryPath { path in
            try NPY.write(tensor, to: path)
            expectWellFormed(path, shape: shape, itemSize: 8, dtype: "<f8")
            let array = try NPY.read(path)
            guard case let .double(read) = array else { Issue.record("not .double: \(array.dtype)"); return }
            #expect(read.shape == shape)
            #expect(read.scalars.map(\.bitPattern) == values.map(\.bitPattern), "shape \(shape)")
            #expect(array.doubleTensor().scalars.map(\.bitPattern) == values.map(\.bitPattern))
        }
    }

    @Test("Int32 tensors round-trip exactly", arguments: shapes)
    func int32RoundTrip(shape: [Int]) throws {
        var rng = SplitMix64(seed: UInt64(shape.count * 7 + 3))
        let specials: [Int32] = [.min, .max, -1, 0]
        let n = shape.reduce(1, *)
        let values = (0..<n).map { i in i < specials.count ? specials[i] : Int32(truncatingIfNeeded: rng.next()) }
        let tensor = try Tensor(shape: shape, scalars: values)
        try withTemporaryPath { path in
            try NPY.write(tensor, to: path)
            expectWellFormed(path, shape: shape, itemSize: 4, dtype: "<i4")
            let array = try NPY.read(path)
            guard case let .int32(read) = array else { Issue.record("not .int32: \(array.dtype)"); return }
            expectSame(read, tensor, "shape \(shape)")
            expectSame(try array.int32Tensor(), tensor, "int32Tensor of shape \(shape)")
            #expect(try array.floatTensor().scalars == values.map { Float($0) })
        }
    }

    @Test("An NPYArray read back is written back unchanged, int64 included")
    func arrayRoundTrip() throws {
        for bytes in [NumPyFiles.float32Matrix, NumPyFiles.float64Cube, NumPyFiles.int32Vector,
                      NumPyFiles.int64Matrix, NumPyFiles.int64Large, NumPyFiles.float64Scalar, NumPyFiles.float32Empty] {
            try withFile(bytes) { source in
                let array = try NPY.read(source)
                try withTemporaryPath { copy in
                    try NPY.write(array, to: copy)
                    #expect(try readBytes(copy) == bytes, "dtype \(array.dtype) shape \(array.shape)")
                    #expect(try NPY.read(copy) == array)
                }
            }
        }
        try withTemporaryPath { path in
            expectDNLSError(.shapeMismatch, argument: "array") {
                try NPY.write(NPYArray.int64(shape: [2, 2], scalars: [1, 2, 3]), to: path)
            }
            #expect(!fileExists(path))
        }
    }

    @Test("Writing replaces an existing file")
    func overwrite() throws {
        try withTemporaryPath { path in
            try NPY.write(Tensor<Float>(repeating: 1, shape: [100]), to: path)
            try NPY.write(Tensor<Int32>(repeating: 7, shape: [2]), to: path)
            #expect(try NPY.read(path) == .int32(Tensor(repeating: 7, shape: [2])))
        }
    }

    @Test("64 axes are written and read back; more, which NumPy cannot load, are refused both ways")
    func rankLimit() throws {
        let shape = [Int](repeating: 1, count: 64)
        let tensor = try Tensor<Float>(shape: shape, scalars: [2.5])
        try withTemporaryPath { path in
            try NPY.write(tensor, to: path)
            let bytes = try readBytes(path)
            #expect(bytes[6] == 1 && bytes[7] == 0, "version \(bytes[6]).\(bytes[7])")
            #expect((10 + (Int(bytes[8]) | Int(bytes[9]) << 8)) % 64 == 0)
            #expect(try NPY.read(path) == .float(tensor))
        }
        try withTemporaryPath { path in
            let error = expectDNLSError(.invalidArgument, argument: "tensor") {
                try NPY.write(Tensor<Float>(shape: shape + [1], scalars: [2.5]), to: path)
            }
            #expect(error?.description.contains("65 axes") == true, "\(String(describing: error))")
            #expect(!fileExists(path))
        }
        let tuple = "(" + [String](repeating: "1", count: 65).joined(separator: ", ") + ")"
        try expectFormatError(npy("{'descr': '<f4', 'fortran_order': False, 'shape': \(tuple), }\n",
                                  data: littleEndianBytes([Float(1)])), mentioning: "65 axes, more than the 64")
        // Small headers stay version 1.0.
        try withTemporaryPath { path in
            try NPY.write(Tensor<Float>(zeros: [2, 3]), to: path)
            let bytes = try readBytes(path)
            #expect(bytes[6] == 1 && bytes[7] == 0)
        }
    }

    // MARK: Files written by NumPy

    @Test("Files written by np.save are read with their values, and DNLS writes the same bytes")
    func numpyFiles() throws {
        let matrix = try Tensor<Float>(shape: [2, 3], scalars: [0.5, -1.25, 3.0, 1e-3, -0.0, 65504.0])
        try withFile(NumPyFiles.float32Matrix) { path in
            let array = try NPY.read(path)
            #expect(array == .float(matrix))
            expectBitwiseEqual(try array.floatTensor(), matrix)
            #expect(array.doubleTensor().scalars == matrix.scalars.map { Double($0) })
        }
        try withTemporaryPath { path in
            try NPY.write(matrix, to: path)
            #expect(try readBytes(path) == NumPyFiles.float32Matrix)
        }

        let cube = try Tensor<Double>(shape: [2, 2, 2], scalars: (0..<8).map { Double($0) * 0.1 - 0.3 })
        try withFile(NumPyFiles.float64Cube) { path in
            let array = try NPY.read(path)
            #expect(array == .double(cube))
            #expect(try array.floatTensor().scalars == cube.scalars.map { Float($0) })
            expectDNLSError(.invalidArgument, argument: "array") { _ = try array.int32Tensor() }
        }
        try withTemporaryPath { path in
            try NPY.write(cube, to: path)
            #expect(try readBytes(path) == NumPyFiles.float64Cube)
        }

        let vector = try Tensor<Int32>(shape: [5], scalars: [.min, -1, 0, 7, .max])
        try withFile(NumPyFiles.int32Vector) { path in
            let array = try NPY.read(path)
            #expect(array == .int32(vector))
        }
        try withTemporaryPath { path in
            try NPY.write(vector, to: path)
            #expect(try readBytes(path) == NumPyFiles.int32Vector)
        }

        let scalar = try Tensor<Double>(shape: [], scalars: [3.5])
        try withFile(NumPyFiles.float64Scalar) { path in
            let array = try NPY.read(path)
            #expect(array == .double(scalar))
        }
        try withTemporaryPath { path in
            try NPY.write(scalar, to: path)
            #expect(try readBytes(path) == NumPyFiles.float64Scalar)
        }

        let empty = Tensor<Float>(zeros: [0, 3])
        try withFile(NumPyFiles.float32Empty) { path in
            let array = try NPY.read(path)
            #expect(array == .float(empty))
        }
        try withTemporaryPath { path in
            try NPY.write(empty, to: path)
            #expect(try readBytes(path) == NumPyFiles.float32Empty)
        }
    }

    @Test("Version 2.0 and 3.0 headers written by NumPy")
    func numpyVersions() throws {
        try withFile(NumPyFiles.float32Version2) { path in
            let array = try NPY.read(path)
            #expect(array == .float(try Tensor(shape: [1, 2], scalars: [1.5, 2.5])))
        }
        try withFile(NumPyFiles.float64Version3) { path in
            let array = try NPY.read(path)
            #expect(array == .double(try Tensor(shape: [2], scalars: [-1.0, 0.25])))
        }
    }

    @Test("int64 files narrow to Int32 when every value fits, and convert to Float")
    func numpyInt64() throws {
        try withFile(NumPyFiles.int64Matrix) { path in
            let array = try NPY.read(path)
            #expect(array == .int64(shape: [2, 3], scalars: [1, -2, 3, -40000, 50000, 2_147_483_647]))
            #expect(array.dtype == "<i8" && array.shape == [2, 3])
            expectSame(try array.int32Tensor(), try Tensor(shape: [2, 3], scalars: [1, -2, 3, -40000, 50000, .max]))
            #expect(try array.floatTensor().scalars == [1, -2, 3, -40000, 50000, 2_147_483_648])
        }
        try withFile(NumPyFiles.int64Large) { path in
            let array = try NPY.read(path)
            let error = expectDNLSError(.outOfRange, argument: "array") { _ = try array.int32Tensor() }
            #expect(error?.description.contains("1099511627776") == true, "\(String(describing: error))")
            #expect(error?.description.contains("[1]") == true, "\(String(describing: error))")
            #expect(try array.floatTensor().scalars == [1, 1_099_511_627_776, -3])
            #expect(array.doubleTensor().scalars == [1, 1_099_511_627_776, -3])
        }
    }

    @Test("Fortran order, big-endian and unsupported dtypes from NumPy are refused by name")
    func numpyRefused() throws {
        try expectFormatError(NumPyFiles.float32Fortran, mentioning: "fortran_order is True")
        try expectFormatError(NumPyFiles.float32BigEndian, mentioning: "'>f4' is big-endian")
        try expectFormatError(NumPyFiles.uint8Vector, mentioning: "dtype '|u1' is not supported")
    }

    @Test("A float64 value beyond Float's range is an error of floatTensor, not infinity")
    func float64Overflow() throws {
        let array = NPYArray.double(try Tensor(shape: [1, 3], scalars: [1, .infinity, 1e300]))
        let error = expectDNLSError(.outOfRange, argument: "array") { _ = try array.floatTensor() }
        #expect(error?.description.contains("[0, 2]") == true, "\(String(describing: error))")
        let kept = try NPYArray.double(try Tensor(shape: [2], scalars: [.nan, -.infinity])).floatTensor()
        #expect(kept.scalars[0].isNaN && kept.scalars[1] == -.infinity)
    }

    // MARK: Hand-made headers

    @Test("Header variants NumPy accepts are read: byte orders '|' '=' and none, Python 2 longs, double quotes, no padding")
    func headerVariants() throws {
        let data = littleEndianBytes([Float(1), 2, 3])
        for descr in ["<f4", "|f4", "=f4", "f4"] {
            let bytes = npy("{'descr': '\(descr)', 'fortran_order': False, 'shape': (3,), }\n", data: data)
            try withFile(bytes) { path in
                let array = try NPY.read(path)
                #expect(array == .float(try Tensor(shape: [3], scalars: [1, 2, 3])), "descr \(descr)")
            }
        }
        // Each accepted by np.load too (checked with NumPy 2.4).
        let variants = [
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3L,)}\n",  // Python 2, no trailing comma
            "{\"shape\": (3,), \"fortran_order\": False, \"descr\": \"<f4\"}\n",  // any key order, double quotes
            "{ 'descr' : '<f4' ,\n 'fortran_order' : False , 'shape' : ( 3 , ) , }   \n",  // whitespace anywhere
            "{'descr':\r'<f4',\u{0C}'fortran_order':\tFalse, 'shape': (+3,)}\n  \n",  // CR, form feed, tab, a sign
            " \t{'descr': '<f4', 'fortran_order': False, 'shape': ((3),)}\n",  // spaces before, parentheses
            "\n\n{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}\n",  // blank lines before
            "{'descr': '\\x3cf4', 'fortran_order': False, 'shape': (3,)}\n",  // escapes: \x3c, \74 and \u003c are '<'
            "{'descr': '\\74f4', 'fortran_order': False, 'shape': (3,)}\n",
            "{'descr': '\\u003cf4', 'fortran_order': False, 'shape': (3,)}\n",
            "{'de\\\nscr': '<f4', 'fortran_order': False, 'shape': (3,)}\n",  // a line continuation in a string
        ]
        for header in variants {
            try withFile(npy(header, data: data)) { path in
                let array = try NPY.read(path)
                #expect(array == .float(try Tensor(shape: [3], scalars: [1, 2, 3])), "header \(header)")
            }
        }
        // Zeros NumPy reads as 0: `00` and a signed `- 0`.
        for (header, shape) in [("{'descr': '<f4', 'fortran_order': False, 'shape': (00, 3)}\n", [0, 3]),
                                ("{'descr': '<f4', 'fortran_order': False, 'shape': (- 0,)}\n", [0])] {
            try withFile(npy(header, data: [])) { path in
                let array = try NPY.read(path)
                #expect(array == .float(Tensor(zeros: shape)), "header \(header)")
            }
        }
        // 16-byte alignment (old NumPy) and version 3.0 with UTF-8.
        try withFile(npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 1), }    \n", version: 3,
                         data: littleEndianBytes([Int32(-5), 9]))) { path in
            let array = try NPY.read(path)
            #expect(array == .int32(try Tensor(shape: [2, 1], scalars: [-5, 9])))
        }
    }

    /// Bad files, each with a phrase its error must contain.
    static let badFiles: [(name: String, bytes: [UInt8], phrase: String)] = {
        let good = NumPyFiles.float32Matrix
        let f4 = littleEndianBytes([Float](repeating: 1, count: 6))
        func header(_ dict: String, version: UInt8 = 1) -> [UInt8] { npy(dict + "\n", version: version, data: f4) }
        return [
            ("empty file", [], "the file is empty"),
            ("zip archive (.npz)", [0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00], "zip archive"),
            ("text file", Array("hello, world\n".utf8), "68 65 6C 6C 6F 2C 20 77"),
            ("bad magic", [0x93] + Array("NUMPZ".utf8) + Array(good[6...]), "not a .npy file"),
            ("truncated magic", Array(good.prefix(4)), "inside the magic string"),
            ("truncated version", Array(good.prefix(7)), "inside the format version"),
            ("truncated header length", Array(good.prefix(9)), "inside the header length"),
            ("truncated header", Array(good.prefix(60)), "truncated"),
            ("truncated data", Array(good.dropLast(3)), "needs 24 bytes of data, the file holds 21"),
            ("header only", Array(good.prefix(128)), "the file holds 0"),
            ("data too long", good + [0, 0, 0, 0], "4 bytes after the data"),
            ("version 4.0", Array(good.prefix(6)) + [4, 0] + Array(good[8...]), "format version 4.0"),
            ("version 1.1", Array(good.prefix(6)) + [1, 1] + Array(good[8...]), "format version 1.1"),
            ("not a dict", header("('<f4', False, (2, 3))"), "not a Python dict"),
            ("missing shape", header("{'descr': '<f4', 'fortran_order': False}"), "lacks the key 'shape'"),
            ("missing descr", header("{'fortran_order': False, 'shape': (6,)}"), "lacks the key 'descr'"),
            ("extra key", header("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}"), "unexpected key 'x'"),
            ("unclosed string", header("{'descr': '<f4, 'fortran_order': False, 'shape': (6,)}"), "malformed header"),
            ("unclosed dict", header("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)"), "ends early"),
            ("missing comma", header("{'descr': '<f4' 'fortran_order': False, 'shape': (6,)}"), "malformed header"),
            ("garbage after the dict", header("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)} x"), "after the header dict"),
            ("unknown name", header("{'descr': '<f4', 'fortran_order': false, 'shape': (6,)}"), "unknown name 'false'"),
            ("fortran_order not a bool", header("{'descr': '<f4', 'fortran_order': 0, 'shape': (6,)}"), "'fortran_order' must be True or False"),
            ("shape an int", header("{'descr': '<f4', 'fortran_order': False, 'shape': 6}"), "'shape' must be a tuple"),
            ("shape in parentheses, not a tuple", header("{'descr': '<f4', 'fortran_order': False, 'shape': (6)}"), "'shape' must be a tuple"),
            ("shape a list", header("{'descr': '<f4', 'fortran_order': False, 'shape': [6]}"), "'shape' must be a tuple"),
            ("negative extent", header("{'descr': '<f4', 'fortran_order': False, 'shape': (-6,)}"), "non-negative"),
            ("overflowing shape", header("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4)}"), "too large"),
            ("overflowing integer", header("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}"), "does not fit 64 bits"),
            ("shape/data mismatch", header("{'descr': '<f4', 'fortran_order': False, 'shape': (7,)}"), "needs 28 bytes of data, the file holds 24"),
            ("dtype/data mismatch", header("{'descr': '<f8', 'fortran_order': False, 'shape': (6,)}"), "needs 48 bytes of data, the file holds 24"),
            ("object array", header("{'descr': '|O', 'fortran_order': False, 'shape': (6,)}"), "object array"),
            ("structured dtype", header("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (6,)}"), "structured"),
            ("descr not a string", header("{'descr': 4, 'fortran_order': False, 'shape': (6,)}"), "'descr' must be a dtype string"),
            ("float16", header("{'descr': '<f2', 'fortran_order': False, 'shape': (12,)}"), "dtype '<f2' is not supported"),
            ("complex64", header("{'descr': '<c8', 'fortran_order': False, 'shape': (3,)}"), "dtype '<c8' is not supported"),
            ("big-endian int64", header("{'descr': '>i8', 'fortran_order': False, 'shape': (3,)}"), "'>i8' is big-endian"),
            ("empty descr", header("{'descr': '', 'fortran_order': False, 'shape': (6,)}"), "empty string"),
            ("invalid UTF-8 in a 3.0 header", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", version: 3,
                                                 extra: [0xFF], data: f4), "not valid UTF-8"),
            ("header length past the end", Array(good.prefix(8)) + [0xFF, 0xFF] + Array(good[10..<40]), "truncated"),
            ("version 2.0 header length past the end", [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 2, 0, 0xFF, 0xFF, 0xFF, 0xFF]
                + Array(good[10..<40]), "the header is 4294967295 bytes long"),
            ("version 0.0", Array(good.prefix(6)) + [0, 0] + Array(good[8...]), "format version 0.0"),
            ("magic in lower case", Array("\u{93}numpy".utf8) + Array(good[6...]), "not a .npy file"),

            // What np.load refuses (checked with NumPy 2.4), and the reason DNLS gives.
            ("no trailing newline", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", data: f4),
             "does not end with a newline"),
            ("padding but no newline", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }      ", data: f4),
             "does not end with a newline"),
            ("newline before the padding", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }\n    ", data: f4),
             "does not end with a newline"),
            ("missing fortran_order", header("{'descr': '<f4', 'shape': (6,)}"), "lacks the key 'fortran_order'"),
            ("empty dict", header("{}"), "lacks the key 'descr'"),
            ("empty header", header(""), "ends early"),
            ("repeated key", header("{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}"),
             "the key 'descr' more than once"),
            ("key that is not a string", header("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 1: 2}"),
             "key that is not a string"),
            ("bool extent", header("{'descr': '<f4', 'fortran_order': False, 'shape': (True, 6)}"), "'shape' must be a tuple"),
            ("float extent", header("{'descr': '<f4', 'fortran_order': False, 'shape': (6.0,)}"), "malformed header"),
            ("string extent", header("{'descr': '<f4', 'fortran_order': False, 'shape': ('6',)}"), "'shape' must be a tuple"),
            ("nested tuple", header("{'descr': '<f4', 'fortran_order': False, 'shape': ((6,),)}"), "'shape' must be a tuple"),
            ("shape None", header("{'descr': '<f4', 'fortran_order': False, 'shape': None}"), "'shape' must be a tuple"),
            ("empty tuple item", header("{'descr': '<f4', 'fortran_order': False, 'shape': (,)}"), "malformed header"),
            ("doubled comma", header("{'descr': '<f4', 'fortran_order': False, 'shape': (6,,)}"), "malformed header"),
            ("negative extent among others", header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3)}"), "non-negative"),
            ("leading zero", header("{'descr': '<f4', 'fortran_order': False, 'shape': (06,)}"), "leading zero"),
            ("leading zero with underscore", header("{'descr': '<f4', 'fortran_order': False, 'shape': (0_6,)}"), "leading zero"),
            ("double sign", header("{'descr': '<f4', 'fortran_order': False, 'shape': (--6,)}"), "malformed header"),
            ("Python 2 long in a 3.0 header", header("{'descr': '<f4', 'fortran_order': False, 'shape': (6L,)}", version: 3),
             "malformed header"),
            ("lower-case long suffix", header("{'descr': '<f4', 'fortran_order': False, 'shape': (6l,)}"), "malformed header"),
            ("fortran_order None", header("{'descr': '<f4', 'fortran_order': None, 'shape': (6,)}"), "'fortran_order' must be True or False"),
            ("fortran_order a string", header("{'descr': '<f4', 'fortran_order': 'False', 'shape': (6,)}"), "'fortran_order' must be True or False"),
            ("bytes descr", header("{'descr': b'<f4', 'fortran_order': False, 'shape': (6,)}"), "string prefix 'b'"),
            ("descr with a space", header("{'descr': '<f4 ', 'fortran_order': False, 'shape': (6,)}"), "dtype '<f4 ' is not supported"),
            ("descr with an escaped newline", header("{'descr': '<f4\\n', 'fortran_order': False, 'shape': (6,)}"), "is not supported"),
            ("indented after a line break", header("\n  {'descr': '<f4', 'fortran_order': False, 'shape': (6,)}"), "indented"),
            ("form feed before the dict", header("\u{0C}{'descr': '<f4', 'fortran_order': False, 'shape': (6,)}"), "form feed"),
            ("vertical tab", header("{'descr':\u{0B}'<f4', 'fortran_order': False, 'shape': (6,)}"), "unexpected U+B"),
            ("no-break space", header("{'descr':\u{A0}'<f4', 'fortran_order': False, 'shape': (6,)}", version: 3),
             "unexpected U+A0"),
            ("combining mark after the byte order", header("{'descr': '<\u{338}f4', 'fortran_order': False, 'shape': (6,)}",
                                                           version: 3), "is not supported"),
            ("escaped combining mark after the byte order", header("{'descr': '=\\u0338f4', 'fortran_order': False, 'shape': (6,)}"),
             "is not supported"),
            ("non-ASCII key", header("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'sh\u{E4}pe': 1}", version: 3),
             "unexpected key 'sh\u{E4}pe'"),
            ("NUL byte", header("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)}\u{0}"), "NUL byte"),
            ("newline inside a string", header("{'descr': '<f4\n', 'fortran_order': False, 'shape': (6,)}"), "not closed"),
            ("carriage return inside a string", header("{'descr': '<f4\r', 'fortran_order': False, 'shape': (6,)}"), "not closed"),
            ("truncated \\x escape", header("{'descr': '\\x3', 'fortran_order': False, 'shape': (6,)}"), "truncated \\x escape"),
            ("escape past Unicode", header("{'descr': '\\U00110000', 'fortran_order': False, 'shape': (6,)}"), "not a Unicode character"),
            ("comment", header("{'descr': '<f4', # f4\n 'fortran_order': False, 'shape': (6,)}"), "malformed header"),
            ("set for shape", header("{'descr': '<f4', 'fortran_order': False, 'shape': {6}}"), "malformed header"),
            ("line continuation outside a string", header("{'descr': '<f4', \\\n'fortran_order': False, 'shape': (6,)}"), "malformed header"),

            // Sizes: checked with overflow, and against the file before anything is allocated.
            ("empty axis beside overflowing ones", header("{'descr': '<f4', 'fortran_order': False, "
                + "'shape': (0, 4611686018427387904, 4611686018427387904)}"), "too large to address"),
            ("bytes overflow though elements fit", header("{'descr': '<f8', 'fortran_order': False, "
                + "'shape': (2305843009213693952,)}"), "too large to address"),
            ("2^40 elements on a short file", header("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,)}"),
             "needs 4398046511104 bytes of data, the file holds 24"),
            ("2^62 bytes on a short file", header("{'descr': '<i8', 'fortran_order': False, 'shape': (536870912, 1073741824)}"),
             "needs 4611686018427387904 bytes of data, the file holds 24"),
            ("nested too deep", header("{'descr': '<f4', 'fortran_order': False, 'shape': " + String(repeating: "[", count: 100)
                + String(repeating: "]", count: 100) + "}"), "nested more than 64 deep"),
        ]
    }()

    @Test("Bad files are refused with a fileFormat error naming the file and what was found",
          arguments: badFiles.indices)
    func badFile(index: Int) throws {
        let bad = Self.badFiles[index]
        try expectFormatError(bad.bytes, mentioning: bad.phrase, bad.name)
    }

    // MARK: File access

    @Test("A missing file, a directory and an unwritable destination are fileAccess errors with the system's reason")
    func fileAccess() throws {
        let missing = temporaryPath()
        let error = expectDNLSError(.fileAccess, argument: nil) { _ = try NPY.read(missing) }
        #expect(error?.description.contains(missing) == true && error?.description.contains("No such file or directory") == true,
                "\(String(describing: error))")

        let directory = temporaryPath()
        #expect(mkdir(directory, 0o700) == 0)
        defer { rmdir(directory) }
        let readDirectory = expectDNLSError(.fileAccess, argument: nil) { _ = try NPY.read(directory) }
        #expect(readDirectory?.description.contains("Is a directory") == true, "\(String(describing: readDirectory))")

        let nowhere = "\(directory)/no/such/dir/x.npy"
        let writeError = expectDNLSError(.fileAccess, argument: nil) { try NPY.write(Tensor<Float>(zeros: [2]), to: nowhere) }
        #expect(writeError?.description.contains(nowhere) == true, "\(String(describing: writeError))")
        #expect(directoryEntries(directory) == [])
    }

    @Test("A FIFO is refused before it is opened: no blocking, even with no writer")
    func fifoRefused() throws {
        let directory = temporaryPath()
        #expect(mkdir(directory, 0o700) == 0)
        let fifo = "\(directory)/pipe.npy"
        #expect(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo); rmdir(directory) }
        // Generous: the other tests may keep both cores busy, and a read that blocks never returns.
        let outcome = readWithDeadline(fifo, seconds: 20)
        guard let outcome else {
            Issue.record("NPY.read blocked on a FIFO with no writer")
            return
        }
        guard case let .failure(.fileAccess(path, reason)) = outcome else {
            Issue.record("expected a fileAccess error, got \(outcome)")
            return
        }
        #expect(path == fifo)
        #expect(reason.contains("FIFO") && reason.contains("regular files"), "\(reason)")
    }

    @Test("Devices are refused, and a symbolic link to a file is read")
    func devicesAndLinks() throws {
        let error = expectDNLSError(.fileAccess, argument: nil) { _ = try NPY.read("/dev/null") }
        #expect(error?.description.contains("character device") == true, "\(String(describing: error))")
        try withFile(NumPyFiles.int32Vector) { path in
            let link = path + ".link"
            #expect(symlink(path, link) == 0)
            defer { unlink(link) }
            let direct = try NPY.read(path)
            #expect(try NPY.read(link) == direct)
            let dangling = temporaryPath()
            #expect(symlink(dangling, dangling + ".link") == 0)
            defer { unlink(dangling + ".link") }
            let missing = expectDNLSError(.fileAccess, argument: nil) { _ = try NPY.read(dangling + ".link") }
            #expect(missing?.description.contains("No such file or directory") == true, "\(String(describing: missing))")
        }
    }

    @Test("Bytes in memory read as the same file does")
    func readBytesInMemory() throws {
        for bytes in [NumPyFiles.float32Matrix, NumPyFiles.float64Cube, NumPyFiles.int64Large, NumPyFiles.float32Version2,
                      NumPyFiles.float64Version3, NumPyFiles.float64Scalar, NumPyFiles.float32Empty] {
            try withFile(bytes) { path in
                let direct = try NPY.read(path)
                #expect(try NPY.read(bytes: bytes) == direct)
            }
        }
    }

    @Test("A write that fails at the rename leaves no file behind")
    func failedWriteLeavesNothing() throws {
        let directory = temporaryPath()
        #expect(mkdir(directory, 0o700) == 0)
        let target = "\(directory)/target.npy"
        #expect(mkdir(target, 0o700) == 0)  // a directory where the file should go: rename fails
        defer { rmdir(target); rmdir(directory) }
        let error = expectDNLSError(.fileAccess, argument: nil) {
            try NPY.write(Tensor<Float>(repeating: 1, shape: [3, 4]), to: target)
        }
        #expect(error?.description.contains("rename") == true, "\(String(describing: error))")
        #expect(directoryEntries(directory) == ["target.npy"])
        #expect(directoryEntries(target) == [])
    }
}

// MARK: - Helpers

/// Reads `path` on another thread; nil when it has not returned after `seconds`. A read still
/// blocked then (on a FIFO) is released by opening the FIFO for writing, so the test fails
/// instead of hanging.
private func readWithDeadline(_ path: String, seconds: Int) -> Result<NPYArray, DNLSError>? {
    final class Outcome: Sendable { let value = Mutex<Result<NPYArray, DNLSError>?>(nil) }
    let result = Outcome()
    let done = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
        let outcome: Result<NPYArray, DNLSError>
        do throws(DNLSError) { outcome = .success(try NPY.read(path)) } catch { outcome = .failure(error) }
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

/// Checks the layout of a file DNLS wrote: version 1.0, a header ending in a newline with the data
/// at a multiple of 64 bytes, the dtype and shape in the header, exactly the data after it.
private func expectWellFormed(_ path: String, shape: [Int], itemSize: Int, dtype: String,
                              sourceLocation: SourceLocation = #_sourceLocation) {
    guard let bytes = try? readBytes(path) else {
        Issue.record("cannot read \(path)", sourceLocation: sourceLocation)
        return
    }
    #expect(Array(bytes.prefix(8)) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0], sourceLocation: sourceLocation)
    let offset = 10 + (Int(bytes[8]) | Int(bytes[9]) << 8)
    #expect(offset % 64 == 0, "data offset \(offset)", sourceLocation: sourceLocation)
    #expect(bytes[offset - 1] == UInt8(ascii: "\n"), sourceLocation: sourceLocation)
    #expect(bytes.count == offset + shape.reduce(1, *) * itemSize, sourceLocation: sourceLocation)
    let header = String(decoding: bytes[10..<offset], as: UTF8.self)
    let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    #expect(header.hasPrefix("{'descr': '\(dtype)', 'fortran_order': False, 'shape': \(shapeText), }"),
            "header \(header)", sourceLocation: sourceLocation)
}

/// Expects reading `bytes` from a file to throw `.fileFormat` naming the file and containing `phrase`.
private func expectFormatError(_ bytes: [UInt8], mentioning phrase: String, _ what: String = "",
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
    try withFile(bytes) { path in
        let error = expectDNLSError(.fileFormat, argument: nil, sourceLocation: sourceLocation) { _ = try NPY.read(path) }
        guard let error else { return }
        #expect(error.description.contains(path), "\(what): \(error)", sourceLocation: sourceLocation)
        #expect(error.description.contains(phrase), "\(what): expected “\(phrase)” in: \(error)",
                sourceLocation: sourceLocation)
        // The same bytes in memory (the fuzzing entry point) are refused by the same code.
        let inMemory = expectDNLSError(.fileFormat, argument: nil, sourceLocation: sourceLocation) {
            _ = try NPY.read(bytes: bytes, path: path)
        }
        #expect(inMemory == error, "\(what): in memory: \(String(describing: inMemory))", sourceLocation: sourceLocation)
    }
}

/// A hand-made `.npy` file: magic, version, header length, `header` (UTF-8) then `extra`, then `data`.
private func npy(_ header: String, version: UInt8 = 1, extra: [UInt8] = [], data: [UInt8]) -> [UInt8] {
    let headerBytes = Array(header.utf8) + extra
    var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0]
    let lengthBytes = version == 1 ? 2 : 4
    for i in 0..<lengthBytes { bytes.append(UInt8(truncatingIfNeeded: headerBytes.count >> (8 * i))) }
    return bytes + headerBytes + data
}

private func littleEndianBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * $0)) } }
}

private func littleEndianBytes(_ values: [Int32]) -> [UInt8] {
    values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: UInt32(bitPattern: v) >> (8 * $0)) } }
}

private let temporaryCounter = Atomic<Int>(0)

/// A fresh path under /tmp, unique to this process and call.
private func temporaryPath() -> String {
    "/tmp/dnls-npy-test-\(getpid())-\(temporaryCounter.wrappingAdd(1, ordering: .relaxed).newValue).npy"
}

/// Runs `body` with a fresh path, removing the file there afterwards.
private func withTemporaryPath(_ body: (String) throws -> Void) throws {
    let path = temporaryPath()
    defer { unlink(path) }
    try body(path)
}

/// Runs `body` with the path of a temporary file holding `bytes`.
private func withFile(_ bytes: [UInt8], _ body: (String) throws -> Void) throws {
    try withTemporaryPath { path in
        try writeBytes(bytes, to: path)
        try body(path)
    }
}

private struct TestFileError: Error, CustomStringConvertible {
    let description: String
}

private func writeBytes(_ bytes: [UInt8], to path: String) throws {
    guard let file = fopen(path, "wb") else { throw TestFileError(description: "cannot create \(path)") }
    defer { fclose(file) }
    let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    guard written == bytes.count else { throw TestFileError(description: "short write to \(path)") }
}

private func readBytes(_ path: String) throws -> [UInt8] {
    guard let file = fopen(path, "rb") else { throw TestFileError(description: "cannot open \(path)") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        bytes += chunk.prefix(n)
        if n < chunk.count { break }
    }
    return bytes
}

private func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

/// The names in a directory, sorted, without "." and "..".
private func directoryEntries(_ path: String) -> [String] {
    guard let directory = opendir(path) else { return ["<cannot open \(path)>"] }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}

// MARK: - Files written by NumPy 2.4 (np.save, and numpy.lib.format.write_array for versions 2.0 and 3.0)

/// The bytes of small `.npy` files NumPy wrote, so the tests need no Python:
///
/// ```python
/// np.save(f, np.array([[0.5, -1.25, 3.0], [1e-3, -0.0, 65504.0]], dtype='<f4'))     # float32Matrix
/// np.save(f, np.arange(8, dtype='<f8').reshape(2, 2, 2) * 0.1 - 0.3)                 # float64Cube
/// np.save(f, np.array([-2147483648, -1, 0, 7, 2147483647], dtype='<i4'))             # int32Vector
/// np.save(f, np.array([[1, -2, 3], [-40000, 50000, 2147483647]], dtype='<i8'))       # int64Matrix
/// np.save(f, np.array([1, 2**40, -3], dtype='<i8'))                                  # int64Large
/// np.save(f, np.asfortranarray(np.arange(6, dtype='<f4').reshape(2, 3)))             # float32Fortran
/// np.save(f, np.array([1.0, 2.0, 3.0], dtype='>f4'))                                 # float32BigEndian
/// format.write_array(f, np.array([[1.5, 2.5]], dtype='<f4'), version=(2, 0))         # float32Version2
/// format.write_array(f, np.array([-1.0, 0.25], dtype='<f8'), version=(3, 0))         # float64Version3
/// np.save(f, np.float64(3.5))                                                        # float64Scalar
/// np.save(f, np.zeros((0, 3), dtype='<f4'))                                          # float32Empty
/// np.save(f, np.array([1, 2, 3, 4], dtype='u1'))                                     # uint8Vector
/// ```
enum NumPyFiles {
    static let float32Matrix: [UInt8] = [
        0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7B, 0x27, 0x64, 0x65, 0x73, 0x63,
        0x72, 0x27, 0x3A, 0x20, 0x27, 0x3C, 0x66, 0x34, 0x27, 0x2C, 0x20, 0x27, 0x66, 0x6F, 0x72, 0x74,
        0x72, 0x61, 0x6E, 0x5F, 0x6F, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3A, 0x20, 0x46, 0x61, 0x6C, 0x73,
        0x65, 0x2C, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3A, 0x20, 0x28, 0x32, 0x2C, 0x20,
        0x33, 0x29, 0x2C, 0x20, 0x7D, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0A,
        0x00, 0x00, 0x00, 0x3F, 0x00, 0x00, 0xA0, 0xBF, 0x00, 0x00, 0x40, 0x40, 0x6F, 0x12, 0x83, 0x3A,
        0x00, 0x00, 0x00, 0x80, 0x00, 0xE0, 0x7F, 0x47,
    ]

    static let float64Cube: [UInt8] = [
        0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7B, 0x27, 0x64, 0x65, 0x73, 0x63,
        0x72, 0x27, 0x3A, 0x20, 0x27, 0x3C, 0x66, 0x38, 0x27, 0x2C, 0x20, 0x27, 0x66, 0x6F, 0x72, 0x74,
        0x72, 0x61, 0x6E, 0x5F, 0x6F, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3A, 0x20, 0x46, 0x61, 0x6C, 0x73,
        0x65, 0x2C, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3A, 0x20, 0x28, 0x32, 0x2C, 0x20,
        0x32, 0x2C, 0x20, 0x32, 0x29, 0x2C, 0x20, 0x7D, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0A,
        0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0xD3, 0xBF, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0xC9, 0xBF,
        0x98, 0x99, 0x99, 0x99, 0x99, 0x99, 0xB9, 0xBF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x90, 0x3C,
        0x9C, 0x99, 0x99, 0x99, 0x99, 0x99, 0xB9, 0x3F, 0x9A, 0x99, 0x99, 0x99, 0x99, 0x99, 0xC9, 0x3F,
        0x35, 0x33, 0x33, 0x33, 0x33, 0x33, 0xD3, 0x3F, 0x9B, 0x99, 0x99, 0x99, 0x99, 0x99, 0xD9, 0x3F,
    ]

    static let int32Vector: [UInt8] = [
        0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7B, 0x27, 0x64, 0x65, 0x73, 0x63,
        0x72, 0x27, 0x3A, 0x20, 0x27, 0x3C, 0x69, 0x34, 0x27, 0x2C, 0x20, 0x27, 0x66, 0x6F, 0x72, 0x74,
        0x72, 0x61, 0x6E, 0x5F, 0x6F, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3A, 0x20, 0x46, 0x61, 0x6C, 0x73,
        0x65, 0x2C, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3A, 0x20, 0x28, 0x35, 0x2C, 0x29,
        0x2C, 0x20, 0x7D, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0A,
        0x00, 0x00, 0x00, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00,
        0xFF, 0xFF, 0xFF, 0x7F,
    ]

    static let int64Matrix: [UInt8] = [
        0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7B, 0x27, 0x64, 0x65, 0x73, 0x63,
        0x72, 0x27, 0x3A, 0x20, 0x27, 0x3C, 0x69, 0x38, 0x27, 0x2C, 0x20, 0x27, 0x66, 0x6F, 0x72, 0x74,
        0x72, 0x61, 0x6E, 0x5F, 0x6F, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3A, 0x20, 0x46, 0x61, 0x6C, 0x73,
        0x65, 0x2C, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3A, 0x20, 0x28, 0x32, 0x2C, 0x20,
        0x33, 0x29, 0x2C, 0x20, 0x7D, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0A,
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x63, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0x50, 0xC3, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x7F, 0x00, 0x00, 0x00, 0x00,
    ]

    static let int64Large: [UInt8] = [
        0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7B, 0x27, 0x64, 0x65, 0x73, 0x63,
        0x72, 0x27, 0x3A, 0x20, 0x27, 0x3C, 0x69, 0x38, 0x27, 0x2C, 0x20, 0x27, 0x66, 0x6F, 0x72, 0x74,
        0x72, 0x61, 0x6E, 0x5F, 0x6F, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3A, 0x20, 0x46, 0x61, 0x6C, 0x73,
        0x65, 0x2C, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3A, 0x20, 0x28, 0x33, 0x2C, 0x29,
        0x2C, 0x20, 0x7D, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0A,
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
        0xFD, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    ]

    static let float32Fortran: [UInt8] = [
        0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7B, 0x27, 0x64, 0x65, 0x73, 0x63,
        0x72, 0x27, 0x3A, 0x20, 0x27, 0x3C, 0x66, 0x34, 0x27, 0x2C, 0x20, 0x27, 0x66, 0x6F, 0x72, 0x74,
        0x72, 0x61, 0x6E, 0x5F, 0x6F, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3A, 0x20, 0x54, 0x72, 0x75, 0x65,
        0x2C, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3A, 0x20, 0x28, 0x32, 0x2C, 0x20, 0x33,
        0x29, 0x2C, 0x20, 0x7D, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0A,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x80, 0x40,
        0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0xA0, 0x40,
    ]

    static let float32BigEndian: [UInt8] = [
        0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7B, 0x27, 0x64, 0x65, 0x73, 0x63,
        0x72, 0x27, 0x3A, 0x20, 0x27, 0x3E, 0x66, 0x34, 0x27, 0x2C, 0x20, 0x27, 0x66, 0x6F, 0x72, 0x74,
        0x72, 0x61, 0x6E, 0x5F, 0x6F, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3A, 0x20, 0x46, 0x61, 0x6C, 0x73,
        0x65, 0x2C, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3A, 0x20, 0x28, 0x33, 0x2C, 0x29,
        0x2C, 0x20, 0x7D, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0A,
        0x3F, 0x80, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00,
    ]

    static let float32Version2: [UInt8] = [
        0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 0x02, 0x00, 0x74, 0x00, 0x00, 0x00, 0x7B, 0x27, 0x64, 0x65,
        0x73, 0x63, 0x72, 0x27, 0x3A, 0x20, 0x27, 0x3C, 0x66, 0x34, 0x27, 0x2C, 0x20, 0x27, 0x66, 0x6F,
        0x72, 0x74, 0x72, 0x61, 0x6E, 0x5F, 0x6F, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3A, 0x20, 0x46, 0x61,
        0x6C, 0x73, 0x65, 0x2C, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3A, 0x20, 0x28, 0x31,
        0x2C, 0x20, 0x32, 0x29, 0x2C, 0x20, 0x7D, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0A,
        0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x20, 0x40,
    ]

    static let float64Version3: [UInt8] = [
        0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 0x03, 0x00, 0x74, 0x00, 0x00, 0x00, 0x7B, 0x27, 0x64, 0x65,
        0x73, 0x63, 0x72, 0x27, 0x3A, 0x20, 0x27, 0x3C, 0x66, 0x38, 0x27, 0x2C, 0x20, 0x27, 0x66, 0x6F,
        0x72, 0x74, 0x72, 0x61, 0x6E, 0x5F, 0x6F, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3A, 0x20, 0x46, 0x61,
        0x6C, 0x73, 0x65, 0x2C, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3A, 0x20, 0x28, 0x32,
        0x2C, 0x29, 0x2C, 0x20, 0x7D, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0A,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF0, 0xBF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xD0, 0x3F,
    ]

    static let float64Scalar: [UInt8] = [
        0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7B, 0x27, 0x64, 0x65, 0x73, 0x63,
        0x72, 0x27, 0x3A, 0x20, 0x27, 0x3C, 0x66, 0x38, 0x27, 0x2C, 0x20, 0x27, 0x66, 0x6F, 0x72, 0x74,
        0x72, 0x61, 0x6E, 0x5F, 0x6F, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3A, 0x20, 0x46, 0x61, 0x6C, 0x73,
        0x65, 0x2C, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3A, 0x20, 0x28, 0x29, 0x2C, 0x20,
        0x7D, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0A,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x40,
    ]

    static let float32Empty: [UInt8] = [
        0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7B, 0x27, 0x64, 0x65, 0x73, 0x63,
        0x72, 0x27, 0x3A, 0x20, 0x27, 0x3C, 0x66, 0x34, 0x27, 0x2C, 0x20, 0x27, 0x66, 0x6F, 0x72, 0x74,
        0x72, 0x61, 0x6E, 0x5F, 0x6F, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3A, 0x20, 0x46, 0x61, 0x6C, 0x73,
        0x65, 0x2C, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3A, 0x20, 0x28, 0x30, 0x2C, 0x20,
        0x33, 0x29, 0x2C, 0x20, 0x7D, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0A,
    ]

    static let uint8Vector: [UInt8] = [
        0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7B, 0x27, 0x64, 0x65, 0x73, 0x63,
        0x72, 0x27, 0x3A, 0x20, 0x27, 0x7C, 0x75, 0x31, 0x27, 0x2C, 0x20, 0x27, 0x66, 0x6F, 0x72, 0x74,
        0x72, 0x61, 0x6E, 0x5F, 0x6F, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3A, 0x20, 0x46, 0x61, 0x6C, 0x73,
        0x65, 0x2C, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3A, 0x20, 0x28, 0x34, 0x2C, 0x29,
        0x2C, 0x20, 0x7D, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
        0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0A,
        0x01, 0x02, 0x03, 0x04,
    ]
}
