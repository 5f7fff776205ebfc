@testable import DNLS
import DNLSTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The flow estimate finds known camera motions, small and large, in clean and noisy videos, keeps
/// still videos still, and refuses what it cannot use.
@Suite("Flow estimation")
struct FlowEstimationTests {
    /// A texture (sums of seeded random waves, values about 30–220) that moves `(dx, dy)` pixels a
    /// frame: pixel (x, y) of frame t shows the texture at (x − t·dx, y − t·dy), plus seeded
    /// Gaussian noise of `sigma`. `(T, C, H, W)`.
    static func movingVideo(frames T: Int = 3, channels C: Int = 1, height H: Int = 48, width W: Int = 56,
                            dx: Int, dy: Int, sigma: Double = 0, seed: UInt64) throws -> Tensor<Float> {
        var rng = SplitMix64(seed: seed)
        let waves = (0..<12).map { _ in (rng.uniform(0.15, 0.9), rng.uniform(0, 2 * Double.pi), rng.uniform(0, 2 * Double.pi)) }
        var values: [Float] = []
        for t in 0..<T {
            for c in 0..<C {
                for y in 0..<H {
                    for x in 0..<W {
                        let (u, v) = (Double(x - t * dx), Double(y - t * dy))
                        var texture = 125.0
                        for (i, (f, angle, phase)) in waves.enumerated() {
                            texture += 16 * sin(f * (cos(angle) * u + sin(angle) * v) + phase + Double(c * i))
                        }
                        let a = max(rng.uniform(), 1e-12), b = rng.uniform()
                        values.append(Float(texture + sigma * (-2 * log(a)).squareRoot() * cos(2 * Double.pi * b)))
                    }
                }
            }
        }
        return try Tensor(shape: [T, C, H, W], scalars: values)
    }

    /// The share of the pixels at least `margin` inside the frame whose flow at frame t is (dx, dy).
    static func share(_ flow: Tensor<Float>, frame t: Int, dx: Int, dy: Int, margin: Int) -> Double {
        let (H, W) = (flow.shape[2], flow.shape[3]), values = flow.scalars
        var hits = 0, total = 0
        for y in margin..<H - margin {
            for x in margin..<W - margin {
                total += 1
                let fx = values[((t * 2) * H + y) * W + x], fy = values[((t * 2 + 1) * H + y) * W + x]
                if fx == Float(dx) && fy == Float(dy) { hits += 1 }
            }
        }
        return Double(hits) / Double(total)
    }

    /// Counted at least the motion plus half a patch inside the frame: nearer the border a
    /// pixel's match may have left the frame.
    @Test("A camera motion of a few pixels is found forward and backward, clean and noisy",
          arguments: [(3, -2, 0.0, 1), (-1, 2, 0.0, 3), (2, 1, 10.0, 1), (-3, -1, 25.0, 3)])
    func findsSmallMotions(dx: Int, dy: Int, sigma: Double, channels: Int) throws {
        let video = try Self.movingVideo(channels: channels, dx: dx, dy: dy, sigma: sigma, seed: 7)
        let flows = try FlowEstimation()(video)
        let forward = try #require(flows.forward), backward = try #require(flows.backward)
        #expect(forward.shape == [3, 2, 48, 56] && backward.shape == [3, 2, 48, 56])
        let margin = 5 + max(abs(dx), abs(dy))
        for t in 0..<2 {
            let found = Self.share(forward, frame: t, dx: dx, dy: dy, margin: margin)
            #expect(found >= 0.95, "forward t \(t), motion (\(dx), \(dy)), σ \(sigma): \(found)")
        }
        for t in 1..<3 {
            let found = Self.share(backward, frame: t, dx: -dx, dy: -dy, margin: margin)
            #expect(found >= 0.95, "backward t \(t), motion (\(dx), \(dy)), σ \(sigma): \(found)")
        }
        // Nothing follows the last frame and nothing precedes the first.
        #expect(Self.share(forward, frame: 2, dx: 0, dy: 0, margin: 0) == 1)
        #expect(Self.share(backward, frame: 0, dx: 0, dy: 0, margin: 0) == 1)
    }

