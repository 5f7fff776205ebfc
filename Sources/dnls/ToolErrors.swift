import ArgumentParser
import DNLS

/// The kinds of failure the tool tells apart, each with its own exit status (from sysexits.h).
enum FailureKind: Int32 {
    /// A wrong option, value or combination of options, or an output folder that cannot be written.
    case usage = 64
    /// An input file that cannot be read, is malformed, holds NaN or infinity, or does not fit the
    /// other inputs.
    case input = 65
    /// The device cannot run the command: no usable GPU, CUDA driver or NVRTC, not enough memory,
    /// or a device failure.
    case device = 69
    /// A fault of the tool itself.
    case `internal` = 70

    /// The exit status of every command, for `--help` and the README.
    static let summary = "Exit status: 0 success; 64 usage (a wrong option, value or option combination, or an output "
        + "folder that cannot be written); 65 input (an input file that cannot be read, is malformed, holds NaN or "
        + "infinity, or does not fit the other inputs); 69 device (no usable GPU, CUDA driver or NVRTC; not enough "
        + "memory on the device, or the host for the CPU; a device failure); 70 internal (a fault of the tool); 1 a "
        + "failed selftest check. The message on standard error names the option or file at fault."
}

/// How a command's library errors read in its own words: the option a library argument comes from.
struct FlagNames {
    /// Library argument name → what the user typed (an option, or a file's role and path).
    let names: [String: String]
    /// Library arguments that are input files (their errors are input errors, not usage errors).
    let inputs: Set<String>
    /// The kind of an argument error that names neither an option nor an input file.
    var unnamed: FailureKind = .input

    static let search: [String: String] = [
        "patchSize": "--patch-size", "dilation": "--dilation", "window.size": "--window",
        "window.stride": "--window-stride", "window.temporalRadius": "--temporal-radius", "stride": "--query-stride",
        "channels": "--channels", "flows.forward": "--forward-flow", "flows.backward": "--backward-flow",
    ]

    /// `error`'s message with library names replaced by the options the user typed.
    func message(_ error: DNLSError) -> String {
        var text = error.description
        // Formulas first, then the backticked argument names.
        let formulas = [("(patchSize−1)·dilation+1", "(--patch-size − 1) · --dilation + 1"),
                        ("(size−1)·stride+1", "(--window − 1) · --window-stride + 1"),
                        ("(patchSize ", "(--patch-size "), (" patchSize ", " --patch-size "), (", dilation ", ", --dilation "),
                        ("(size ", "(--window "), (", stride ", ", --window-stride ")]
        for (from, to) in formulas { text = text.replacing(from, with: to) }
        for (name, flag) in names { text = text.replacing("`\(name)`", with: "`\(flag)`") }
        if let k = names["k"] { text = text.replacing(" or nil", with: k == "--k" ? " or all" : "") }
        return text
    }

    /// The kind of failure `error` is for the command.
    func kind(_ error: DNLSError) -> FailureKind {
        switch error {
        case let .invalidArgument(argument, _, _), let .outOfRange(argument, _, _), let .shapeMismatch(argument, _, _):
            if inputs.contains(argument) { return .input }
            return names[argument] == nil ? unnamed : .usage
        case .nonFinite, .fileFormat: return .input
        case let .fileAccess(_, reason):
            return reason.contains("for reading") || reason.contains("read") ? .input : .usage
        case .unavailable, .outOfMemory, .workspaceTooSmall, .deviceFailure: return .device
        case .deviceMismatch: return .internal
        }
    }
}

extension ParsableCommand {
    /// Runs `body`; a library error ends the command with its message in the user's words on
    /// standard error (`dnls <command>: …`) and the exit status of its kind. Argument-parser errors
    /// (usage errors with the usage text, `--help`) pass through.
    func reportingErrors(_ flags: FlagNames, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as DNLSError {
            writeStandardError("dnls \(Self.configuration.commandName ?? "\(Self.self)"): \(flags.message(error))\n")
            throw ExitCode(flags.kind(error).rawValue)
        }
    }
}

/// Tells the user, before it starts, that a search will take long: `queries × candidates` patch
/// comparisons of `channels × patchSize²` values (3 FLOP each) beyond what the device does in
/// about a minute (a rough rate: 10 GFLOP/s on the CPU, 10 TFLOP/s on a GPU). In floating point:
/// the options are not validated yet, and nothing here may overflow.
func noteSearchCost(command: String, queries: Int, candidates: Int, channels: Int, patchSize: Int, device: Device) {
    let flop = 3 * Double(queries) * Double(candidates) * Double(channels) * Double(patchSize) * Double(patchSize)
    guard flop.isFinite, flop > 0, flop < 1e24 else { return }  // beyond: options the search itself refuses
    let rate = device == .cpu ? 1e10 : 1e13
    guard flop > 60 * rate else { return }
    let minutes = flop / rate / 60
    writeStandardError("dnls \(command): note: this search compares \(queries) queries with \(candidates) candidates each "
        + "(about \(Int(flop / 1e9)) GFLOP), roughly \(Int(minutes.rounded(.up))) min on \(device); a smaller --window, "
        + "--temporal-radius or a larger --query-stride costs less\n")
}
