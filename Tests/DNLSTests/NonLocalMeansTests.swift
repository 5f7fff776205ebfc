import DNLS
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Non-local means on a small synthetic video with a known motion and seeded Gaussian noise.
@Suite struct NonLocalMeansTests {
    /// Blocks, a ramp and a sinusoid (0–255), moving one pixel right and down per frame.
    static func clean(frames T: Int = 4, size: Int = 28) -> Tensor<Float> {
        var values = [Float]()
        for t in 0..<T {
            for c in 0..<3 {
                for y in 0..<size {
                    for x in 0..<size {
                        let u = x - t, v = y - t
                        let blocks: Float = ((u >> 3) + (v >> 3)) & 1 == 0 ? 60 : 190
                        let wave = 40 * Float(sin(Double(u) * 0.45 + Double(c)))
                        values.append(min(255, max(0, blocks + wave + Float(v) * 1.5)))
                    }
                }
            }
        }
        return try! Tensor(shape: [T, 3, size, size], scalars: values)
    }

    static func noisy(_ clean: Tensor<Float>, sigma: Float, seed: UInt64) -> Tensor<Float> {
        var rng = SplitMix64(seed: seed)
        let values = clean.scalars.map { v -> Float in
            // Box–Muller.
            let a = Double.random(in: Double.ulpOfOne..<1, using: &rng), b = Double.random(in: 0..<1, using: &rng)
            return v + sigma * Float(sqrt(-2 * log(a)) * cos(2 * Double.pi * b))
        }
        return try! Tensor(shape: clean.shape, scalars: values)
    }

    static func psnr(_ a: Tensor<Float>, _ b: Tensor<Float>) -> Double {
        let mse = zip(a.scalars, b.scalars).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(a.count)
        return 10 * log10(255 * 255 / mse)
    }

    @Test func raisesPSNR() throws {
        let clean = Self.clean(), noisy = Self.noisy(clean, sigma: 25, seed: 3)
        var nlm = NonLocalMeans(sigma: 25)
        let before = Self.psnr(noisy, clean)
        let one = Self.psnr(try nlm(noisy), clean)
        nlm.twoStep = true
        let two = Self.psnr(try nlm(noisy), clean)
        print("PSNR noisy \(before), one step \(one), two steps \(two)")
        #expect(one >= before + 6, "one step: \(before) → \(one) dB")
        #expect(two > one, "two steps \(two) dB should beat one step \(one) dB")
    }

    @Test func batchedEqualsUnbatched() throws {
        let clean = Self.clean(frames: 3, size: 20), noisy = Self.noisy(clean, sigma: 20, seed: 4)
        var nlm = NonLocalMeans(sigma: 20)
        nlm.batchSize = 1 << 20
        let whole = try nlm(noisy)
        nlm.batchSize = 97
        var reports: [(Int, Int)] = []
        let batched = try nlm(noisy) { reports.append(($0, $1)) }
        #expect(batched.scalars.map(\.bitPattern) == whole.scalars.map(\.bitPattern))
        #expect(reports.last.map { $0.0 == $0.1 } == true)
        #expect(reports.count == (3 * 20 * 20 + 96) / 97)
    }

    @Test func rejectsBadSigma() {
        #expect(throws: DNLSError.self) { try NonLocalMeans(sigma: 0)(Self.clean(frames: 1, size: 8)) }
        #expect(throws: DNLSError.self) { try NonLocalMeans(sigma: .nan)(Self.clean(frames: 1, size: 8)) }
    }
}
