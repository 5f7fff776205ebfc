import ArgumentParser
import DNLS

@main
struct DNLSTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dnls",
        abstract: "Differentiable non-local patch operations on video.")
}
