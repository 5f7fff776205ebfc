import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// The layout of a batch of patch groups: `groups` groups of `neighbours` patches of `channels`
/// × `entries` values each (a search's `(B, Q, K, C, ps, ps)`, `groups = B · Q`).
package struct GroupLayout: Sendable, Hashable {
    package let groups: Int, neighbours: Int, channels: Int, entries: Int

    package init(groups: Int, neighbours: Int, channels: Int, entries: Int) {
        (self.groups, self.neighbours, self.channels, self.entries) = (groups, neighbours, channels, entries)
    }
}

/// What the denoisers compute between the library's operations, on the device of their tensors.
/// On a GPU each step is a kernel, so that a denoiser's batches never leave the device and only
/// its result crosses to the host. Every sum runs in a fixed order; the GPU's group estimate and
/// colour basis repeat the host's arithmetic operation for operation, bit for bit.
package protocol DenoisingKernels: Sendable {
    /// Every patch of `patches` replaced, channel by channel, by its Bayes estimate under the
    /// Gaussian model of its group: `x − σ² (C + ρI)⁻¹ (x − m)`, with the mean and covariance `C`
    /// of the group in `model` (`nil`: in `patches` itself, with a ridge `ρ` of 10⁻³σ² instead
    /// of σ²), `m` the model's mean in the first step and the group's own in the second. Rows
    /// whose index is missing (`t < 0`), groups of fewer than two patches and channels whose
    /// matrix is not positive definite are left as they are. In the first step (no `model`), a
    /// group whose values spread less than `flatness` (the mean over its channels of each
    /// channel's sample variance; 0: never) is flat: each of its channels takes its mean.
    func bayesEstimates(_ patches: Tensor<Float>, model: Tensor<Float>?, indices: Tensor<Int32>, layout: GroupLayout,
                        variance: Double, flatness: Double) throws(DNLSError) -> Tensor<Float>

    /// Each pixel's three channels mixed by the rows of `matrix` (a 3 × 3 matrix, row-major).
    func mixedColours(_ video: Tensor<Float>, matrix: [Float], plane: Int) throws(DNLSError) -> Tensor<Float>

    /// `sums / counts` pixel by pixel, `counts` `(…, T, 1, H, W)` shared by the channels of `sums`
    /// `(…, T, C, H, W)`; a pixel that nothing covered (count 0) keeps its value in `fallback`.
    func normalised(_ sums: Tensor<Float>, by counts: Tensor<Float>, fallback: Tensor<Float>, channels: Int, plane: Int)
        throws(DNLSError) -> Tensor<Float>

    /// `planes` planes of `height × width` halved: the mean of each 2 × 2 block (of the pixels
    /// there are at an odd last row or column), `(planes, ⌈height/2⌉, ⌈width/2⌉)`.
    func halved(_ values: Tensor<Float>, planes: Int, height: Int, width: Int) throws(DNLSError) -> Tensor<Float>

    /// The correction a coarser pyramid level brings, `s · (coarse − coarseOfFine)` over `frames`
    /// of `channels` planes of `height × width` (the halves), with one share per frame and pixel,
    /// `s = noise / (noise + v)`, `v` the mean over the channels of `coarse`'s variance over the
    /// 3 × 3 pixels around it (clamped into the plane).
    func pyramidCorrection(coarse: Tensor<Float>, coarseOfFine: Tensor<Float>, frames: Int, channels: Int, height: Int,
                           width: Int, noise: Float) throws(DNLSError) -> Tensor<Float>

    /// A pyramid level added back: `fine + up(correction)` over `planes` planes of
    /// `height × width`, where `correction` is a half (``halved(_:planes:height:width:)``'s shape)
    /// and `up` weighs (1/4, 1/2, 1/4) the rows around each pixel and the same the columns
    /// (clamped into the plane), each read at half the row and column.
    func expanded(_ fine: Tensor<Float>, correction: Tensor<Float>, planes: Int, height: Int, width: Int)
        throws(DNLSError) -> Tensor<Float>

    /// Non-local means weights of `(…, Q, K)` distances, `exp(−max(d / entries − noise, 0) / h²)`
    /// (0 for a non-finite distance), and each query's total repeated over the `spread` entries of
    /// its patch `(…, Q, spread)`.
    func meansWeights(_ distances: Tensor<Float>, entries: Float, noise: Float, hh: Float, spread: Int)
        throws(DNLSError) -> (weights: Tensor<Float>, totals: Tensor<Float>)
}

