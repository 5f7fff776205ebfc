import Dispatch

/// Video denoising by non-local Bayes (NL-Bayes: Lebrun, Buades and Morel, 2013), built from the
/// library's operations.
///
/// The video is first taken to an orthonormal decorrelated colour space (for three channels:
/// `(R + G + B)/√3, (R − B)/√2, (R − 2G + B)/√6`, which keeps white noise white with the same σ).
/// For each batch of queries, ``PatchSearch`` finds the `neighbours` nearest patches of each query
/// in its space-time window (optionally following flows), ``PatchScatter`` extracts that group
/// from the video, and every patch of the group is replaced, channel by channel, by its Bayes
/// (Wiener) estimate under a Gaussian model of the group, with `n = ps²`-dimensional mean `m`:
///
/// - first step, the model from the noisy group itself (covariance `Cₙ`):
///   `x̂ = m + (Cₙ − σ²I) Cₙ⁻¹ (x − m) = x − σ² Cₙ⁻¹ (x − m)`;
/// - second step, the search and the covariance `C_b` from the first step's estimate:
///   `x̂ = m + C_b (C_b + σ²I)⁻¹ (x − m) = x − σ² (C_b + σ²I)⁻¹ (x − m)`,
///
/// each a linear solve with a Cholesky factor (in `Double`). ``PatchGather`` then adds every
/// estimated patch of every group back at its place, and each pixel is the average of the
/// estimates that cover it. Memory is bounded by the batch of queries. Every sum runs in a fixed
/// order, so the result is deterministic.
///
/// The group statistics run on the CPU: on a GPU the search, the extraction and the aggregation
/// run there and each batch's groups are copied to the host.
public struct NonLocalBayes: Sendable, Hashable {
    /// Noise standard deviation, on the scale of the video's values (0–255 for 8-bit pictures).
    public var sigma: Float
    /// Patch side.
    public var patchSize = 5
    /// Search window side.
    public var windowSize = 15
    /// Frames searched on each side of the query frame.
    public var temporalRadius = 2
    /// Patches per group: more than `patchSize²` keeps the group covariance invertible (45 did best
    /// among 30–90 on the embedded default of `dnls denoise` at ps 5).
    public var neighbours = 45
    /// Spacing of the query grid: every patch of every group is aggregated, so a stride of 2
    /// still covers every pixel many times.
    public var queryStride = 2
    /// Queries per batch.
    public var batchSize = 2048
    /// Run the second step, guided by the first estimate.
    public var twoStep = true

    /// A denoiser for noise of standard deviation `sigma`.
    public init(sigma: Float) { self.sigma = sigma }

    /// Checks the parameters that do not depend on the video; the call checks the rest against the
    /// video before any work.
    public func validate() throws(DNLSError) {
        try Aggregation.validate(sigma: sigma, batchSize: batchSize)
        guard neighbours >= 2 else {
            throw .invalidArgument(argument: "neighbours", expected: "at least 2", actual: "\(neighbours)")
        }
        guard queryStride >= 1 else {
            throw .invalidArgument(argument: "queryStride", expected: "at least 1", actual: "\(queryStride)")
        }
    }

    /// Denoises `noisy` (`(T, C, H, W)` or `(B, T, C, H, W)`), calling `progress(done, total)`
    /// after each batch of each step.
    public func callAsFunction(_ noisy: Tensor<Float>, flows: Flows<Float> = .none,
                               progress: (Int, Int) -> Void = { _, _ in }) throws(DNLSError) -> Tensor<Float> {
        try validate()
        let shape = try VideoShape(video: noisy, argument: "noisy")
        let device = noisy.device
        let decorrelated = try ColourBasis.decorrelate(noisy.hostElements(), shape: shape)
        let values = try Tensor(uncheckedShape: noisy.shape, scalars: decorrelated).to(device)
        let steps = twoStep ? 2 : 1
        let basic = try estimate(values, guide: values, model: nil, shape: shape, flows: flows) { progress($0, $1 * steps) }
        var result = basic
        if twoStep {
            result = try estimate(values, guide: basic, model: basic, shape: shape, flows: flows) { progress($1 + $0, $1 * steps) }
        }
        let restored = ColourBasis.restore(try result.hostElements(), shape: shape)
        return try Tensor(uncheckedShape: noisy.shape, scalars: restored).to(device)
    }

