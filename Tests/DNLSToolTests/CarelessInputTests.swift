import ArgumentParser
import DNLS
import Foundation
import Testing
@testable import dnls
#if canImport(Glibc)
import Glibc
#endif

/// What a careless user or script types, run through the built `dnls`: every case ends in a clean
/// error that names the option or file at fault, with the exit status of its kind, and writes
/// nothing.
@Suite struct CarelessInputTests {
    /// A scratch folder with a small video, a NaN video, a video of another shape and a file.
    struct Scratch: Sendable {
        let folder: String
        var video: String { folder + "/video.npy" }
        var nanVideo: String { folder + "/nan.npy" }
        var otherShape: String { folder + "/other.npy" }
        var flow: String { folder + "/flow.npy" }
        var plainFile: String { folder + "/file.txt" }
        /// An output folder that no case may create.
        var output: String { folder + "/out" }

        init() throws {
            folder = NSTemporaryDirectory() + "dnls-careless-\(getpid())-\(UInt32.random(in: 0 ..< .max))"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            var rng = SplitMix64(seed: 3)
            let values = (0..<2 * 1 * 12 * 12).map { _ in Float(rng.next() % 256) }
            try NPY.write(try Tensor(shape: [2, 1, 12, 12], scalars: values), to: video)
            var nan = values
            nan[37] = .nan
            try NPY.write(try Tensor(shape: [2, 1, 12, 12], scalars: nan), to: nanVideo)
            try NPY.write(Tensor<Float>(zeros: [2, 1, 12, 11]), to: otherShape)
            try NPY.write(Tensor<Float>(zeros: [2, 2, 12, 12]), to: flow)
            try "not a folder".write(toFile: plainFile, atomically: true, encoding: .utf8)
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let arguments: @Sendable (Scratch) -> [String]
        let status: Int32
        /// Words standard error must contain (the option or file at fault).
        let names: @Sendable (Scratch) -> [String]
        let testDescription: String
    }

    static let huge = "4611686018427387904"

    static let cases: [Case] = [
        Case(arguments: { ["search", $0.video, "--patch-size", "3", "--dilation", huge, "--output", $0.output] }, status: 64,
             names: { _ in ["--dilation"] }, testDescription: "search --dilation 2⁶²"),
        Case(arguments: { ["search", $0.video, "--window", "1000000", "--output", $0.output] }, status: 64,
             names: { _ in ["--window"] }, testDescription: "search --window 10⁶ on a 12×12 video"),
        Case(arguments: { ["search", $0.video, "--window-stride", huge, "--output", $0.output] }, status: 64,
             names: { _ in ["--window"] }, testDescription: "search --window-stride 2⁶²"),
        Case(arguments: { ["search", $0.video, "--patch-size", huge, "--output", $0.output] }, status: 64,
             names: { _ in ["--patch-size"] }, testDescription: "search --patch-size 2⁶²"),
        Case(arguments: { ["search", $0.video, "--k", "0", "--output", $0.output] }, status: 64,
             names: { _ in ["--k"] }, testDescription: "search --k 0"),
        Case(arguments: { ["search", $0.video, "--query-stride", "0", "--output", $0.output] }, status: 64,
             names: { _ in ["--query-stride"] }, testDescription: "search --query-stride 0"),
        Case(arguments: { ["search", $0.nanVideo, "--output", $0.output] }, status: 65,
             names: { [$0.nanVideo, "NaN"] }, testDescription: "search of a video holding NaN"),
        Case(arguments: { ["search", $0.video, "--keys", $0.otherShape, "--output", $0.output] }, status: 65,
             names: { [$0.otherShape] }, testDescription: "search --keys of another shape"),
        Case(arguments: { ["search", $0.video, "--forward-flow", $0.flow, "--output", $0.output] }, status: 64,
             names: { _ in ["--backward-flow"] }, testDescription: "search --forward-flow alone"),
        Case(arguments: { ["search", $0.video, "--output", $0.plainFile] }, status: 64,
             names: { [$0.plainFile, "--output"] }, testDescription: "search --output naming a file"),
        Case(arguments: { ["search", $0.video, "--output", ""] }, status: 64,
             names: { _ in ["--output"] }, testDescription: "search --output \"\""),
        Case(arguments: { ["denoise", "--input", $0.video, "--clean", $0.otherShape, "--output", $0.output] }, status: 65,
             names: { [$0.otherShape, "--input"] }, testDescription: "denoise --clean of another shape"),
        Case(arguments: { ["denoise", "--input", $0.nanVideo, "--output", $0.output] }, status: 65,
             names: { [$0.nanVideo] }, testDescription: "denoise of a video holding NaN"),
        Case(arguments: { ["denoise", "--clean", $0.video, "--output", $0.output] }, status: 64,
             names: { _ in ["--clean", "--input"] }, testDescription: "denoise --clean without --input"),
        Case(arguments: { ["denoise", "--input", $0.video, "--batch-size", "0", "--output", $0.output] }, status: 64,
             names: { _ in ["--batch-size"] }, testDescription: "denoise --batch-size 0"),
        Case(arguments: { ["denoise", "--input", $0.video, "--temporal-radius", "-1", "--output", $0.output] }, status: 64,
             names: { _ in ["--temporal-radius"] }, testDescription: "denoise --temporal-radius -1"),
        Case(arguments: { ["denoise", "--input", $0.video, "--window", huge, "--output", $0.output] }, status: 64,
             names: { _ in ["--window"] }, testDescription: "denoise --window 2⁶²"),
        Case(arguments: { ["bench", "--frames", huge, "--config", "custom", "--json", $0.output + "/b.json"] }, status: 64,
             names: { _ in ["--frames"] }, testDescription: "bench --frames 2⁶²"),
    ]

