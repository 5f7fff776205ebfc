import _Differentiation
import DNLS
import DNLSDifferentiation
#if canImport(Glibc)
import Glibc
#endif

/// The learned parameters of ``LearnedDenoiser``: a channel mixing that makes the features the
/// search compares, the (log) temperature of the softmax weights, and a blend with the noisy input.
struct DenoiserParameters: Differentiable {
    /// `(F, C)`: feature channel `f` is `Σ_c mix[f, c] · video[c]`.
    var mix: Tensor<Float>
    /// One element: the weights are `softmax(−exp(logTemperature) · distance)`.
    var logTemperature: Tensor<Float>
    /// One element: the output is `estimate + blend · (noisy − estimate)`.
    var blend: Tensor<Float>

    /// The untrained start: features are the colour channels themselves and `features − C` extra
    /// mixtures of small seeded weights, the temperature that of non-local means with
    /// `h = filtering · σ` on the colour channels, no blend. On `device`.
    static func untrained(channels C: Int, features F: Int, patchSize: Int, sigma: Float, filtering: Float = 0.8,
                          seed: UInt64, on device: Device) throws(DNLSError) -> DenoiserParameters {
        var rng = SplitMix64(seed: seed)
        var mix = [Float](repeating: 0, count: F * C)
        for f in 0..<F {
            for c in 0..<C {
                mix[f * C + c] = f < C ? (f == c ? 1 : 0) : Float(Double(rng.next() >> 11) * 0x1.0p-53 - 0.5) * 0.2
            }
        }
        let h = filtering * sigma
        let temperature = 1 / (Float(C * patchSize * patchSize) * h * h)
        return DenoiserParameters(mix: try Tensor(shape: [F, C], scalars: mix).to(device),
                                  logTemperature: try Tensor(shape: [1], scalars: [logf(temperature)]).to(device),
                                  blend: try Tensor(shape: [1], scalars: [0]).to(device))
    }

    /// The parameters as host arrays (in the order mix, logTemperature, blend).
    func hostValues() throws(DNLSError) -> [[Float]] {
        [try mix.to(.cpu).scalars, try logTemperature.to(.cpu).scalars, try blend.to(.cpu).scalars]
    }

    /// Parameters of these host values, shaped like `self`, on `device`.
    func replacing(with values: [[Float]], on device: Device) throws(DNLSError) -> DenoiserParameters {
        DenoiserParameters(mix: try Tensor(shape: mix.shape, scalars: values[0]).to(device),
                           logTemperature: try Tensor(shape: [1], scalars: values[1]).to(device),
                           blend: try Tensor(shape: [1], scalars: values[2]).to(device))
    }

    /// Number of learned values.
    var count: Int { mix.count + 2 }
}

/// A non-local denoiser with learned parameters, for videos of one shape on one device:
/// features by a channel mixing → a self-search on them → weights by a softmax of the distances
/// → weighted patch sums of the noisy video → fold, normalised by the patch count → a blend with
/// the noisy input. Every step is differentiable with respect to the parameters.
struct LearnedDenoiser {
    struct Settings: Sendable {
        var patchSize = 5
        var window = 15
        var temporalRadius = 2
        var neighbours = 16
        var queryStride = 1
    }

    let search: PreparedSearch<Float>
    let wpsum: PreparedWeightedPatchSum<Float>
    let fold: PreparedFold<Float>
    /// Patches covering each pixel: the fold of ones.
    let count: Tensor<Float>

    /// The denoiser of videos of `shape` `(B, T, C, H, W)` with `features` feature channels on `device`.
    init(shape: [Int], features: Int, settings s: Settings, on device: Device) throws(DNLSError) {
        let geometry = PatchGeometry(patchSize: s.patchSize)
        let grid = try QueryGrid(region: .whole(frames: shape[1], height: shape[3], width: shape[4]), stride: s.queryStride)
        var featureShape = shape
        featureShape[2] = features
        search = try PatchSearch(geometry: geometry, window: SearchWindow(size: s.window, temporalRadius: s.temporalRadius),
                                 k: s.neighbours)
            .prepared(for: try Tensor<Float>(zeros: featureShape).to(device), queries: .grid(grid))
        wpsum = try WeightedPatchSum(geometry: geometry).prepared(for: Float.self, videoShape: shape, on: device)
        fold = try PatchFold(geometry: geometry).prepared(for: Float.self, videoShape: shape, grid: grid, on: device)
        let ones = try Tensor<Float>(repeating: 1, shape: [shape[0], grid.count, 1, shape[2], s.patchSize, s.patchSize])
            .to(device)
        count = try PatchFold(geometry: geometry)(ones, grid: grid, videoShape: shape)
        guard try count.to(.cpu).scalars.allSatisfy({ $0 > 0 }) else {
            throw .invalidArgument(argument: "queryStride", expected: "a stride whose patches cover every pixel",
                                   actual: "\(s.queryStride)")
        }
    }

    /// The denoised video.
    @differentiable(reverse, wrt: parameters)
    func callAsFunction(_ noisy: Tensor<Float>, _ parameters: DenoiserParameters) -> Tensor<Float> {
        let found = search(noisy.channelMixed(weight: parameters.mix))
        let logits = found.distances.scaled(by: parameters.logTemperature.exp()).scaled(by: -1)
        let estimate = fold(wpsum(noisy, weights: logits.softmax(), indices: found.indices)) / count
        return estimate + (noisy - estimate).scaled(by: parameters.blend)
    }

    /// The training loss: the mean squared error against the clean video.
    @differentiable(reverse, wrt: parameters)
    func loss(_ noisy: Tensor<Float>, _ clean: Tensor<Float>, _ parameters: DenoiserParameters) -> Tensor<Float> {
        meanSquaredError(predicted: self(noisy, parameters), expected: clean)
    }
}

/// Adam over host arrays (the parameters are a few dozen numbers: updating them on the host costs
/// nothing next to the patch operations).
struct Adam {
    var learningRate: Float
    var beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8
    private var first: [[Float]] = [], second: [[Float]] = []
    private var steps = 0

    init(learningRate: Float) { self.learningRate = learningRate }

    mutating func update(_ values: inout [[Float]], gradients: [[Float]]) {
        if first.isEmpty {
            first = gradients.map { [Float](repeating: 0, count: $0.count) }
            second = first
        }
        steps += 1
        let c1 = 1 - powf(beta1, Float(steps)), c2 = 1 - powf(beta2, Float(steps))
        for p in values.indices {
            for i in values[p].indices {
                let g = gradients[p][i]
                first[p][i] = beta1 * first[p][i] + (1 - beta1) * g
                second[p][i] = beta2 * second[p][i] + (1 - beta2) * g * g
                values[p][i] -= learningRate * (first[p][i] / c1) / ((second[p][i] / c2).squareRoot() + epsilon)
            }
        }
    }
}
