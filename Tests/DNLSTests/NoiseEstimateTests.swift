import DNLS
import DNLSTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The noise estimate finds the standard deviation of Gaussian noise added to smooth videos, and
/// refuses inputs it cannot read.
@Suite("Noise estimate")
struct NoiseEstimateTests {
    /// A smooth video (gradients and slow waves, values 40–210) plus seeded Gaussian noise of `sigma`.
    static func noisyVideo(sigma: Double, seed: UInt64) throws -> Tensor<Float> {
        var rng = SplitMix64(seed: seed)
        let (T, C, H, W) = (3, 3, 48, 64)
        var values: [Float] = []
        for t in 0..<T {
            for c in 0..<C {
                for y in 0..<H {
                    for x in 0..<W {
                        let clean = 125 + 60 * Double(x - y) / Double(W + H) + 25 * sin(Double(y + 3 * t) / 9 + Double(c))
                        // Box–Muller: one standard normal from two uniforms.
                        let u = max(rng.uniform(), 1e-12), v = rng.uniform()
                        values.append(Float(clean + sigma * (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)))
                    }
                }
            }
        }
        return try Tensor(shape: [T, C, H, W], scalars: values)
    }

    @Test("Gaussian noise of σ 5 to 50 is estimated within 8 %", arguments: [5.0, 10, 25, 50])
    func estimatesGaussianNoise(sigma: Double) throws {
        let estimate = Double(try NoiseEstimate.sigma(of: try Self.noisyVideo(sigma: sigma, seed: UInt64(sigma * 10))))
        #expect(abs(estimate - sigma) <= 0.08 * sigma, "σ \(sigma): estimated \(estimate)")
    }

    @Test("No noise estimates near zero; frames without a 2 × 2 block and non-finite values are refused")
    func edges() throws {
        let flat = try Tensor<Float>(shape: [2, 1, 6, 6], scalars: (0..<72).map { Float($0 % 6) })  // a ramp: details are 0
        #expect(try NoiseEstimate.sigma(of: flat) == 0)
        #expect(throws: DNLSError.self) { try NoiseEstimate.sigma(of: Tensor<Float>(zeros: [2, 1, 1, 8])) }
        var values = [Float](repeating: 1, count: 16)
        values[5] = .nan
        #expect(throws: DNLSError.self) { try NoiseEstimate.sigma(of: try Tensor(shape: [1, 1, 4, 4], scalars: values)) }
    }
}
