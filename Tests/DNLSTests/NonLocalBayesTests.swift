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
        bayes.queryStride = 2
        bayes.scales = 0
        #expect(throws: DNLSError.self) { try bayes.validate() }
    }

    @Test("The pyramid halves the frames while they stay at least the window", arguments: [1, 2, 3, 5])
    func pyramidLevels(scales: Int) {
        var bayes = NonLocalBayes(sigma: 10)
        bayes.scales = scales
        bayes.windowSize = 15
        let levels = bayes.pyramidSizes(height: 121, width: 64)
        let all = [(121, 64), (61, 32), (31, 16)]  // 8 × 16 would be narrower than the window
        #expect(levels.count == min(scales, 3))
        for (level, size) in zip(levels, all) { #expect(level.height == size.0 && level.width == size.1) }
        // Patches larger than the window bound the levels too.
        bayes.windowSize = 3
        bayes.patchSize = 9
        #expect(bayes.pyramidSizes(height: 12, width: 40).count == 1)
        #expect(bayes.pyramidSizes(height: 18, width: 40).count == min(scales, 2))
    }

    @Test("A pyramid level adds the upsampled correction: each pixel against the formula")
    func expansionMatchesItsFormula() throws {
        var rng = SplitMix64(seed: 17)
        let (planes, H, W) = (2, 7, 10), (h, w) = (4, 5)
        func random(_ shape: [Int]) throws -> Tensor<Float> {
            try Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(rng.uniform(-50, 50)) })
        }
        let fine = try random([planes, H, W]), correction = try random([planes, h, w])
        let out = try HostDenoising().expanded(fine, correction: correction, planes: planes, height: H, width: W)
        let taps = [0.25, 0.5, 0.25]
        for p in 0..<planes {
            for y in 0..<H {
                for x in 0..<W {
                    var sum = 0.0
                    for a in 0..<3 {
                        for b in 0..<3 {
                            let c = (p * h + min(max(y + a - 1, 0), H - 1) / 2) * w + min(max(x + b - 1, 0), W - 1) / 2
                            sum += taps[a] * taps[b] * Double(correction.scalars[c])
                        }
                    }
                    let i = (p * H + y) * W + x
                    #expect(abs(Double(out.scalars[i]) - (Double(fine.scalars[i]) + sum)) < 1e-4, "plane \(p), (\(y), \(x))")
                }
            }
        }
    }

    @Test("A coarse level's correction is shared out by its local variance: each pixel against the formula")
    func correctionMatchesItsFormula() throws {
        var rng = SplitMix64(seed: 19)
        let (frames, channels, h, w) = (2, 3, 5, 6), noise: Float = 150
        func random(_ shape: [Int], _ scale: Double) throws -> Tensor<Float> {
            try Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(rng.uniform(-scale, scale)) })
        }
        // Columns 0–2 nearly flat, 3–5 rough: shares near 1 and far below it.
        var coarse = try random([frames * channels, h, w], 40)
        coarse = try Tensor(shape: coarse.shape, scalars: coarse.scalars.enumerated().map { $0.offset % w < 2 ? 100 + $0.element / 40 : $0.element })
        let down = try random([frames * channels, h, w], 40)
        let out = try HostDenoising().pyramidCorrection(coarse: coarse, coarseOfFine: down, frames: frames, channels: channels,
                                                        height: h, width: w, noise: noise)
        var shares: [Double] = []
        for f in 0..<frames {
            for y in 0..<h {
                for x in 0..<w {
                    var variance = 0.0
                    for c in 0..<channels {
                        let around = (-1...1).flatMap { a in (-1...1).map { b in
                            Double(coarse.scalars[((f * channels + c) * h + min(max(y + a, 0), h - 1)) * w + min(max(x + b, 0), w - 1)])
                        } }
                        let mean = around.reduce(0, +) / 9
                        variance += around.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 9 / Double(channels)
                    }
                    let share = Double(noise) / (Double(noise) + variance)
                    shares.append(share)
                    for c in 0..<channels {
                        let i = ((f * channels + c) * h + y) * w + x
                        let want = share * Double(coarse.scalars[i] - down.scalars[i])
                        #expect(abs(Double(out.scalars[i]) - want) < 1e-3 * max(1, abs(want)), "frame \(f), channel \(c), (\(y), \(x))")
                    }
                }
            }
        }
        #expect(shares.max()! > 0.9 && shares.min()! < 0.3, "shares \(shares.min()!)…\(shares.max()!)")
    }

    @Test("More scales remove the low-frequency noise of a smooth video")
    func scalesHelpSmoothVideos() throws {
        let (T, C, H, W) = (3, 3, 64, 64)
        var clean: [Float] = []
        for t in 0..<T {
            for c in 0..<C {
                for y in 0..<H {
                    for x in 0..<W { clean.append(Float(100 + 40 * sin(Double(x + t) / 20 + Double(c)) * cos(Double(y) / 25))) }
                }
            }
        }
        let reference = try Tensor(shape: [T, C, H, W], scalars: clean)
        var rng = SplitMix64(seed: 23)
        let noisy = try Tensor<Float>(shape: reference.shape, scalars: clean.map { v in
            let u = max(rng.uniform(), 1e-12), w = rng.uniform()
            return v + 30 * Float((-2 * log(u)).squareRoot() * cos(2 * Double.pi * w))
        })
        var one = NonLocalBayes(sigma: 30)
        one.temporalRadius = 1
        one.windowSize = 11
        one.scales = 1
        var three = one
        three.scales = 3
        let single = Self.psnr(try one(noisy), reference), pyramid = Self.psnr(try three(noisy), reference)
        #expect(pyramid > single + 0.5, "1 scale \(single) dB, 3 scales \(pyramid) dB")
    }
}