    @Test(.enabled(if: CommandLineTests.toolBinary != nil, "the dnls binary is built beside the tests"), arguments: cases)
    func endsInANamedErrorAndWritesNothing(_ c: Case) throws {
        let scratch = try Scratch()
        defer { try? FileManager.default.removeItem(atPath: scratch.folder) }
        let result = try CommandLineTests.runTool(c.arguments(scratch))
        #expect(result.status == c.status, "exit status \(result.status), stderr \(result.err)")
        for name in c.names(scratch) { #expect(result.err.contains(name), "stderr lacks \(name): \(result.err)") }
        #expect(!result.err.contains("Fatal error") && !result.err.contains("Signal"))
        #expect(!FileManager.default.fileExists(atPath: scratch.output), "the failed run wrote \(scratch.output)")
    }

    @Test(.enabled(if: CommandLineTests.toolBinary != nil, "the dnls binary is built beside the tests"))
    func outputsLargerThanTheHostAreRefusedBeforeAnyWork() throws {
        let scratch = try Scratch()
        defer { try? FileManager.default.removeItem(atPath: scratch.folder) }
        let big = scratch.folder + "/big.npy"
        try NPY.write(Tensor<Float>(zeros: [1, 1, 1000, 1000]), to: big)
        let result = try CommandLineTests.runTool(["search", big, "--window", "201", "--k", "all", "--output", scratch.output])
        #expect(result.status == 69 && result.err.contains("has no room for"), "\(result.status): \(result.err)")
        #expect(!FileManager.default.fileExists(atPath: scratch.output))
    }

    @Test(.enabled(if: CommandLineTests.toolBinary != nil, "the dnls binary is built beside the tests"))
    func aVideoScaledZeroToOneIsNamedAndScaleBringsItToTheSigmaScale() throws {
        let scratch = try Scratch()
        defer { try? FileManager.default.removeItem(atPath: scratch.folder) }
        let video = try NPY.read(scratch.video).floatTensor()
        let unit = scratch.folder + "/unit.npy"
        try NPY.write(try Tensor(shape: video.shape, scalars: video.scalars.map { $0 / 255 }), to: unit)
        let warned = try CommandLineTests.runTool(["denoise", "--input", unit, "--output", scratch.output])
        #expect(warned.status == 0 && warned.err.contains("--scale 255"), "\(warned.status): \(warned.err)")
        // With --scale 255 the result equals the 0–255 video's, written back on the 0–1 scale.
        let unitOut = scratch.folder + "/unit-out", fullOut = scratch.folder + "/full-out"
        let scaled = try CommandLineTests.runTool(["denoise", "--input", unit, "--scale", "255", "--output", unitOut])
        #expect(scaled.status == 0 && !scaled.err.contains("warning"), "\(scaled.status): \(scaled.err)")
        _ = try CommandLineTests.runTool(["denoise", "--input", scratch.video, "--output", fullOut])
        let a = try NPY.read(unitOut + "/denoised.npy").floatTensor().scalars
        let b = try NPY.read(fullOut + "/denoised.npy").floatTensor().scalars
        #expect(a.count == b.count)
        #expect(zip(a, b).allSatisfy { abs($0 * 255 - $1) <= 1e-3 * max(1, abs($1)) })
        // More neighbours than candidates: aggregated all, with a warning.
        let many = try CommandLineTests.runTool(["denoise", "--input", scratch.video, "--window", "3", "--temporal-radius", "0",
                                                 "--output", scratch.output])
        #expect(many.status == 0 && many.err.contains("more than the 9 candidates"), "\(many.status): \(many.err)")
    }

    @Test func randomOptionCombinationsOfSearchEndInResultsOrNamedStatuses() throws {
        let scratch = try Scratch()
        defer { try? FileManager.default.removeItem(atPath: scratch.folder) }
        var rng = SplitMix64(seed: 41)
        let numbers = ["-3", "-1", "0", "1", "1", "2", "3", "3", "5", "7", "13", "4611686018427387904", "9223372036854775807"]
        let options: [(String, [String])] = [
            ("--patch-size", numbers), ("--window", numbers), ("--temporal-radius", numbers), ("--query-stride", numbers),
            ("--window-stride", numbers), ("--k", numbers + ["all", "ten"]), ("--dilation", numbers),
            ("--channels", numbers), ("--border", ["reflect", "zero", "mirror"]), ("--anchor", ["center", "top-left", "middle"]),
            ("--metric", ["l2", "inner-product", "cosine"]),
        ]
        var statuses: [Int32: Int] = [:]
        for round in 0..<150 {
            let output = scratch.folder + "/out\(round)"
            var arguments = ["search", scratch.video, "--output", output]
            for (flag, values) in options where Double.random(in: 0..<1, using: &rng) < 0.4 {
                arguments += [flag, values[Int.random(in: 0..<values.count, using: &rng)]]
            }
            let status: Int32
            do {
                var command = try DNLSTool.parseAsRoot(Array(arguments.dropFirst(0)))
                try command.run()
                status = 0
                #expect(FileManager.default.fileExists(atPath: output + "/indices.npy"))
            } catch {
                status = DNLSTool.exitCode(for: error).rawValue
                #expect(!FileManager.default.fileExists(atPath: output), "\(arguments) failed with \(status) but wrote \(output)")
            }
            #expect([0, 64, 65].contains(status), "\(arguments) ended with \(status)")
            statuses[status, default: 0] += 1
        }
        #expect(statuses[0, default: 0] > 5 && statuses[64, default: 0] > 5, "\(statuses)")
    }

    /// The file classes through the built tool: a FIFO as input (refused at once, never read), a
    /// `.npy` whose header claims 2⁴⁰ elements, a header numpy refuses, a PNG frame declaring
    /// 20000×20000. (Gamma chunks and the other parser classes are covered at the reader level.)
    @Test(.enabled(if: CommandLineTests.toolBinary != nil, "the dnls binary is built beside the tests"))
    func badFilesEndInInputErrorsQuicklyAndWriteNothing() throws {
        let scratch = try Scratch()
        defer { try? FileManager.default.removeItem(atPath: scratch.folder) }
        let fifo = scratch.folder + "/pipe.npy"
        #expect(mkfifo(fifo, 0o600) == 0)
        func npy(_ header: String, data: Int) -> [UInt8] {
            var text = header
            while (10 + text.utf8.count + 1) % 64 != 0 { text += " " }
            text += "\n"
            let n = text.utf8.count
            return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 255), UInt8(n >> 8)] + Array(text.utf8)
                + [UInt8](repeating: 0, count: data)
        }
        let claims = scratch.folder + "/claims.npy", refused = scratch.folder + "/refused.npy"
        try Data(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1024, 1073741824), }", data: 64))
            .write(to: URL(fileURLWithPath: claims))
        try Data(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 12, 12), 'extra': 1, }", data: 4 * 288))
            .write(to: URL(fileURLWithPath: refused))
        let frames = scratch.folder + "/frames"
        try FileManager.default.createDirectory(atPath: frames, withIntermediateDirectories: true)
        try Data(rawPNG(width: 20_000, height: 20_000, colorType: 0, data: scanlines([0, 0, 0, 0], height: 1)))
            .write(to: URL(fileURLWithPath: frames + "/000.png"))
        let start = ContinuousClock.now
        for (arguments, name) in [(["search", fifo], fifo), (["search", claims], claims), (["search", refused], "extra"),
                                  (["denoise", "--input", frames], "20000")] {
            let result = try CommandLineTests.runTool(arguments + ["--output", scratch.output])
            #expect(result.status == 65 && result.err.contains(name), "\(arguments): \(result.status) \(result.err)")
            #expect(!FileManager.default.fileExists(atPath: scratch.output))
        }
        #expect(ContinuousClock.now - start < .seconds(20))
    }
}
