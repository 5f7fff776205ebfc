import ArgumentParser
import DNLS

/// The `dnls` command-line tool: `denoise` (non-local means), `search`, `bench` and `selftest`.
@main
struct DNLSTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dnls",
        abstract: "Differentiable non-local patch operations on video.",
        discussion: """
            Exit status: 0 success; 1 failure (an error while running, such as an input file \
            that cannot be read, or a failed selftest check); 64 usage error, printed with the \
            usage (an unknown option, a missing or invalid value, a search video of the wrong rank, \
            a --clean video of another shape than --input, a --json file that cannot be written); \
            \(ExitCode.deviceUnavailable.rawValue) device unavailable (--device cuda where no usable \
            GPU, CUDA driver or NVRTC is found; the message on standard error names what is missing \
            and where it was looked for).
            """,
        version: DNLSVersion.string,
        subcommands: [DenoiseCommand.self, SearchCommand.self, BenchCommand.self, SelftestCommand.self])
}
