import ArgumentParser
import DNLS

/// The `--device` option shared by every command: `cpu` or `cuda`, with `--gpu` picking the card.
enum DeviceOption: String, ExpressibleByArgument, CaseIterable {
    case cpu, cuda

    /// The device to run on, checked to be usable.
    ///
    /// When it is not, the library's message (naming what is missing and where it was looked
    /// for) goes to standard error as `dnls <command>: …`, and the error thrown ends the tool
    /// with ``ArgumentParser/ExitCode/deviceUnavailable`` (the device cannot run here: no GPU,
    /// driver or NVRTC) or ``ArgumentParser/ExitCode/failure`` (the device failed while being
    /// opened).
    func resolve(gpu: Int, for command: any ParsableCommand.Type) throws -> Device {
        let device: Device = self == .cpu ? .cpu : .cuda(gpu)
        do {
            try device.checkAvailable()
        } catch {
            writeStandardError("dnls \(command.configuration.commandName ?? "\(command)"): \(error)\n")
            if case .unavailable = error { throw ExitCode.deviceUnavailable }
            throw ExitCode.failure
        }
        return device
    }
}

/// `--device` and `--gpu`, for the commands that run on either device.
struct DeviceOptions: ParsableArguments {
    @Option(help: "Where to run: cpu or cuda.")
    var device: DeviceOption = .cpu

    @Option(help: "GPU ordinal for --device cuda.")
    var gpu = 0

    /// The device to run on, checked to be usable (see ``DeviceOption/resolve(gpu:for:)``).
    func resolve(for command: any ParsableCommand.Type) throws -> Device {
        try device.resolve(gpu: gpu, for: command)
    }
}

extension ExitCode {
    /// The exit status of a command whose device cannot be used here (`--device cuda` without a
    /// usable GPU, CUDA driver or NVRTC): 69, `EX_UNAVAILABLE` of sysexits.h.
    static let deviceUnavailable = ExitCode(69)
}
