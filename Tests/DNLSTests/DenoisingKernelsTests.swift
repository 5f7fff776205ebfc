@testable import DNLS
import DNLSConformance
import DNLSTestSupport
import Testing

/// The denoisers' steps on the host, and the suite's device check of them run with the host in
/// the device's place (the GPU run of the check is part of `dnls selftest --device cuda`).
@Suite struct DenoisingKernelsTests {
    @Test("The device check of the denoising steps runs and passes with the host on both sides")
    func deviceCheckOnTheHost() {
        #expect(ConformanceSuite.checkDenoising(.cpu) == [])
    }

    @Test("The device check of flow estimation's steps runs and passes with the host on both sides")
    func flowCheckOnTheHost() {
        #expect(ConformanceSuite.checkFlowSteps(.cpu) == [])
    }

    @Test("A Bayes estimate changes the rows it estimates and keeps missing rows, tiny groups and their channels")
    func bayesEstimateKeepsWhatItCannotEstimate() throws {
        var rng = SplitMix64(seed: 5)
        let layout = GroupLayout(groups: 3, neighbours: 6, channels: 2, entries: 4)
        let patches: Tensor<Float> = randomTensor([1, 3, 6, 2, 4], &rng, 0, 255)
        var triples = [Int32](repeating: 1, count: 3 * 6 * 3)
        for j in 0..<3 { triples[3 * 2 + j] = -1 }                    // group 0, row 2 missing
        for r in 1..<6 { for j in 0..<3 { triples[3 * (6 + r) + j] = -1 } }  // group 1: one row
        let indices = try Tensor<Int32>(shape: [1, 3, 6, 3], scalars: triples)
        let out = try HostDenoising().bayesEstimates(patches, model: nil, indices: indices, layout: layout, variance: 400)
        let (x, y) = (patches.scalars, out.scalars)
        let row = { (g: Int, r: Int) in ((g * 6 + r) * 8)..<((g * 6 + r) * 8 + 8) }
        #expect(Array(y[row(0, 2)]) == Array(x[row(0, 2)]))
        for r in 0..<6 { #expect(Array(y[row(1, r)]) == Array(x[row(1, r)])) }
        #expect(Array(y[row(0, 0)]) != Array(x[row(0, 0)]))
        #expect(Array(y[row(2, 5)]) != Array(x[row(2, 5)]))
    }

    @Test("With one entry per patch the estimate is the scalar Wiener formula of each step")
    func bayesEstimateOfScalars() throws {
        var rng = SplitMix64(seed: 7)
        let k = 9, variance = 900.0
        let layout = GroupLayout(groups: 1, neighbours: k, channels: 1, entries: 1)
        let x: Tensor<Float> = randomTensor([1, 1, k, 1, 1], &rng, 0, 255)
        let model: Tensor<Float> = randomTensor([1, 1, k, 1, 1], &rng, 0, 255)
        let indices = try Tensor<Int32>(shape: [1, 1, k, 3], scalars: [Int32](repeating: 0, count: 3 * k))
        func moments(_ v: [Float]) -> (mean: Double, variance: Double) {
            let m = v.reduce(0) { $0 + Double($1) } / Double(v.count)
            return (m, v.reduce(0) { $0 + (Double($1) - m) * (Double($1) - m) } / Double(v.count - 1))
        }
        let first = try HostDenoising().bayesEstimates(x, model: nil, indices: indices, layout: layout, variance: variance)
        let second = try HostDenoising().bayesEstimates(x, model: model, indices: indices, layout: layout, variance: variance)
        let (mx, vx) = moments(x.scalars), (_, vm) = moments(model.scalars)
        for r in 0..<k {
            let v = Double(x.scalars[r])
            let wantFirst = v - variance / (vx + 1e-3 * variance) * (v - mx)
            let wantSecond = v - variance / (vm + variance) * (v - mx)
            #expect(abs(Double(first.scalars[r]) - wantFirst) < 1e-3)
            #expect(abs(Double(second.scalars[r]) - wantSecond) < 1e-3)
        }
    }

    @Test("A flat group of a first step takes its channels' means; a group that spreads more than the threshold does not")
    func flatAreas() throws {
        var rng = SplitMix64(seed: 8)
        let layout = GroupLayout(groups: 2, neighbours: 10, channels: 2, entries: 9)
        var values: [Float] = []
        for g in 0..<2 { for _ in 0..<(10 * 2 * 9) { values.append(100 + Float(rng.uniform(-1, 1)) * (g == 0 ? 5 : 60)) } }
        let patches = try Tensor<Float>(shape: [1, 2, 10, 2, 3, 3], scalars: values)
        let indices = try Tensor<Int32>(shape: [1, 2, 10, 3], scalars: [Int32](repeating: 0, count: 60))
        let out = try HostDenoising().bayesEstimates(patches, model: nil, indices: indices, layout: layout, variance: 100,
                                                     flatness: 1.05 * 1.05 * 100).scalars
        for c in 0..<2 {
            let channel = (0..<10).flatMap { r in (0..<9).map { e in (r * 2 + c) * 9 + e } }
            let mean = channel.reduce(0.0) { $0 + Double(values[$1]) } / 90
            #expect(channel.allSatisfy { out[$0] == Float(mean) })
        }
        let wide = 180..<360
        #expect(Array(out[wide]) != Array(values[wide]))
        #expect(Set(out[wide]).count > 2)  // estimated patch by patch, not flattened
        let off = try HostDenoising().bayesEstimates(patches, model: nil, indices: indices, layout: layout, variance: 100)
        #expect(Set(off.scalars[0..<90]).count > 2)
    }

    @Test("Denoiser batches are whole groups of 16 grid rows when the size holds one")
    func batchSizes() throws {
        let grid = try QueryGrid(region: .whole(frames: 3, height: 100, width: 60), stride: 2)  // 30 columns
        #expect(Aggregation.batchSize(2048, grid: grid) == 1920)
        #expect(Aggregation.batchSize(480, grid: grid) == 480)
        #expect(Aggregation.batchSize(479, grid: grid) == 479)
        #expect(Aggregation.batchSize(100_000, grid: grid) == 99_840)
        let tiny = try QueryGrid(region: .whole(frames: 1, height: 4, width: 4))
        #expect(Aggregation.batchSize(10, grid: tiny) == 10)
        #expect(Aggregation.batchSize(1000, grid: tiny) == 1000 / 64 * 64)
        #expect(!SearchedTables.trusted)  // the callers' tables are checked
    }

    @Test("The colour basis and its inverse restore a video")
    func colourBasisRoundTrip() throws {
        var rng = SplitMix64(seed: 6)
        let video: Tensor<Float> = randomTensor([2, 3, 5, 4], &rng, 0, 255)
        let host = HostDenoising()
        let there = try host.mixedColours(video, matrix: ColourBasis.forward, plane: 20)
        let back = try host.mixedColours(there, matrix: ColourBasis.inverse, plane: 20)
        #expect(there.scalars != video.scalars)
        #expect(Tolerance.float32.scaled(255).firstMismatch(back.scalars, video.scalars) == nil)
    }
}
