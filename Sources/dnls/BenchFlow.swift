import ArgumentParser
import DNLS

/// The optical flow that a benchmark's search follows (`dnls bench --flow`). The patch operations
/// then run at the neighbours that search found.
enum BenchFlow: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// No flow tensors.
    case none
    /// Flow tensors of zeros in both directions (a caller's "no motion").
    case zero
    /// A camera pan of 1.5 px right and 1 px up per frame, plus independent uniform ±0.5 px noise
    /// per pixel and direction.
    case smooth
    /// Independent uniform ±2.5 px per pixel and direction.
    case random

    /// Forward and backward flows `(T, 2, H, W)` for a `frames`-frame video, from `seed`, on `device`.
    func flows(frames: Int, height: Int, width: Int, seed: UInt64, device: Device) throws -> Flows<Float> {
        let shape = [frames, 2, height, width], plane = height * width
        switch self {
        case .none:
            return .none
        case .zero:
            let zeros = try Tensor<Float>(shape: shape, scalars: [Float](repeating: 0, count: frames * 2 * plane)).to(device)
            return Flows(forward: zeros, backward: zeros)
        case .smooth:
            // The pan (x: columns, y: rows), backward its opposite, then the noise on top.
            func panned(_ noise: Tensor<Float>, sign: Float) throws -> Tensor<Float> {
                var values = noise.scalars
                for t in 0..<frames {
                    for i in 0..<plane {
                        values[(t * 2) * plane + i] += sign * 1.5
                        values[(t * 2 + 1) * plane + i] -= sign * 1.0
                    }
                }
                return try Tensor(shape: shape, scalars: values).to(device)
            }
            return Flows(forward: try panned(try randomTensor(shape, seed: seed &+ 101, in: -0.5..<0.5), sign: 1),
                         backward: try panned(try randomTensor(shape, seed: seed &+ 102, in: -0.5..<0.5), sign: -1))
        case .random:
            return Flows(forward: try randomTensor(shape, seed: seed &+ 103, in: -2.5..<2.5).to(device),
                         backward: try randomTensor(shape, seed: seed &+ 104, in: -2.5..<2.5).to(device))
        }
    }
}
