import DNLS
import DNLSTestSupport

extension ConformanceSuite {
    /// The suite runs its cases under the CUDA backend's stress tuning, where every deposit goes
    /// through the anchor table. This check runs small deposits under the standard tuning, where
    /// they add directly (one thread per output element, no table): gathers weighted and not, with
    /// and without the weight sum's consumer, the weighted patch sum's video gradient, over patch
    /// sizes, dilations, anchors, borders, batches and empty slots. Each must match the CPU
    /// reference, give the same bits on a second run, and match the anchor-table result.
    static func checkDirectDeposits(_ device: Device) -> [String] {
        var problems = Problems()
        var rng = SplitMix64(seed: 47)
        func random(_ shape: [Int], from low: Double = 0) -> Tensor<Float> { randomTensor(shape, &rng, low, 1) }
        for variant in 0..<8 {
            let batch = 1 + variant % 2, (T, C, H, W) = (2, 1 + variant % 3, 7 + variant % 3, 9)
            let ps = [3, 5, 3, 1][variant % 4], dilation = variant % 3 == 2 ? 2 : 1
            let g = PatchGeometry(patchSize: ps, dilation: dilation, anchor: variant % 4 == 1 ? .topLeft : .center,
                                  border: variant % 2 == 0 ? .reflect : .zero)
            let (Q, K) = (5 + variant, 2 + variant % 3)
            let name = "direct deposit \(variant) (B \(batch), C \(C), \(H)×\(W), ps \(ps), dilation \(dilation), \(g.anchor), \(g.border))"
            do {
                var triples: [Int32] = []
                for e in 0..<batch * Q * K {
                    if e % 7 == 3 { triples += [-1, -1, -1]; continue }
                    triples += [Int32(rng.next() % UInt64(T)), Int32(rng.next() % UInt64(H)), Int32(rng.next() % UInt64(W))]
                }
                let indices = try Tensor<Int32>(shape: [batch, Q, K, 3], scalars: triples)
                let patches = random([batch, Q, K, C, ps, ps], from: -1)
                let weights = random([batch, Q, K])
                let video = random([batch, T, C, H, W], from: -1)
                let gradient = random([batch, Q, 1, C, ps, ps], from: -1)
                let videoShape = [batch, T, C, H, W]
                let (gather, wpsum) = (PatchGather(geometry: g), WeightedPatchSum(geometry: g))
                // Every output, from the given device (under `tuning` on a GPU) or the CPU reference.
                func outputs(_ d: Device, _ tuning: CUDATuning) throws(DNLSError) -> [Tensor<Float>] {
                    try CUDATuning.with(tuning) { () throws(DNLSError) -> [Tensor<Float>] in
                        let impl: Implementation = d == .cpu ? .reference : .automatic
                        let (p, w, i) = (try patches.to(d), try weights.to(d), try indices.to(d))
                        let weighted = try gather(p, weights: w, indices: i, videoShape: videoShape, implementation: impl)
                        let plain = try gather(p, indices: i, videoShape: videoShape, implementation: impl)
                        let sumGradient = try wpsum.backward(outputGradient: try gradient.to(d), video: try video.to(d), weights: w,
                                                             indices: i, implementation: impl)
                        return [weighted.video, weighted.weightSum, plain.video, plain.weightSum, sumGradient.video]
                    }
                }
                let labels = ["weighted gather video", "weighted gather weight sum", "gather video", "gather weight sum",
                              "wpsum video gradient"]
                let want = try outputs(.cpu, .standard).map { (t) throws(DNLSError) in try t.to(.cpu) }
                let first = try outputs(device, .standard), second = try outputs(device, .standard)
                let table = try outputs(device, .stress)
                for i in labels.indices {
                    try problems.expectPair("\(name): \(labels[i])", first[i], second[i], want[i])
                    try problems.expectClose("\(name): \(labels[i]) through the anchor table", table[i], want[i])
                }
            } catch {
                problems.add("\(name): \(error)")
            }
        }
        return problems.lines
    }
}
