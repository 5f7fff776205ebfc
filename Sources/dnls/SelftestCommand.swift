import ArgumentParser
import DNLS
import DNLSConformance
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `dnls selftest`: the conformance suite (shared with `swift test`) on a chosen device.
struct SelftestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selftest",
        abstract: "Check a backend against the CPU reference on fresh random inputs.",
        discussion: """
            Runs every operation, forward and backward, over a sweep of parameters (odd and even \
            patch sizes, dilation, reflect and zero borders, regions at the borders, flows with \
            wt > 0, B > 1, C up to 64, shapes that need many GPU blocks), checks that two runs are \
            bitwise equal and, on a GPU, that every output element is written (new buffers are \
            poisoned with NaN). Ends with `N passed, M failed`; exits with status 1 on any \
            failure, 69 when the device cannot be used here.
            """)

    @Option(help: "Backend under test: cpu (the fast CPU backend) or cuda.")
    var device: DeviceOption = .cpu

    @Option(help: "GPU ordinal for --device cuda.")
    var gpu = 0

    @Option(help: "Sweep size: quick or full.")
    var scale: String = "full"

    @Option(help: "Seed of the random inputs.")
    var seed: UInt64 = 1

    func run() throws {
        try reportingErrors(FlagNames(names: [:], inputs: [], unnamed: .internal)) { try selftest() }
    }

    private func selftest() throws {
        guard let scale = ConformanceSuite.Scale(rawValue: scale) else {
            throw ValidationError("--scale must be quick or full")
        }
        let target = try device.resolve(gpu: gpu, for: Self.self)
        print("device: \(target.gpuDescription ?? "cpu (fast backend against the reference)")")
        let suite = ConformanceSuite(device: target, implementation: .fast, scale: scale, seed: seed)
        let total = suite.checkCount
        var index = 0
        let report = suite.run { name, passed, problems in
            index += 1
            print("[\(index)/\(total)] \(passed ? "ok  " : "FAIL") \(name)")
            for line in problems.prefix(5) { print("      \(line)") }
            fflush(nil)  // each line as it comes, also into a file (a run stopped early keeps them)
        }
        print(report.summary)
        if report.failed > 0 { throw ExitCode.failure }
    }
}
