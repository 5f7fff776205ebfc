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

    /// The call of `operation` of `geometry` on videos of `videoShape` on `device`, after the
    /// checks that the operation would make of them (and of the grid batch, when given).
    static func checked<S: PatchScalar>(_ operation: String, _ geometry: PatchGeometry, videoShape: [Int],
                                        grid: (QueryGrid, Range<Int>?)? = nil, on device: Device, _: S.Type,
                                        implementation: Implementation) throws(DNLSError) -> PreparedCall {
        if let (grid, batch) = grid {
            try geometry.validate(videoShape: videoShape, grid: grid, batch: batch, on: device, S.self,
                                  implementation: implementation)
        } else {
            try geometry.validate(videoShape: videoShape, on: device, S.self, implementation: implementation)
        }
        return PreparedCall(operation: operation, videoShape: videoShape, device: device, implementation: implementation)
    }

    /// Runs the operation's own call, which repeats the cheap checks and stops on a failure.
    func run<T>(_ body: () throws(DNLSError) -> T) -> T { stopping(operation, body) }
}
