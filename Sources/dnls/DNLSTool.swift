import ArgumentParser

/// The `dnls` command-line tool: `bench` times the operations, `selftest` checks a backend against the reference.
@main
struct DNLSTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dnls",
        abstract: "Differentiable non-local patch operations on video.",
        subcommands: [BenchCommand.self, SelftestCommand.self])
}
