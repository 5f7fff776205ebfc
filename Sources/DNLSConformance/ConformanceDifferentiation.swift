import _Differentiation
import DNLS
import DNLSTestSupport
import DNLSDifferentiation

/// A learned non-local weighting differentiated end to end: features by a channel mixing, a
/// self-search on them by inner product (the whole window, every candidate inside the frame; an
/// L2 distance would not depend on the bias), weights by a softmax of the similarities times a
/// learned temperature, the weighted patch sums of the video,
/// a fold normalised by the patch count, and the mean squared error against a target.
struct DifferentiationProbe<S: PatchScalar> {
    /// The differentiated inputs.
    struct Inputs: Differentiable {
        var video: Tensor<S>, weight: Tensor<S>, bias: Tensor<S>, temperature: Tensor<S>
    }

    let search: PreparedSearch<S>
    let wpsum: PreparedWeightedPatchSum<S>
    let fold: PreparedFold<S>
    let count: Tensor<S>, target: Tensor<S>

    /// The probe for inputs of `shape` `(B, T, C, H, W)` on `device`, mixing into `features` channels.
    init(shape: [Int], features: Int, target: Tensor<S>, on device: Device, implementation: Implementation)
        throws(DNLSError)
    {
        let (T, C, H, W) = (shape[1], shape[2], shape[3], shape[4])
        let geometry = PatchGeometry(patchSize: 5)
        // Queries two pixels in from every side: the 5 × 5 window never leaves the frame, and the
        // 5 × 5 patches still cover every pixel.
        let grid = try QueryGrid(region: Region(frames: 0..<T, rows: 2..<H - 2, columns: 2..<W - 2))
        var featureShape = shape
        featureShape[2] = features
        let probe = try Tensor<S>(zeros: featureShape).to(device)
        search = try PatchSearch(geometry: geometry, window: SearchWindow(size: 5, temporalRadius: 1), k: nil,
                                 metric: .innerProduct)
            .prepared(for: probe, queries: .grid(grid), implementation: implementation)
        wpsum = try WeightedPatchSum(geometry: geometry).prepared(for: S.self, videoShape: shape, on: device,
                                                                  implementation: implementation)
        let folding = PatchFold(geometry: geometry)
        fold = try folding.prepared(for: S.self, videoShape: shape, grid: grid, on: device, implementation: implementation)
        let ones = try Tensor<S>(repeating: 1, shape: [shape[0], grid.count, 1, C, 5, 5]).to(device)
        count = try folding(ones, grid: grid, videoShape: shape, implementation: implementation)
        self.target = target
    }

    @differentiable(reverse)
    func loss(_ x: Inputs) -> Tensor<S> {
        let features = x.video.channelMixed(weight: x.weight, bias: x.bias)
        let found = search(features)
        let weights = found.distances.scaled(by: x.temperature).softmax()
        let estimate = fold(wpsum(x.video, weights: weights, indices: found.indices)) / count
        return meanSquaredError(predicted: estimate, expected: target)
    }
}

extension ConformanceSuite {
    /// The probe's loss and gradients on `device` (`Float`) against the CPU reference in
    /// `Double`, and bitwise equal on two runs.
    package static func checkDifferentiation(_ device: Device) -> [String] {
        do {
            return try differentiationProblems(device)
        } catch {
            return ["\(error)"]
        }
    }

    private static func differentiationProblems(_ device: Device) throws(DNLSError) -> [String] {
        let shape = [2, 3, 3, 14, 17], features = 4
        var rng = SplitMix64(seed: 17)
        func random(_ shape: [Int], _ scale: Double, _ offset: Double = 0) -> Tensor<Double> {
            randomTensor(shape, &rng, offset - scale / 2, offset + scale / 2)
        }
        let clean = random(shape, 1, 0.5), noise = random(shape, 0.4)
        let exact = DifferentiationProbe<Double>.Inputs(
            video: clean + noise, weight: random([features, 3], 0.6), bias: random([features], 0.2),
            temperature: try Tensor(shape: [1], scalars: [0.3]))
        let reference = try DifferentiationProbe<Double>(shape: shape, features: features, target: clean, on: .cpu,
                                                         implementation: .reference)
        let (referenceLoss, referenceGradient) = valueWithGradient(at: exact, of: reference.loss)

        func single(_ t: Tensor<Double>) throws(DNLSError) -> Tensor<Float> { try t.converted(to: Float.self).to(device) }
        let inputs = DifferentiationProbe<Float>.Inputs(
            video: try single(exact.video), weight: try single(exact.weight), bias: try single(exact.bias),
            temperature: try single(exact.temperature))
        let probe = try DifferentiationProbe<Float>(shape: shape, features: features, target: try single(clean),
                                                    on: device, implementation: .fast)
        let first = valueWithGradient(at: inputs, of: probe.loss)
        let second = valueWithGradient(at: inputs, of: probe.loss)

        var problems: [String] = []
        let pairs: [(String, Tensor<Double>, Tensor<Float>, Tensor<Float>)] = [
            ("loss", referenceLoss, first.value, second.value),
            ("∂video", referenceGradient.video, first.gradient.video, second.gradient.video),
            ("∂weight", referenceGradient.weight, first.gradient.weight, second.gradient.weight),
            ("∂bias", referenceGradient.bias, first.gradient.bias, second.gradient.bias),
            ("∂temperature", referenceGradient.temperature, first.gradient.temperature, second.gradient.temperature),
        ]
        for (name, expected, a, b) in pairs {
            let x = try a.to(.cpu), y = try b.to(.cpu)
            if x.scalars != y.scalars { problems.append("\(name): two runs differ") }
            let error = relativeError(x.scalars.map(Double.init), expected.scalars)
            if !(error < 2e-4) { problems.append("\(name): relative error \(error) against the Double reference") }
        }
        return problems
    }

    /// ‖a − b‖ / ‖b‖ (∞ for a shape mismatch or a non-finite value).
    static func relativeError(_ a: [Double], _ b: [Double]) -> Double {
        guard a.count == b.count else { return .infinity }
        var difference = 0.0, norm = 0.0
        for (x, y) in zip(a, b) {
            difference += (x - y) * (x - y)
            norm += y * y
        }
        return (difference / max(norm, .leastNormalMagnitude)).squareRoot()
    }
}
