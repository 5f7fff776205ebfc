import ArgumentParser
import DNLS
import Foundation
import Testing
@testable import dnls
#if canImport(Glibc)
import Glibc
#endif

/// The command line itself: `--version`, the search options `denoise` and `search` share, and the
/// exit status of every command when its device cannot be used.
@Suite struct CommandLineTests {
    @Test func versionIsPrintedAndExitsCleanly() throws {
        let pieces = DNLSVersion.string.split(separator: ".", omittingEmptySubsequences: false)
        #expect(pieces.count == 3 && pieces.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) })
        // `--version` anywhere on the command line prints the version, also after a subcommand.
        for arguments in [["--version"], ["search", "--version"]] {
            let error = #expect(throws: (any Error).self) { _ = try DNLSTool.parseAsRoot(arguments) }
            let thrown = try #require(error)
            #expect(DNLSTool.fullMessage(for: thrown) == DNLSVersion.string)
            #expect(DNLSTool.exitCode(for: thrown) == .success)
        }
        #expect(DNLSTool.configuration.version == DNLSVersion.string)
    }

    @Test func rootHelpStatesTheExitCodes() {
        let help = DNLSTool.helpMessage(columns: 10_000)
        #expect(help.contains("Exit status: 0 success; 64 usage"))
        #expect(help.contains("65 input"))
        #expect(help.contains("69 device"))
        #expect(help.contains("70 internal"))
        #expect(help.contains("--version"))
        #expect(ExitCode.deviceUnavailable.rawValue == 69)
        #expect(ExitCode.validationFailure.rawValue == 64 && ExitCode.failure.rawValue == 1)
    }

