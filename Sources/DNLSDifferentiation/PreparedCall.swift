import DNLS

/// What a prepared operation was checked for: the video's shape and device and the CPU
/// implementation. A call with a tensor of another shape or device stops the program (it cannot
/// throw), with a message naming the argument.
struct PreparedCall: Sendable, Hashable {
    let operation: String
    let videoShape: [Int]
    let device: Device
    let implementation: Implementation

    func require<S: PatchScalar>(_ tensor: Tensor<S>, _ argument: String) {
        precondition(tensor.shape == videoShape && tensor.device == device,
                     "\(operation): \(argument) is \(tensor.shape) on \(tensor.device), but the operation was prepared for \(videoShape) on \(device)")
    }

    /// Runs the operation's own call, which repeats the cheap checks and stops on a failure.
    func run<T>(_ body: () throws(DNLSError) -> T) -> T { stopping(operation, body) }
}
