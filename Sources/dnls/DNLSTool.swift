import ArgumentParser
import DNLS

/// The `dnls` command-line tool: `denoise` (non-local Bayes and means), `flow`, `search`, `bench` and `selftest`.
@main
struct DNLSTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dnls",
        abstract: "Differentiable non-local patch operations on video.",
        discussion: FailureKind.summary,
        version: DNLSVersion.string,
        subcommands: [DenoiseCommand.self, FlowCommand.self, SearchCommand.self, BenchCommand.self, SelftestCommand.self, TrainCommand.self])
}
