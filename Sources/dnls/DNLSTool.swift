import ArgumentParser

/// The `dnls` command-line tool: benchmarks today; `denoise` and `selftest` come with the CUDA backend.
@main
struct DNLSTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dnls",
        abstract: "Differentiable non-local patch operations on video.",
        subcommands: [BenchCommand.self])
}