    /// One step: groups searched on `guide`, patches of `values` estimated under the Gaussian model
    /// of their group in `model` (`nil`: in `values` itself), aggregated.
    func estimate(_ values: Tensor<Float>, guide: Tensor<Float>, model: Tensor<Float>?, shape: VideoShape, flows: Flows<Float>,
                  progress: (Int, Int) -> Void) throws(DNLSError) -> Tensor<Float> {
        let geometry = PatchGeometry(patchSize: patchSize)
        let window = SearchWindow(size: windowSize, temporalRadius: temporalRadius)
        let k = min(neighbours, window.candidateCount(videoFrames: shape.frames))
        let search = PatchSearch(geometry: geometry, window: window, k: k)
        let scatter = PatchScatter(geometry: geometry), gather = PatchGather(geometry: geometry)
        let grid = try QueryGrid(region: .whole(frames: shape.frames, height: shape.height, width: shape.width),
                                 stride: queryStride)
        var sums = try Tensor<Float>.zeros(values.shape, on: values.device)
        var counts = try Tensor<Float>.zeros(shape.videoShape(channels: 1), on: values.device)
        let batchSize = min(self.batchSize, max(1, grid.count))
        let batches = (grid.count + batchSize - 1) / batchSize
        let groupShape = GroupShape(neighbours: k, channels: shape.channels, entries: patchSize * patchSize)
        let variance = Double(sigma) * Double(sigma)
        for (n, start) in stride(from: 0, to: grid.count, by: batchSize).enumerated() {
            let batch = start..<min(start + batchSize, grid.count)
            let found = try search(guide, queries: .grid(grid, batch: batch), flows: flows)
            let patches = try scatter(values, indices: found.indices)
            var x = try patches.hostElements()
            let m = try model.map { (v) throws(DNLSError) in try scatter(v, indices: found.indices).hostElements() }
            let valid = try found.indices.hostElements()
            let groups = shape.batch * batch.count
            let model = m ?? []
            x.withUnsafeMutableBufferPointer { x in
                model.withUnsafeBufferPointer { model in
                    let patches = SendablePointer(x.baseAddress!), statistics = SendablePointer(model.baseAddress)
                    DispatchQueue.concurrentPerform(iterations: groups) { g in
                        groupShape.estimate(group: g, patches: patches.pointer!, model: m == nil ? nil : statistics.pointer,
                                            indices: valid, variance: variance)
                    }
                }
            }
            let estimates = try Tensor(uncheckedShape: patches.shape, scalars: x).to(values.device)
            try gather.accumulate(estimates, indices: found.indices, into: &sums, weightSum: &counts)
            progress(n + 1, batches)
        }
        // A pixel that nothing covered keeps its value.
        return try Aggregation.normalised(sums, by: counts, fallback: values, shape: shape)
    }
}

/// A pointer that concurrent iterations share, each writing only its own group's patches.
private struct SendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>?
    init(_ pointer: UnsafeMutablePointer<Float>?) { self.pointer = pointer }
    init(_ pointer: UnsafePointer<Float>?) { self.pointer = pointer.map { UnsafeMutablePointer(mutating: $0) } }
}

/// The layout of a batch's groups: `neighbours` patches of `channels × entries` values each.
private struct GroupShape: Sendable {
    let neighbours: Int, channels: Int, entries: Int

