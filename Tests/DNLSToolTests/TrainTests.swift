import DNLS
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import dnls

/// `dnls train`'s model and loop, small enough for a debug build: training lowers the loss and
/// beats the untrained start on the held-out half, deterministically; Adam moves against the
/// gradient.
@Suite struct TrainTests {
    static let settings = LearnedDenoiser.Settings(patchSize: 3, window: 5, temporalRadius: 1, neighbours: 8,
                                                   queryStride: 2)

    static func run(seed: UInt64 = 3) throws -> TrainingRun {
        try TrainingRun(data: TrainingData(sigma: 25 / 255, seed: seed), settings: settings, features: 5, batch: 1,
                        frames: 2, crop: 24, learningRate: 0.05, seed: seed, on: .cpu)
    }

    @Test func trainingLowersTheLossAndBeatsTheUntrainedStart() throws {
        var run = try Self.run()
        let start = try run.heldOutPSNR()
        #expect(run.noisyHeldOutPSNR() < start, "the untrained start already denoises")
        var losses: [Float] = []
        for _ in 0..<16 { losses.append(try run.step()) }
        let first = losses.prefix(4).reduce(0, +), last = losses.suffix(4).reduce(0, +)
        #expect(last < first, "loss \(losses)")
        let trained = try run.heldOutPSNR()
        #expect(trained > start + 1, "held-out PSNR \(start) → \(trained) dB")
    }

    @Test func trainingIsDeterministic() throws {
        var a = try Self.run(), b = try Self.run()
        for _ in 0..<3 { #expect(try a.step() == b.step()) }
        #expect(try a.parameters.hostValues() == b.parameters.hostValues())
    }

    @Test func adamMovesAgainstTheGradient() {
        var adam = Adam(learningRate: 0.1)
        var values: [[Float]] = [[1, -1], [0]]
        adam.update(&values, gradients: [[2, -3], [0]])
        // The first step of Adam moves each value by the learning rate against its gradient's sign.
        #expect(abs(values[0][0] - 0.9) < 1e-5 && abs(values[0][1] + 0.9) < 1e-5 && values[1][0] == 0)
    }

    @Test func untrainedStartIsTheColourChannelsAndNonLocalMeansTemperature() throws {
        let p = try DenoiserParameters.untrained(channels: 3, features: 5, patchSize: 5, sigma: 0.1, seed: 1, on: .cpu)
        #expect(p.count == 17)
        #expect(Array(p.mix.scalars[0..<9]) == [1, 0, 0, 0, 1, 0, 0, 0, 1])
        #expect(p.mix.scalars[9...].allSatisfy { $0 != 0 && abs($0) <= 0.1 })
        #expect(abs(p.logTemperature.scalars[0] - logf(1 / (75 * 0.08 * 0.08))) < 1e-5 && p.blend.scalars == [0])
    }
}