    @Test func sharedSearchOptionsParseAlikeInBothCommands() throws {
        let shared = ["--patch-size", "3", "--window", "9", "--temporal-radius", "1", "--query-stride", "2"]
        let nlm = try DenoiseCommand.parse(shared).denoiser
        let searchCommand = try SearchCommand.parse(["video.npy"] + shared)
        let search = try searchCommand.patchSearch()
        let grid = try searchCommand.searchOptions.queryGrid(videoShape: [4, 3, 20, 30])
        #expect(nlm.patchSize == 3 && search.geometry.patchSize == 3)
        #expect(nlm.windowSize == 9 && search.window.size == 9)
        #expect(nlm.temporalRadius == 1 && search.window.temporalRadius == 1)
        #expect(nlm.queryStride == 2 && grid.stride == 2)
        #expect(grid == (try QueryGrid(region: .whole(frames: 4, height: 20, width: 30), stride: 2)))
        // The group is one type per command's defaults, the options the same.
        #expect(try DenoiseCommand.parse(shared).searchOptions.patchSize
            == SearchCommand.parse(["video.npy"] + shared).searchOptions.patchSize)
    }

    @Test func eachCommandKeepsItsDefaults() throws {
        // denoise: the library's NonLocalMeans defaults (ps 5, ws 15, wt 2, 16 neighbours, stride 1).
        #expect(try DenoiseCommand.parse([]).denoiser == NonLocalMeans(sigma: 25))
        var expected = NonLocalMeans(sigma: 10)
        expected.neighbours = 4; expected.batchSize = 100; expected.twoStep = true
        #expect(try DenoiseCommand.parse(["--sigma", "10", "--neighbours", "4", "--batch-size", "100", "--two-step"])
            .denoiser == expected)
        #expect(try DenoiseCommand.parse(["--sigma", "auto"]).sigma == .auto)
        #expect(throws: (any Error).self) { try DenoiseCommand.parse(["--sigma", "loud"]) }
        // denoise --input: non-local Bayes by default, with the library's NonLocalBayes defaults
        // (45 neighbours, stride 2, 2048 queries a batch) unless the options say otherwise.
        #expect(try DenoiseCommand.parse([]).method == .nlb && DenoiseCommand.parse(["--method", "nlm"]).method == .nlm)
        #expect(throws: (any Error).self) { try DenoiseCommand.parse(["--method", "bm3d"]) }
        #expect(try DenoiseCommand.parse([]).bayes(sigma: 25) == NonLocalBayes(sigma: 25))
        var bayes = NonLocalBayes(sigma: 10)
        bayes.patchSize = 3; bayes.windowSize = 9; bayes.temporalRadius = 1
        bayes.neighbours = 30; bayes.queryStride = 1; bayes.batchSize = 100
        #expect(try DenoiseCommand.parse(["--patch-size", "3", "--window", "9", "--temporal-radius", "1", "--neighbours", "30",
                                          "--query-stride", "1", "--batch-size", "100"]).bayes(sigma: 10) == bayes)
        // The stride given to nlb is not nlm's default, nor is nlb's default nlm's.
        #expect(try DenoiseCommand.parse(["--query-stride", "3"]).denoiser.queryStride == 3)
        #expect(try DenoiseCommand.parse([]).denoiser.queryStride == 1)
        // search: ps 7, ws 21, wt 0, K 10, L2, reflect, centred, stride 1.
        let plain = try SearchCommand.parse(["video.npy"])
        #expect(try plain.patchSearch() == PatchSearch(geometry: PatchGeometry(patchSize: 7), window: SearchWindow(size: 21), k: 10))
        #expect(plain.searchOptions.queryStride == nil && plain.searchOptions.strideOrOne == 1)
        let full = try SearchCommand.parse(["video.npy", "--window-stride", "2", "--k", "all", "--dilation", "2",
                                            "--border", "zero", "--anchor", "top-left", "--metric", "inner-product",
                                            "--channels", "2"])
        #expect(try full.patchSearch() == PatchSearch(
            geometry: PatchGeometry(patchSize: 7, dilation: 2, anchor: .topLeft, border: .zero),
            window: SearchWindow(size: 21, stride: 2), k: nil, metric: .innerProduct, channels: 2))
        // flow: the library's FlowEstimation defaults.
        #expect(try FlowCommand.parse(["video.npy"]).estimator == FlowEstimation())
        var estimator = FlowEstimation()
        estimator.patchSize = 5; estimator.radius = 4; estimator.levels = 2; estimator.prefilter = 0
        estimator.medianRadius = 0; estimator.batchSize = 99
        #expect(try FlowCommand.parse(["video.npy", "--patch-size", "5", "--radius", "4", "--levels", "2", "--prefilter", "0",
                                       "--median-radius", "0", "--batch-size", "99"]).estimator == estimator)
        // The help shows each command's defaults.
        let denoiseHelp = DenoiseCommand.helpMessage(columns: 10_000), searchHelp = SearchCommand.helpMessage(columns: 10_000)
        for (text, line) in [(denoiseHelp, "Patch size. (default: 5)"), (denoiseHelp, "Search window side. (default: 15)"),
                             (denoiseHelp, "Frames searched on each side of the query frame. (default: 2)"),
                             (denoiseHelp, "Spacing of the query grid (default: 1 with nlm, 2 with nlb)."),
                             (searchHelp, "Patch size. (default: 7)"), (searchHelp, "Search window side. (default: 21)"),
                             (searchHelp, "Frames searched on each side of the query frame. (default: 0)"),
                             (searchHelp, "Spacing of the query grid (default: 1).")] {
            #expect(text.contains(line), "missing: \(line)")
        }
    }

    @Test func optionsOfOneCommandStayItsOwn() throws {
        #expect(throws: (any Error).self) { try DenoiseCommand.parse(["--k", "4"]) }
        #expect(throws: (any Error).self) { try DenoiseCommand.parse(["--dilation", "2"]) }
        #expect(throws: (any Error).self) { try SearchCommand.parse(["video.npy", "--neighbours", "4"]) }
        // A word the search options do not accept is a usage error (64), as before.
        for (option, word) in [("--border", "mirror"), ("--anchor", "corner"), ("--metric", "l1"), ("--k", "many")] {
            let error = #expect(throws: ValidationError.self) {
                try SearchCommand.parse(["video.npy", option, word]).patchSearch()
            }
            #expect(error.map { SearchCommand.exitCode(for: $0) } == .validationFailure)
            #expect(error?.message.hasPrefix(option) == true)
        }
    }

    @Test func benchStreamIsForAGPUOnly() throws {
        let error = #expect(throws: (any Error).self) { _ = try BenchCommand.parse(["--stream"]) }
        #expect(error.map { BenchCommand.exitCode(for: $0) } == .validationFailure)
        #expect(error.map { BenchCommand.message(for: $0) } == "--stream needs --device cuda")
        #expect(try BenchCommand.parse(["--stream", "--device", "cuda"]).stream)
        #expect(try !BenchCommand.parse(["--device", "cuda"]).stream)
    }

    @Test func benchFlowUnionReachIsForAGPUAndPositive() throws {
        for (arguments, message) in [(["--flow-union-reach", "8"], "--flow-union-reach needs --device cuda"),
                                     (["--flow-union-reach", "0", "--device", "cuda"], "--flow-union-reach must be at least 1")] {
            let error = #expect(throws: (any Error).self) { _ = try BenchCommand.parse(arguments) }
            #expect(error.map { BenchCommand.exitCode(for: $0) } == .validationFailure)
            #expect(error.map { BenchCommand.message(for: $0) } == message)
        }
        #expect(try BenchCommand.parse(["--flow-union-reach", "4", "--device", "cuda"]).flowUnionReach == 4)
        #expect(try BenchCommand.parse(["--device", "cuda"]).flowUnionReach == nil)
    }

    /// On a machine without a usable GPU, `--device cuda` itself; on one with a GPU, a GPU
    /// ordinal beyond the last card (the library reports both as unavailable).
    static var unavailableDevice: [String] {
        do {
            try Device.cuda(0).checkAvailable()
        } catch {
            if case .unavailable = error { return ["--device", "cuda"] }
        }
        return ["--device", "cuda", "--gpu", "4096"]
    }

    @Test(arguments: ["denoise", "flow", "search", "bench", "selftest"])
    func anUnavailableDeviceExitsWith69(command: String) throws {
        let extra: [String]
        switch command {
        case "denoise": extra = ["--output", "/tmp/dnls-unavailable-\(getpid())"]
        case "search", "flow": extra = ["/tmp/dnls-unavailable-\(getpid())/video.npy"]
        case "selftest": extra = ["--scale", "quick"]
        default: extra = []
        }
        var parsed = try DNLSTool.parseAsRoot([command] + extra + Self.unavailableDevice)
        let error = #expect(throws: (any Error).self) { try parsed.run() }
        let thrown = try #require(error)
        #expect(DNLSTool.exitCode(for: thrown) == ExitCode(69))
        #expect(DNLSTool.exitCode(for: thrown) == .deviceUnavailable)
        #expect(DNLSTool.fullMessage(for: thrown).isEmpty)  // the library's message went to stderr already
    }

    /// The `dnls` binary SwiftPM built beside this test bundle, or `nil` when there is none.
    static var toolBinary: String? {
        guard let bundle = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        let path = URL(fileURLWithPath: bundle).deletingLastPathComponent().appendingPathComponent("dnls").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// Runs the built `dnls` with `arguments`: its exit status, standard output and standard error.
    static func runTool(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(toolBinary))
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    @Test(.enabled(if: toolBinary != nil, "the dnls binary is built beside the tests"))
    func theBuiltToolExitsWithTheDocumentedStatus() throws {
        let version = try Self.runTool(["--version"])
        #expect(version.status == 0 && version.out == DNLSVersion.string + "\n")
        let usage = try Self.runTool(["search"])  // the video is missing
        #expect(usage.status == 64 && usage.err.contains("Missing expected argument"))
        let missing = try Self.runTool(["search", "/tmp/dnls-no-such-file-\(getpid()).npy"])
        #expect(missing.status == 65 && missing.err.contains("dnls-no-such-file"))
        for command in ["denoise", "flow", "search", "bench", "selftest"] {
            var arguments = [command] + Self.unavailableDevice
            if ["search", "flow"].contains(command) { arguments.append("/tmp/dnls-no-such-file-\(getpid()).npy") }
            let result = try Self.runTool(arguments)
            #expect(result.status == 69, "dnls \(command): exit status \(result.status), stderr \(result.err)")
            // The library's message: which device, and what is missing.
            #expect(result.err.hasPrefix("dnls \(command): device cuda(") && result.err.contains(" is unavailable: "),
                    "dnls \(command): stderr \(result.err)")
        }
    }
}
