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
