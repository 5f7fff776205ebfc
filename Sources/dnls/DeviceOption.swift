import ArgumentParser
import DNLS

/// The `--device` option shared by every command: `cpu` or `cuda`, with `--gpu` picking the card.
enum DeviceOption: String, ExpressibleByArgument, CaseIterable {
    case cpu, cuda

    /// The device to run on, checked to be usable (a GPU command fails here, naming what is missing).
    func resolve(gpu: Int) throws -> Device {
        let device: Device = self == .cpu ? .cpu : .cuda(gpu)
        try device.checkAvailable()
        return device
    }
}

/// `--device` and `--gpu`, for the commands that run on either device.
struct DeviceOptions: ParsableArguments {
    @Option(help: "Where to run: cpu or cuda.")
    var device: DeviceOption = .cpu

    @Option(help: "GPU ordinal for --device cuda.")
    var gpu = 0

    /// The device to run on, checked to be usable.
    func resolve() throws -> Device { try device.resolve(gpu: gpu) }
}
