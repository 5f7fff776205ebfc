import DNLS
import DNLSTestSupport

extension ConformanceSuite {
    /// The denoisers' steps on the device against the host: the Bayes estimate of patch groups
    /// (first step and second, with missing rows, groups of fewer than two patches, groups wider
    /// than a warp), the colour basis and the normalisation bit for bit; the non-local means
    /// weights within float32 rounding; and a whole two-step non-local Bayes denoise within the
    /// tolerance of its aggregation order.
    package static func checkDenoising(_ device: Device) -> [String] {
        var problems: [String] = []
        do {
            var rng = SplitMix64(seed: 61)
            let gpu = try denoisingKernels(device: device), host = HostDenoising()
            for (groups, k, c, d) in [(37, 12, 3, 9), (11, 45, 3, 25), (5, 70, 1, 49)] {
                let layout = GroupLayout(groups: groups, neighbours: k, channels: c, entries: d)
                let shape = [1, groups, k, c, d]
                let patches: Tensor<Float> = randomTensor(shape, &rng, 0, 255)
                let model: Tensor<Float> = randomTensor(shape, &rng, 0, 255)
                var triples = [Int32](repeating: 0, count: groups * k * 3)
                for g in 0..<groups {
                    for r in 0..<k where rng.uniform(0, 1) < 0.15 || g == 1 && r > 0 || g == 2 {
                        for j in 0..<3 { triples[3 * (g * k + r) + j] = -1 }
                    }
                }
                let indices = try Tensor<Int32>(shape: [1, groups, k, 3], scalars: triples)
                for (step, m) in [("first step", nil), ("second step", Optional(model))] {
                    let want = try host.bayesEstimates(patches, model: m, indices: indices, layout: layout, variance: 625)
                    let got = try gpu.bayesEstimates(try patches.to(device), model: try m?.to(device),
                                                     indices: try indices.to(device), layout: layout, variance: 625)
                    let (a, b) = (try got.to(.cpu).scalars, want.scalars)
                    if let i = a.indices.first(where: { a[$0].bitPattern != b[$0].bitPattern }) {
                        problems.append("Bayes estimate, \(step), K \(k), D \(d): element \(i) is \(a[i]), the host's \(b[i])")
                    }
                    if a == patches.scalars { problems.append("Bayes estimate, \(step), K \(k), D \(d): nothing estimated") }
                }
            }
            let (T, H, W) = (3, 9, 7)
            let video: Tensor<Float> = randomTensor([T, 3, H, W], &rng, 0, 255)
            for (name, matrix) in [("decorrelation", ColourBasis.forward), ("its inverse", ColourBasis.inverse)] {
                let want = try host.mixedColours(video, matrix: matrix, plane: H * W).scalars
                let got = try gpu.mixedColours(try video.to(device), matrix: matrix, plane: H * W).to(.cpu).scalars
                if got.map(\.bitPattern) != want.map(\.bitPattern) { problems.append("colour \(name): not the host's bits") }
            }
            var counts: Tensor<Float> = randomTensor([T, 1, H, W], &rng, 0, 4)
            counts = try Tensor(shape: counts.shape, scalars: counts.scalars.enumerated().map { $0.offset % 5 == 0 ? 0 : $0.element })
            let sums: Tensor<Float> = randomTensor([T, 3, H, W], &rng, 0, 900)
            let want = try host.normalised(sums, by: counts, fallback: video, channels: 3, plane: H * W).scalars
            let got = try gpu.normalised(try sums.to(device), by: try counts.to(device), fallback: try video.to(device),
                                         channels: 3, plane: H * W).to(.cpu).scalars
            if got.map(\.bitPattern) != want.map(\.bitPattern) { problems.append("normalisation: not the host's bits") }
            var distances: Tensor<Float> = randomTensor([2, 40, 16], &rng, 0, 30_000)
            distances = try Tensor(shape: distances.shape, scalars: distances.scalars.enumerated().map {
                $0.offset % 7 == 3 ? .infinity : $0.element
            })
            let (wh, th) = try host.meansWeights(distances, entries: 75, noise: 2 * 625, hh: 400, spread: 25)
            let (wg, tg) = try gpu.meansWeights(try distances.to(device), entries: 75, noise: 2 * 625, hh: 400, spread: 25)
            for (name, g, h) in [("weights", try wg.to(.cpu), wh), ("weight totals", try tg.to(.cpu), th)] {
                if g.shape != h.shape {
                    problems.append("non-local means \(name): shape \(g.shape), the host's \(h.shape)")
                } else if let i = Tolerance.float32.firstMismatch(g.scalars, h.scalars) {
                    problems.append("non-local means \(name): element \(i) is \(g.scalars[i]), the host's \(h.scalars[i])")
                }
            }
            // A whole denoise: the same groups and estimates; only the aggregation's order may differ.
            let clean: Tensor<Float> = randomTensor([4, 3, 24, 20], &rng, 60, 190)
            let noisy = try Tensor(shape: clean.shape, scalars: clean.scalars.map { $0 + Float(rng.uniform(-40, 40)) })
            var nlb = NonLocalBayes(sigma: 23)
            nlb.windowSize = 9
            nlb.temporalRadius = 1
            nlb.neighbours = 30
            nlb.batchSize = 300
            let onHost = try nlb(noisy).scalars
            let onDevice = try nlb(try noisy.to(device)).to(.cpu).scalars
            if let i = Tolerance.float32.scaled(255).firstMismatch(onDevice, onHost) {
                problems.append("non-local Bayes denoise: pixel \(i) is \(onDevice[i]), the host's \(onHost[i])")
            }
        } catch {
            problems.append("\(error)")
        }
        return problems
    }
}