/// The denoising steps for tensors on `device`.
package func denoisingKernels(device: Device) throws(DNLSError) -> any DenoisingKernels {
    if case let .cuda(ordinal) = device { return try CUDABackend(ordinal: ordinal) }
    return HostDenoising()
}

/// The denoising steps in host memory (the group estimates in parallel over groups).
package struct HostDenoising: DenoisingKernels {
    package init() {}

    package func bayesEstimates(_ patches: Tensor<Float>, model: Tensor<Float>?, indices: Tensor<Int32>, layout: GroupLayout,
                                variance: Double, flatness: Double = 0) throws(DNLSError) -> Tensor<Float> {
        var x = try patches.hostElements()
        let m = try model?.hostElements()
        let valid = try indices.hostElements()
        let statistics = m ?? []
        x.withUnsafeMutableBufferPointer { x in
            statistics.withUnsafeBufferPointer { statistics in
                let patches = UncheckedSendable(x.baseAddress!)  // each group writes only its own patches
                let model = UncheckedSendable(statistics.baseAddress.map(UnsafeMutablePointer.init(mutating:)))
                DispatchQueue.concurrentPerform(iterations: layout.groups) { g in
                    BayesGroup.estimate(group: g, layout: layout, patches: patches.value,
                                        model: m == nil ? nil : model.value, indices: valid, variance: variance,
                                        flatness: flatness)
                }
            }
        }
        return try Tensor(uncheckedShape: patches.shape, scalars: x).to(patches.device)
    }

    package func mixedColours(_ video: Tensor<Float>, matrix w: [Float], plane: Int) throws(DNLSError) -> Tensor<Float> {
        let values = try video.hostElements()
        var out = values
        for f in 0..<(values.count / (3 * plane)) {
            let base = f * 3 * plane
            for p in 0..<plane {
                let v = (values[base + p], values[base + plane + p], values[base + 2 * plane + p])
                for c in 0..<3 {
                    out[base + c * plane + p] = w[3 * c] * v.0 + w[3 * c + 1] * v.1 + w[3 * c + 2] * v.2
                }
            }
        }
        return try Tensor(uncheckedShape: video.shape, scalars: out).to(video.device)
    }

    package func normalised(_ sums: Tensor<Float>, by counts: Tensor<Float>, fallback: Tensor<Float>, channels: Int, plane: Int)
        throws(DNLSError) -> Tensor<Float>
    {
        let num = try sums.hostElements(), den = try counts.hostElements(), keep = try fallback.hostElements()
        var out = [Float](repeating: 0, count: num.count)
        for i in 0..<num.count {
            let d = den[(i / (plane * channels)) * plane + i % plane]
            out[i] = d > 0 ? num[i] / d : keep[i]
        }
        return try Tensor(uncheckedShape: sums.shape, scalars: out).to(sums.device)
    }

    package func halved(_ values: Tensor<Float>, planes: Int, height: Int, width: Int) throws(DNLSError) -> Tensor<Float> {
        try HostFlowKernels().halved(values, planes: planes, height: height, width: width)
    }

    package func pyramidCorrection(coarse: Tensor<Float>, coarseOfFine: Tensor<Float>, frames: Int, channels: Int,
                                   height: Int, width: Int, noise: Float) throws(DNLSError) -> Tensor<Float> {
        let values = try coarse.hostElements(), down = try coarseOfFine.hostElements()
        let plane = height * width
        var out = [Float](repeating: 0, count: values.count)
        out.withUnsafeMutableBufferPointer { buffer in
            let out = UncheckedSendable(buffer.baseAddress!)
            fastParallelFor(frames) { frame in  // each frame writes only its own pixels
                for y in 0..<height {
                    for x in 0..<width {
                        var total: Float = 0
                        for c in 0..<channels {
                            let base = (frame * channels + c) * plane
                            var sum: Float = 0, squares: Float = 0
                            for a in -1...1 {
                                let row = min(max(y + a, 0), height - 1)
                                for b in -1...1 {
                                    let v = values[base + row * width + min(max(x + b, 0), width - 1)]
                                    sum += v
                                    squares += v * v
                                }
                            }
                            let mean = sum / 9
                            total += max(squares / 9 - mean * mean, 0)
                        }
                        let share = noise / (noise + total / Float(channels))
                        for c in 0..<channels {
                            let j = (frame * channels + c) * plane + y * width + x
                            out.value[j] = share * (values[j] - down[j])
                        }
                    }
                }
            }
        }
        return try Tensor(uncheckedShape: coarse.shape, scalars: out).to(coarse.device)
    }

    package func expanded(_ fine: Tensor<Float>, correction: Tensor<Float>, planes: Int, height: Int, width: Int)
        throws(DNLSError) -> Tensor<Float>
    {
        let base = try fine.hostElements(), change = try correction.hostElements()
        let (h, w) = ((height + 1) / 2, (width + 1) / 2)
        let taps: [Float] = [0.25, 0.5, 0.25]
        var out = [Float](repeating: 0, count: base.count)
        out.withUnsafeMutableBufferPointer { buffer in
            let out = UncheckedSendable(buffer.baseAddress!)
            fastParallelFor(planes) { plane in  // each plane writes only its own pixels
                for y in 0..<height {
                    for x in 0..<width {
                        var sum: Float = 0
                        for a in 0..<3 {
                            let row = min(max(y + a - 1, 0), height - 1) / 2
                            var across: Float = 0
                            for b in 0..<3 {
                                across += taps[b] * change[(plane * h + row) * w + min(max(x + b - 1, 0), width - 1) / 2]
                            }
                            sum += taps[a] * across
                        }
                        let i = (plane * height + y) * width + x
                        out.value[i] = base[i] + sum
                    }
                }
            }
        }
        return try Tensor(uncheckedShape: fine.shape, scalars: out).to(fine.device)
    }

    package func meansWeights(_ distances: Tensor<Float>, entries: Float, noise: Float, hh: Float, spread: Int)
        throws(DNLSError) -> (weights: Tensor<Float>, totals: Tensor<Float>)
    {
        let d = try distances.hostElements()
        let k = distances.shape.last ?? 1
        let weights = d.map { d -> Float in d.isFinite ? expf(-max(d / entries - noise, 0) / hh) : 0 }
        let queries = k == 0 ? 0 : d.count / k
        var totals = [Float](repeating: 0, count: queries * spread)
        for q in 0..<queries {
            var total: Float = 0
            for j in 0..<k { total += weights[q * k + j] }
            for e in 0..<spread { totals[q * spread + e] = total }
        }
        return (try Tensor(uncheckedShape: distances.shape, scalars: weights).to(distances.device),
                try Tensor(uncheckedShape: Array(distances.shape.dropLast()) + [spread], scalars: totals).to(distances.device))
    }
}