    @Test("A motion beyond the radius needs the pyramid: one level misses it, the default levels find it")
    func largeMotionsNeedThePyramid() throws {
        let (dx, dy) = (11, -9)
        let video = try Self.movingVideo(frames: 2, height: 96, width: 96, dx: dx, dy: dy, seed: 3)
        var single = FlowEstimation()
        single.levels = 1
        let missed = Self.share(try #require(try single(video).forward), frame: 0, dx: dx, dy: dy, margin: 16)
        #expect(missed < 0.05, "\(missed)")
        #expect(FlowEstimation().levelCount(height: 96, width: 96) == 3)
        let found = Self.share(try #require(try FlowEstimation()(video).forward), frame: 0, dx: dx, dy: dy, margin: 16)
        #expect(found >= 0.95, "\(found)")
    }

    @Test("A still video has zero flow; one frame has zero flows")
    func stillVideos() throws {
        let frame = try Self.movingVideo(frames: 1, channels: 3, height: 32, width: 40, dx: 0, dy: 0, seed: 5)
        let still = try Tensor(shape: [3, 3, 32, 40], scalars: Array(repeating: frame.scalars, count: 3).flatMap { $0 })
        let flows = try FlowEstimation()(still)
        #expect(try #require(flows.forward).scalars.allSatisfy { $0 == 0 })
        #expect(try #require(flows.backward).scalars.allSatisfy { $0 == 0 })
        let one = try FlowEstimation()(frame)
        #expect(try #require(one.forward).shape == [1, 2, 32, 40] && one.forward!.scalars.allSatisfy { $0 == 0 })
    }

    @Test("A batch of clips gets each clip's own flows")
    func batchesAreIndependent() throws {
        let a = try Self.movingVideo(frames: 3, height: 32, width: 32, dx: 2, dy: 0, seed: 11)
        let b = try Self.movingVideo(frames: 3, height: 32, width: 32, dx: 0, dy: -3, seed: 12)
        let batch = try Tensor(shape: [2, 3, 1, 32, 32], scalars: a.scalars + b.scalars)
        let together = try FlowEstimation()(batch)
        let alone = [try FlowEstimation()(a), try FlowEstimation()(b)]
        #expect(together.forward!.shape == [2, 3, 2, 32, 32])
        #expect(together.forward!.scalars == alone[0].forward!.scalars + alone[1].forward!.scalars)
        #expect(together.backward!.scalars == alone[0].backward!.scalars + alone[1].backward!.scalars)
    }

    @Test("Small search calls give the same flows, and the progress counts every call")
    func batchSizeDoesNotChangeTheResult() throws {
        let video = try Self.movingVideo(frames: 3, height: 24, width: 28, dx: 1, dy: 1, sigma: 5, seed: 9)
        var small = FlowEstimation()
        small.batchSize = 97
        var calls: [(Int, Int)] = []
        let reference = try FlowEstimation()(video), chunked = try small(video) { calls.append(($0, $1)) }
        #expect(chunked.forward!.scalars == reference.forward!.scalars && chunked.backward!.scalars == reference.backward!.scalars)
        #expect(!calls.isEmpty && calls.map(\.0) == Array(1...calls.count) && calls.allSatisfy { $0.1 == calls.count })
    }

    @Test("Bad parameters, ranks and values are refused by name")
    func refusals() throws {
        let video = try Self.movingVideo(frames: 2, height: 16, width: 16, dx: 1, dy: 0, seed: 1)
        func refusal(_ body: () throws -> Void) -> DNLSError? {
            do { try body(); return nil } catch { return error as? DNLSError }
        }
        var bad = FlowEstimation()
        bad.radius = -1
        #expect(refusal { _ = try bad(video) } == .invalidArgument(argument: "radius", expected: "at least 0", actual: "-1"))
        bad = FlowEstimation(); bad.patchSize = 0
        #expect(refusal { try bad.validate() } == .invalidArgument(argument: "patchSize", expected: "at least 1", actual: "0"))
        bad = FlowEstimation(); bad.prefilter = .nan
        if case .invalidArgument(argument: "prefilter", _, _)? = refusal({ try bad.validate() }) {} else { Issue.record("prefilter NaN accepted") }
        bad = FlowEstimation(); bad.levels = 0
        if case .invalidArgument(argument: "levels", _, _)? = refusal({ try bad.validate() }) {} else { Issue.record("levels 0 accepted") }
        var values = video.scalars
        values[37] = .infinity
        let infinite = try Tensor(shape: video.shape, scalars: values)
        #expect(refusal { _ = try FlowEstimation()(infinite) } == .nonFinite(argument: "video", position: [0, 0, 2, 5]))
        let flat = try Tensor<Float>(shape: [16, 16], scalars: Array(repeating: 1, count: 256))
        #expect(refusal { _ = try FlowEstimation()(flat) } != nil)
    }

    @Test("The pyramid's helpers: odd sizes halve up, a doubled flow doubles, the median drops an outlier")
    func helpers() throws {
        let host = HostFlowKernels()
        let level = try Tensor<Float>(shape: [1, 3, 5], scalars: (0..<15).map(Float.init))
        let half = try host.halved(level, planes: 1, height: 3, width: 5)
        #expect(half.shape == [1, 2, 3])
        #expect(half.scalars == [3, 5, 6.5, 10.5, 12.5, 14])  // 2 × 2 means, clipped at the last row and column
        let coarse = try Tensor<Int32>(shape: [1, 2, 2, 2], scalars: [1, 2, 3, 4, -1, 0, 5, 6])
        let fine = try host.doubled(coarse, height: 2, width: 2, toHeight: 3, toWidth: 4).scalars
        #expect(Array(fine[0..<12]) == [2, 2, 4, 4, 2, 2, 4, 4, 6, 6, 8, 8])
        #expect(Array(fine[12..<24]) == [-2, -2, 0, 0, -2, -2, 0, 0, 10, 10, 12, 12])
        var flow = [Int32](repeating: 3, count: 2 * 5 * 5)
        flow[12] = 40  // an outlier in the middle of channel 0
        let smoothed = try host.medianFiltered(try Tensor(shape: [1, 2, 5, 5], scalars: flow), height: 5, width: 5, radius: 1)
        #expect(smoothed.scalars.allSatisfy { $0 == 3 })
        let constant = try Tensor<Float>(shape: [1, 4, 5], scalars: Array(repeating: 7, count: 20))
        let blurred = try host.blurred(constant, planes: 1, height: 4, width: 5, taps: FlowPyramid.taps(sigma: 1.5))
        #expect(blurred.scalars.allSatisfy { abs($0 - 7) < 1e-5 })  // a constant stays constant
        #expect(FlowPyramid.taps(sigma: 0) == [1])
        #expect(FlowPyramid.taps(sigma: 1.5).count == 11)
    }

    @Test("Frame pairs: every forward pair, then every backward one, video by video")
    func framePairs() {
        let pairs = FlowPairs(batch: 2, frames: 3)
        #expect(pairs.count == 8)
        #expect((0..<8).map { pairs.pair($0).frame } == [0, 1, 3, 4, 1, 2, 4, 5])
        #expect((0..<8).map { pairs.pair($0).target } == [1, 2, 4, 5, 0, 1, 3, 4])
        #expect(FlowPairs(batch: 3, frames: 1).count == 0)
    }
}
