import DNLS
import DNLSTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Non-local Bayes removes most of the noise of a textured video, gives the same bits on every run,
/// and refuses bad parameters (its comparison with non-local means on a photograph is a tool test).
@Suite("Non-local Bayes")
struct NonLocalBayesTests {
    /// A textured video (oriented stripes and blobs that move one pixel a frame), values 30–220.
    static func clean() throws -> Tensor<Float> {
        let (T, C, H, W) = (3, 3, 32, 36)
        var values: [Float] = []
        for t in 0..<T {
            for c in 0..<C {
                for y in 0..<H {
                    for x in 0..<W {
                        let u = Double(x - t), v = Double(y)
                        let stripes = sin((u + 2 * v) / 3 + Double(c)), blobs = cos(u / 5) * cos(v / 4)
                        values.append(Float(125 + 60 * stripes + 35 * blobs))
                    }
                }
            }
        }
        return try Tensor(shape: [T, C, H, W], scalars: values)
    }

    static func psnr(_ a: Tensor<Float>, _ b: Tensor<Float>) -> Double {
        let mse = zip(a.scalars, b.scalars).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(a.count)
        return 10 * log10(255 * 255 / mse)
    }

    @Test("Removes most of the noise, with the same bits on every run")
    func denoisesDeterministically() throws {
        let clean = try Self.clean()
        var rng = SplitMix64(seed: 9)
        let noisy = try Tensor<Float>(shape: clean.shape, scalars: clean.scalars.map { v in
            let u = max(rng.uniform(), 1e-12), w = rng.uniform()
            return v + 25 * Float((-2 * log(u)).squareRoot() * cos(2 * Double.pi * w))
        })
        var bayes = NonLocalBayes(sigma: 25)
        bayes.temporalRadius = 1
        let estimate = try bayes(noisy)
        let before = Self.psnr(noisy, clean), after = Self.psnr(estimate, clean)
        #expect(after > before + 8, "noisy \(before) dB, non-local Bayes \(after) dB")
        #expect(try bayes(noisy).scalars.map(\.bitPattern) == estimate.scalars.map(\.bitPattern))
    }

    @Test("Bad parameters are refused by name")
    func badParameters() {
        var bayes = NonLocalBayes(sigma: 0)
        #expect(throws: DNLSError.self) { try bayes.validate() }
        bayes = NonLocalBayes(sigma: 10)
        bayes.neighbours = 1
        #expect(throws: DNLSError.self) { try bayes.validate() }
        bayes.neighbours = 10
        bayes.queryStride = 0
        #expect(throws: DNLSError.self) { try bayes.validate() }
    }
}