/// The host's Bayes estimate of one group, channel by channel, in `Double`; the GPU kernel
/// (`bayes_groups`) performs the same operations in the same order.
enum BayesGroup {
    /// Replaces the patches of group `g` by their Bayes estimates (see
    /// ``DenoisingKernels/bayesEstimates(_:model:indices:layout:variance:flatness:)``).
    static func estimate(group g: Int, layout: GroupLayout, patches x: UnsafeMutablePointer<Float>,
                         model: UnsafeMutablePointer<Float>?, indices: [Int32], variance: Double, flatness: Double) {
        let d = layout.entries, k = layout.neighbours, patch = layout.channels * d
        let rows = (0..<k).filter { indices[3 * (g * k + $0)] >= 0 }
        guard rows.count >= 2 else { return }
        if model == nil, flatness > 0, let means = flatMeans(group: g, layout: layout, rows: rows, patches: x, flatness: flatness) {
            for c in 0..<layout.channels { for r in rows { for e in 0..<d { x[(g * k + r) * patch + c * d + e] = Float(means[c]) } } }
            return
        }
        var a = [Double](repeating: 0, count: d * d), mean = [Double](repeating: 0, count: d)
        var centred = [Double](repeating: 0, count: d)
        // The right-hand sides of eight rows, one per lane, written and read as plain values.
        let lanes = UnsafeMutablePointer<SIMD8<Double>>.allocate(capacity: d)
        defer { lanes.deallocate() }
        for c in 0..<layout.channels {
            let offset = { (r: Int) in (g * k + r) * patch + c * d }
            // The group mean and covariance of the model (the noisy group itself in the first step).
            let source: UnsafeMutablePointer<Float> = model ?? x
            for e in 0..<d { mean[e] = 0 }
            for r in rows { for e in 0..<d { mean[e] += Double(source[offset(r) + e]) } }
            for e in 0..<d { mean[e] /= Double(rows.count) }
            a.withUnsafeMutableBufferPointer { a in
                centred.withUnsafeMutableBufferPointer { u in
                    for i in 0..<(d * d) { a[i] = 0 }
                    for r in rows {
                        let o = source + offset(r)
                        for e in 0..<d { u[e] = Double(o[e]) - mean[e] }
                        for i in 0..<d {
                            let ui = u[i], row = a.baseAddress! + i * d
                            for j in 0...i { row[j] += ui * u[j] }
                        }
                    }
                }
                let scale = 1 / Double(rows.count - 1)
                for i in 0..<d { for j in 0...i { a[i * d + j] *= scale } }
                // Second step: C_b + σ²I. First step: Cₙ, which holds σ²I in expectation; a little of
                // σ² more keeps a group of nearly equal patches factorisable.
                for i in 0..<d { a[i * d + i] += model == nil ? 1e-3 * variance : variance }
            }
            guard cholesky(&a, d) else { continue }
            // The estimate's mean: the model's, which in both steps is the group's own mean of
            // what is estimated in the first step; in the second, the noisy group's.
            var centre = mean
            if model != nil {
                for e in 0..<d { centre[e] = 0 }
                for r in rows { for e in 0..<d { centre[e] += Double(x[offset(r) + e]) } }
                for e in 0..<d { centre[e] /= Double(rows.count) }
            }
            // Eight rows at a time, one per lane: each lane's operations are the scalar solve's.
            for first in stride(from: 0, to: rows.count, by: 8) {
                let batch = rows[first..<min(first + 8, rows.count)]
                lanes.initialize(repeating: .zero, count: d)
                lanes.withMemoryRebound(to: Double.self, capacity: 8 * d) { values in
                    for (lane, r) in batch.enumerated() {
                        let o = offset(r)
                        for e in 0..<d { values[8 * e + lane] = Double(x[o + e]) - centre[e] }
                    }
                }
                solve(a, d, lanes)
                lanes.withMemoryRebound(to: Double.self, capacity: 8 * d) { values in
                    for (lane, r) in batch.enumerated() {
                        let o = offset(r)
                        for e in 0..<d { x[o + e] = Float(Double(x[o + e]) - variance * values[8 * e + lane]) }
                    }
                }
            }
        }
    }

