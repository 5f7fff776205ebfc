import DNLS
import Foundation
import Testing
@testable import dnls
#if canImport(Glibc)
import Glibc
#endif

/// `dnls bench` on the CPU: configuration names, a tiny run end to end, its JSON, and skipping.
@Suite struct BenchTests {
    @Test func configurationNamesParse() throws {
        let custom = BenchConfig(name: nil, frames: 2, channels: 1, height: 9, width: 8, summary: "custom")
        let chosen = try BenchConfig.parse(["S1, s3", "S1", "c64"], custom: custom)
        #expect(chosen.map(\.name) == ["S1", "S3", "C64"])
        #expect(chosen[1].channels == 16 && chosen[1].stride == 4 && chosen[1].height == 256)
        #expect(try BenchConfig.parse(["all"], custom: custom).count == BenchConfig.named.count)
        #expect(try BenchConfig.parse(["custom,UHD1"], custom: custom) == [custom, BenchConfig.named[6]])
        let uhd = BenchConfig.named[6]
        #expect(uhd.frames == 1 && uhd.height == 2160 && uhd.width == 3840)
        #expect(throws: BenchConfigError.self) { try BenchConfig.parse(["S9"], custom: custom) }
        #expect(throws: BenchConfigError.self) { try BenchConfig.parse([","], custom: custom) }
        #expect(BenchConfig.names == ["S1", "S2", "S3", "S4", "S512", "HD8", "UHD1", "C64", "custom"])
    }