    /// Replaces the patches of group `g` by their Bayes estimates, channel by channel. Empty slots
    /// (no neighbour) take no part and stay as they are (zero patches that aggregate nowhere).
    func estimate(group g: Int, patches x: UnsafeMutablePointer<Float>, model: UnsafeMutablePointer<Float>?, indices: [Int32],
                  variance: Double) {
        let d = entries, patch = channels * entries
        let rows = (0..<neighbours).filter { indices[3 * (g * neighbours + $0)] >= 0 }
        guard rows.count >= 2 else { return }
        var a = [Double](repeating: 0, count: d * d), mean = [Double](repeating: 0, count: d)
        var z = [Double](repeating: 0, count: d)
        for c in 0..<channels {
            let offset = { (r: Int) in (g * neighbours + r) * patch + c * d }
            // The group mean and covariance of the model (the noisy group itself in the first step).
            let source: UnsafeMutablePointer<Float> = model ?? x
            for e in 0..<d { mean[e] = 0 }
            for r in rows { for e in 0..<d { mean[e] += Double(source[offset(r) + e]) } }
            for e in 0..<d { mean[e] /= Double(rows.count) }
            for i in 0..<(d * d) { a[i] = 0 }
            for r in rows {
                let o = offset(r)
                for i in 0..<d {
                    let u = Double(source[o + i]) - mean[i]
                    for j in 0...i { a[i * d + j] += u * (Double(source[o + j]) - mean[j]) }
                }
            }
            let scale = 1 / Double(rows.count - 1)
            for i in 0..<d { for j in 0...i { a[i * d + j] *= scale } }
            // Second step: C_b + σ²I. First step: Cₙ, which holds σ²I in expectation; a little of
            // σ² more keeps a group of nearly equal patches factorisable.
            for i in 0..<d { a[i * d + i] += model == nil ? 1e-3 * variance : variance }
            guard Self.cholesky(&a, d) else { continue }
            // The estimate's mean: the model's, which in both steps is the group's own mean of
            // what is estimated in the first step; in the second, the noisy group's.
            var centre = mean
            if model != nil {
                for e in 0..<d { centre[e] = 0 }
                for r in rows { for e in 0..<d { centre[e] += Double(x[offset(r) + e]) } }
                for e in 0..<d { centre[e] /= Double(rows.count) }
            }
            for r in rows {
                let o = offset(r)
                for e in 0..<d { z[e] = Double(x[o + e]) - centre[e] }
                Self.solve(a, d, &z)
                for e in 0..<d { x[o + e] = Float(Double(x[o + e]) - variance * z[e]) }
            }
        }
    }

    /// The lower Cholesky factor of the symmetric matrix whose lower triangle `a` holds, in place;
    /// false when the matrix is not positive definite.
    static func cholesky(_ a: inout [Double], _ n: Int) -> Bool {
        for j in 0..<n {
            var diagonal = a[j * n + j]
            for k in 0..<j { diagonal -= a[j * n + k] * a[j * n + k] }
            guard diagonal > 0 else { return false }
            let root = diagonal.squareRoot()
            a[j * n + j] = root
            for i in (j + 1)..<max(j + 1, n) {
                var v = a[i * n + j]
                for k in 0..<j { v -= a[i * n + k] * a[j * n + k] }
                a[i * n + j] = v / root
            }
        }
        return true
    }

    /// Solves `L Lᵀ z = b` in place (`b` in `z`), `L` the lower factor in `l`.
    static func solve(_ l: [Double], _ n: Int, _ z: inout [Double]) {
        for i in 0..<n {
            var v = z[i]
            for k in 0..<i { v -= l[i * n + k] * z[k] }
            z[i] = v / l[i * n + i]
        }
        for i in stride(from: n - 1, through: 0, by: -1) {
            var v = z[i]
            for k in (i + 1)..<max(i + 1, n) { v -= l[k * n + i] * z[k] }
            z[i] = v / l[i * n + i]
        }
    }
}

/// The orthonormal decorrelating colour basis of three-channel videos (other channel counts are
/// left as they are): `(R + G + B)/√3, (R − B)/√2, (R − 2G + B)/√6`.
enum ColourBasis {
    static let rows: [[Float]] = [
        [1 / Float(3).squareRoot(), 1 / Float(3).squareRoot(), 1 / Float(3).squareRoot()],
        [1 / Float(2).squareRoot(), 0, -1 / Float(2).squareRoot()],
        [1 / Float(6).squareRoot(), -2 / Float(6).squareRoot(), 1 / Float(6).squareRoot()],
    ]

    static func decorrelate(_ values: [Float], shape: VideoShape) -> [Float] { apply(values, shape: shape, transposed: false) }

    static func restore(_ values: [Float], shape: VideoShape) -> [Float] { apply(values, shape: shape, transposed: true) }

    /// The basis (or its transpose, its inverse) applied to every pixel's three channels.
    private static func apply(_ values: [Float], shape: VideoShape, transposed: Bool) -> [Float] {
        guard shape.channels == 3 else { return values }
        var out = values
        let plane = shape.height * shape.width
        for f in 0..<(values.count / (3 * plane)) {
            let base = f * 3 * plane
            for p in 0..<plane {
                let v = (values[base + p], values[base + plane + p], values[base + 2 * plane + p])
                for c in 0..<3 {
                    let w = transposed ? (rows[0][c], rows[1][c], rows[2][c]) : (rows[c][0], rows[c][1], rows[c][2])
                    out[base + c * plane + p] = w.0 * v.0 + w.1 * v.1 + w.2 * v.2
                }
            }
        }
        return out
    }
}