    /// The mean of each channel of group `g`'s rows when the group is flat (the mean over its
    /// channels of each channel's sample variance below `flatness`), else nil.
    static func flatMeans(group g: Int, layout: GroupLayout, rows: [Int], patches x: UnsafeMutablePointer<Float>,
                          flatness: Double) -> [Double]? {
        let d = layout.entries, patch = layout.channels * d, count = Double(rows.count * d)
        var means = [Double](repeating: 0, count: layout.channels), spread = 0.0
        for c in 0..<layout.channels {
            var sum = 0.0
            for r in rows { for e in 0..<d { sum += Double(x[(g * layout.neighbours + r) * patch + c * d + e]) } }
            let mean = sum / count
            var squares = 0.0
            for r in rows {
                for e in 0..<d {
                    let u = Double(x[(g * layout.neighbours + r) * patch + c * d + e]) - mean
                    squares += u * u
                }
            }
            means[c] = mean
            spread += squares / (count - 1)
        }
        return spread / Double(layout.channels) < flatness ? means : nil
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

    /// Solves `L Lᵀ z = b` in place (`b` in `z`), `L` the lower factor in `l`, for each lane of `z`.
    static func solve(_ l: [Double], _ n: Int, _ z: UnsafeMutablePointer<SIMD8<Double>>) {
        l.withUnsafeBufferPointer { l in
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
}
