import DNLS
import DNLSTestSupport

#if canImport(Glibc)
import Glibc
#endif

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
                for (step, m, flatness) in [("first step", nil, 0.0), ("second step", Optional(model), 0.0),
                                            ("first step with flat areas", nil, 5400.0)] {
                    let want = try host.bayesEstimates(patches, model: m, indices: indices, layout: layout, variance: 625,
                                                       flatness: flatness)
                    let got = try gpu.bayesEstimates(try patches.to(device), model: try m?.to(device),
                                                     indices: try indices.to(device), layout: layout, variance: 625,
                                                     flatness: flatness)
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
            // A pyramid level added back, at odd sizes (the last coarse row and column half used).
            let (h2, w2) = ((H + 1) / 2, (W + 1) / 2)
            let coarse: Tensor<Float> = randomTensor([T * 3, h2, w2], &rng, 0, 255)
            let fineHalved: Tensor<Float> = randomTensor([T * 3, h2, w2], &rng, 0, 255)
            let correctionHost = try host.pyramidCorrection(coarse: coarse, coarseOfFine: fineHalved, frames: T, channels: 3,
                                                            height: h2, width: w2, noise: 2 * 12.5 * 12.5)
            let correctionDevice = try gpu.pyramidCorrection(coarse: try coarse.to(device), coarseOfFine: try fineHalved.to(device),
                                                             frames: T, channels: 3, height: h2, width: w2,
                                                             noise: 2 * 12.5 * 12.5).to(.cpu)
            if correctionDevice.scalars.map(\.bitPattern) != correctionHost.scalars.map(\.bitPattern) {
                problems.append("pyramid correction: not the host's bits")
            }
            let expandedHost = try host.expanded(video, correction: correctionHost, planes: T * 3, height: H, width: W).scalars
            let expandedDevice = try gpu.expanded(try video.to(device), correction: try correctionHost.to(device),
                                                  planes: T * 3, height: H, width: W).to(.cpu).scalars
            if expandedDevice.map(\.bitPattern) != expandedHost.map(\.bitPattern) {
                problems.append("pyramid expansion: not the host's bits")
            }
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
            nlb.batchSize = 300  // 24 × 20 frames: two pyramid levels (12 × 10 is at least the window)
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

extension ConformanceSuite {
    /// Flow estimation's steps on the device against the host, bit for bit: the pre-filter, the
    /// halving at odd sizes, the doubling, the median filter, the frame-pair clips, the update from
    /// a search's indices (missing candidates kept) and the final flows; then a whole estimate
    /// of a moving texture, whose vectors may differ from the host's only where two candidates'
    /// distances tie within rounding.
    package static func checkFlowSteps(_ device: Device) -> [String] {
        var problems: [String] = []
        func same<S: TensorScalar>(_ name: String, _ got: Tensor<S>, _ want: Tensor<S>) throws {
            let (a, b) = (try got.to(.cpu), want)
            if a.shape != b.shape {
                problems.append("\(name): shape \(a.shape), the host's \(b.shape)")
            } else if let i = a.scalars.indices.first(where: { a.scalars[$0] != b.scalars[$0] }) {
                problems.append("\(name): element \(i) is \(a.scalars[i]), the host's \(b.scalars[i])")
            }
        }
        do {
            var rng = SplitMix64(seed: 67)
            let gpu = try flowKernels(device: device), host = HostFlowKernels()
            let (planes, h, w) = (6, 13, 11)
            let values: Tensor<Float> = randomTensor([planes, h, w], &rng, 0, 255)
            let dv = try values.to(device)
            let taps = FlowPyramid.taps(sigma: 1.5)
            try same("pre-filter", try gpu.blurred(dv, planes: planes, height: h, width: w, taps: taps),
                     try host.blurred(values, planes: planes, height: h, width: w, taps: taps))
            try same("halving", try gpu.halved(dv, planes: planes, height: h, width: w),
                     try host.halved(values, planes: planes, height: h, width: w))
            let pairs = FlowPairs(batch: 2, frames: 3)
            let coarse = try Tensor<Int32>(shape: [pairs.count, 2, 7, 6], scalars: (0..<(pairs.count * 84)).map { _ in
                Int32(rng.uniform(-5, 5).rounded())
            })
            let dc = try coarse.to(device)
            try same("doubling", try gpu.doubled(dc, height: 7, width: 6, toHeight: h, toWidth: w),
                     try host.doubled(coarse, height: 7, width: 6, toHeight: h, toWidth: w))
            try same("median filter", try gpu.medianFiltered(dc, height: 7, width: 6, radius: 2),
                     try host.medianFiltered(coarse, height: 7, width: 6, radius: 2))
            let level: Tensor<Float> = randomTensor([6, 2, 7, 6], &rng, 0, 255)
            let want = try host.clips(level, pairs: pairs, first: 3, count: 4, predicted: coarse, channels: 2, height: 7, width: 6)
            let got = try gpu.clips(try level.to(device), pairs: pairs, first: 3, count: 4, predicted: dc, channels: 2,
                                    height: 7, width: 6)
            try same("clip videos", got.video, want.video)
            try same("clip keys", got.keys, want.keys)
            try same("clip moves", got.moves, want.moves)
            let batch = 5..<29
            let found = try Tensor<Int32>(shape: [4, batch.count, 1, 3], scalars: (0..<(4 * batch.count)).flatMap { i -> [Int32] in
                i % 6 == 1 ? [-1, -1, -1] : [1, Int32(rng.uniform(0, 6.9)), Int32(rng.uniform(0, 5.9))]
            })
            var hostFlows = coarse, deviceFlows = dc
            try host.update(&hostFlows, indices: found, first: 3, count: 4, batch: batch, height: 7, width: 6)
            try gpu.update(&deviceFlows, indices: try found.to(device), first: 3, count: 4, batch: batch, height: 7, width: 6)
            try same("update", deviceFlows, hostFlows)
            try same("update leaves its input", dc, coarse)
            let (hf, hb) = try host.assembled(coarse, pairs: pairs, plane: 42)
            let (gf, gb) = try gpu.assembled(dc, pairs: pairs, plane: 42)
            try same("forward flows", gf, hf)
            try same("backward flows", gb, hb)
            // A whole estimate: a smooth texture moving by (+2, −1) a frame, with noise.
            let (T, H, W) = (3, 40, 44)
            var frames = [Float](repeating: 0, count: T * 3 * H * W)
            for t in 0..<T {
                for c in 0..<3 {
                    for y in 0..<H {
                        for x in 0..<W {
                            let u = 0.31 * Double(x - 2 * t) + 0.7 * Double(c), v = 0.23 * Double(y + t)
                            let texture: Double = 128 + 60 * sin(u) * cos(v)
                            frames[((t * 3 + c) * H + y) * W + x] = Float(texture + rng.uniform(-5, 5))
                        }
                    }
                }
            }
            let video = try Tensor<Float>(shape: [T, 3, H, W], scalars: frames)
            let onHost = try FlowEstimation()(video), onDevice = try FlowEstimation()(try video.to(device))
            for (name, a, b) in [("forward", onDevice.forward!, onHost.forward!), ("backward", onDevice.backward!, onHost.backward!)] {
                let (x, y) = (try a.to(.cpu).scalars, try b.to(.cpu).scalars)
                let differing = zip(x, y).filter { $0 != $1 }.count
                if a.shape != b.shape || differing > x.count / 100 {
                    problems.append("estimated \(name) flow: \(differing) of \(x.count) components differ from the host's")
                }
            }
        } catch {
            problems.append("\(error)")
        }
        return problems
    }
}