    @Test func theCommandChoosesConfigurationsAndOperations() throws {
        // CPU without --config: the custom configuration with the historical defaults and operations.
        let plain = try BenchCommand.parse([])
        #expect(try plain.selectedConfigs() == [BenchConfig(name: nil, frames: 5, channels: 3, height: 64, width: 64,
                                                            summary: "custom")])
        #expect(try plain.selectedOps() == BenchOp.cpuDefault)
        #expect(plain.repeatCount == 5 && plain.warmupCount == 1)
        // GPU defaults: every named configuration, every operation, more repeats.
        let gpu = try BenchCommand.parse(["--device", "cuda"])
        #expect(try gpu.selectedConfigs() == BenchConfig.named)
        #expect(try gpu.selectedOps() == BenchOp.allCases)
        #expect(gpu.repeatCount == 20 && gpu.warmupCount == 3)
        // Dimensions given: the custom configuration, also on a GPU.
        let custom = try BenchCommand.parse(["--device", "cuda", "--height", "32", "--stride", "2"])
        #expect(try custom.selectedConfigs().map(\.height) == [32])
        #expect(try custom.selectedConfigs().map(\.stride) == [2])
        let both = try BenchCommand.parse(["--config", "S2", "--config", "custom", "--width", "40"])
        #expect(try both.selectedConfigs().map(\.width) == [256, 40])
        // Dimensions without custom in --config, unknown names and operations are refused.
        #expect(throws: (any Error).self) { try BenchCommand.parse(["--config", "S1", "--height", "32"]) }
        #expect(throws: (any Error).self) { try BenchCommand.parse(["--config", "S7"]) }
        #expect(throws: (any Error).self) { try BenchCommand.parse(["--ops", "search-fwd,fold"]) }
        #expect(try BenchCommand.parse(["--ops", "wpsum-bwd,ifold-bwd"]).selectedOps() == [.wpsumBackward, .ifoldBackward])
    }

    @Test func aTinyCPURunWritesEveryOperationToJSON() throws {
        let path = "/tmp/dnls-bench-test-\(getpid()).json"
        defer { unlink(path) }
        let command = try BenchCommand.parse(["--frames", "2", "--channels", "1", "--height", "12", "--width", "12",
                                              "--repeats", "2", "--warmup", "0", "--implementation", "fast",
                                              "--ops", "all", "--json", path])
        try command.run()
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        let json = try #require(object as? [String: Any])
        for key in ["tool", "device", "gpu", "seed", "warmup", "repeats", "timer", "problem", "configs", "results",
                    "skipped", "search_forward_fast_over_reference_speed"] {
            #expect(json[key] != nil, "missing key \(key)")
        }
        #expect(json["device"] as? String == "cpu")
        let problem = try #require(json["problem"] as? [String: Any])
        #expect(problem["queries"] as? Int == 2 * 12 * 12)
        #expect(problem["k"] as? Int == 10 && problem["patchSize"] as? Int == 7)
        let results = try #require(json["results"] as? [[String: Any]])
        #expect(results.map { $0["op"] as? String } == BenchOp.allCases.map(\.rawValue))
        for result in results {
            #expect(result["implementation"] as? String == "fast")
            #expect(result["config_name"] as? String == "custom")
            let samples = try #require(result["samples_ms"] as? [Double])
            #expect(samples.count == 2 && samples.allSatisfy { $0 > 0 })
            let median = try #require(result["median_ms"] as? Double)
            #expect(median > 0 && median.isFinite)
            #expect((result["throughput"] as? Double).map { $0 > 0 } == true)
            #expect((result["output_bytes"] as? Double).map { $0 > 0 } == true)
            #expect(result["peak_extra_bytes"] is NSNull)  // the CPU has no device memory figures
        }
        #expect((json["skipped"] as? [Any])?.isEmpty == true)
    }

    @Test func casesOverTheMemoryLimitAreSkippedWithTheirReason() throws {
        let path = "/tmp/dnls-bench-skip-\(getpid()).json"
        defer { unlink(path) }
        let command = try BenchCommand.parse(["--frames", "2", "--channels", "1", "--height", "12", "--width", "12",
                                              "--repeats", "1", "--warmup", "0", "--implementation", "fast",
                                              "--ops", "scatter,iunfold", "--memory-limit-gib", "0.0001", "--json", path])
        try command.run()
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        let json = try #require(object as? [String: Any])
        let skipped = try #require(json["skipped"] as? [[String: Any]])
        // Limit 105 KiB: scatter moves 0.6 MB (288 queries × 10 patches of 49 floats), iunfold 58 KB.
        #expect(skipped.map { $0["op"] as? String } == ["scatter"])
        #expect((skipped.first?["reason"] as? String)?.contains("--memory-limit-gib") == true)
        #expect((json["results"] as? [[String: Any]])?.map { $0["op"] as? String } == ["iunfold"])
    }

    @Test func hopelessCPUCasesOfNamedConfigurationsAreSkipped() throws {
        let command = try BenchCommand.parse(["--max-seconds", "30"])
        let problem = try BenchProblem(seed: 1, device: .cpu, frames: 2, channels: 1, height: 12, width: 12) { _ in }
        let hopeless = BenchCase(op: .searchForward, implementation: .fast, config: "HD8", work: .flops(16e12),
                                 prepare: { { () throws(DNLSError) in } })
        #expect(command.estimatedCPUSeconds(hopeless) > 30)
        #expect(try command.skipReason(hopeless, problem: problem, named: true)?.contains("--max-seconds") == true)
        // The custom configuration always runs: its table is the one BENCHMARKS.md records.
        #expect(try command.skipReason(hopeless, problem: problem, named: false) == nil)
        let quick = BenchCase(op: .searchForward, implementation: .fast, config: "S1", work: .flops(80e9),
                              prepare: { { () throws(DNLSError) in } })
        #expect(try command.skipReason(quick, problem: problem, named: true) == nil)
    }

    @Test func largeGPUInputsRepeatARandomBlock() throws {
        let small = try randomTensor([3, 5], seed: 4)
        #expect(try randomTensor([3, 5], seed: 4, repeatingBlock: 7).scalars[0..<7] == small.scalars[0..<7])
        let tiled = try randomTensor([20], seed: 4, repeatingBlock: 7).scalars
        #expect(Array(tiled[7..<14]) == Array(tiled[0..<7]) && Array(tiled[14..<20]) == Array(tiled[0..<6]))
        #expect(Set(tiled).count == 7 && !tiled.contains(0))
        // Linear in the size: 3 M elements from a block of 1009 (quadratic copying took minutes).
        let clock = ContinuousClock(), start = clock.now
        let big = try randomTensor([3_000_000], seed: 5, repeatingBlock: 1009).scalars
        #expect(big.count == 3_000_000 && big[2_999_999] == big[2_999_999 % 1009])
        #expect(clock.now - start < .seconds(20))
    }
}
