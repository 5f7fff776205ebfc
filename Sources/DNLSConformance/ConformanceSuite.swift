import DNLS

/// The conformance suite: every operation, forward and backward, on the backend under test
/// against the CPU reference, on fresh random inputs over a sweep of parameters.
///
/// Each case also runs the backend twice and requires bitwise-equal outputs (determinism), and,
/// on a GPU, fills every new device buffer with NaN first so that an element a kernel forgets to
/// write cannot pass. `swift test` runs the quick sweep on the fast CPU backend; `dnls selftest`
/// runs the full sweep on the chosen device.
package struct ConformanceSuite: Sendable {
    /// How many and how large the cases are.
    package enum Scale: String, Sendable, CaseIterable {
        /// Small shapes, for `swift test` in a debug build.
        case quick
        /// More cases, channels up to 64 and shapes that need many GPU blocks.
        case full
    }

    /// The device under test.
    package var device: Device
    /// The implementation under test on the CPU (ignored on a GPU).
    package var implementation: Implementation
    /// How many and how large the cases are.
    package var scale: Scale
    /// Seed of the random inputs; each case derives its own.
    package var seed: UInt64

    /// A suite for `device` (and, on the CPU, `implementation`).
    package init(device: Device, implementation: Implementation = .fast, scale: Scale = .quick, seed: UInt64 = 1) {
        self.device = device
        self.implementation = implementation
        self.scale = scale
        self.seed = seed
    }

    /// The outcome of a run.
    package struct Report: Sendable {
        /// Checks that passed.
        package var passed = 0
        /// Checks that failed.
        package var failed = 0
        /// One line per failed case: its name and what differed.
        package var failures: [String] = []
        /// The closing line, `N passed, M failed`.
        package var summary: String { "\(passed) passed, \(failed) failed" }
    }

    /// Every case of this scale, named.
    package var cases: [ConformanceCase] { ConformanceCase.sweep(scale: scale, seed: seed) }

    /// The checks a GPU run makes before the cases: its progress line, its label in the
    /// failures, and the check.
    private var deviceChecks: [(name: String, label: String, check: (Device) -> [String])] {
        device == .cpu ? [] : [
            ("device mixing is a typed error", "device mixing", Self.checkDeviceMixing),
            ("bad indices and values give the CPU's errors", "device validation", Self.checkDeviceValidation),
            ("operations on a stream give the default stream's results", "streams", Self.checkStreams),
            ("into: forms in a planned workspace give the same results and allocate nothing", "caller memory",
             Self.checkCallerMemory),
            ("differentiable tensor operations match the CPU", "tensor math", Self.checkTensorMath),
            ("gradients of a learned non-local weighting match the CPU reference", "differentiation",
             Self.checkDifferentiation),
            ("small deposits without an anchor table match the CPU and the anchor table", "direct deposits",
             Self.checkDirectDeposits),
            ("flow tensors of zeros take the no-flow search; a moving flow matches the CPU", "zero flows",
             Self.checkZeroFlows),
            ("a search along smooth, random and wild flows matches the CPU in one union chunk and in many", "flow search",
             Self.checkFlowSearch),
            ("the denoisers' group estimates, colour basis, normalisation and weights match the host", "denoising",
             Self.checkDenoising),
            ("flow estimation's steps match the host", "flow estimation", Self.checkFlowSteps),
        ]
    }

    /// The checks a run reports: the device checks on a GPU, then one per case.
    package var checkCount: Int { deviceChecks.count + cases.count }

    /// Runs every case, calling `progress` with each case's name and whether it passed.
    package func run(progress: (String, Bool, [String]) -> Void = { _, _, _ in }) -> Report {
        let poison = Diagnostics.poisonsDeviceAllocations, tuning = CUDATuning.current
        Diagnostics.poisonsDeviceAllocations = device != .cpu
        if device != .cpu { CUDATuning.current = .stress }
        defer { Diagnostics.poisonsDeviceAllocations = poison; CUDATuning.current = tuning }
        var report = Report()
        func record(_ name: String, _ problems: [String], failure: @autoclosure () -> String) {
            if problems.isEmpty { report.passed += 1 } else {
                report.failed += 1
                report.failures.append(failure())
            }
            progress(name, problems.isEmpty, problems)
        }
        for d in deviceChecks {
            let problems = d.check(device)
            record(d.name, problems, failure: "\(d.label): " + problems.joined(separator: "; "))
        }
        for c in cases {
            let problems = c.check(on: device, implementation: implementation)
            record(c.name, problems, failure: "\(c.name): " + problems.prefix(3).joined(separator: "; "))
        }
        return report
    }

    /// Bad inputs checked on the device (indices and query positions out of the video, NaN or
    /// infinite weights and flows) must throw exactly the error the CPU throws for the same
    /// inputs: same case, same text, same (first) position, with several bad entries and more
    /// entries than the check kernels have threads; eagerly from the call, and under deferred
    /// checking on a stream from the stream's next synchronisation (the kernels having run on the
    /// bad entries without a fault).
    static func checkDeviceValidation(_ device: Device) -> [String] {
        var problems: [String] = []
        func same(_ what: String, _ body: (Device) throws(DNLSError) -> Void) {
            var errors: [DNLSError?] = []
            for d in [Device.cpu, device] {
                do throws(DNLSError) { try body(d); errors.append(nil) } catch { errors.append(error) }
            }
            // Deferred, on a stream of its own: the call returns, the next synchronisation throws.
            do throws(DNLSError) {
                let stream = try GPUStream(on: device)
                try withStream(stream, checking: .deferred) { () throws(DNLSError) in try body(device) }
                try stream.synchronize()
                errors.append(nil)
            } catch { errors.append(error) }
            if errors[0] == nil { problems.append("\(what): the CPU did not throw") }
            if errors[0] != errors[1] {
                problems.append("\(what): CPU \(errors[0].map { "\($0)" } ?? "no error"), \(device) \(errors[1].map { "\($0)" } ?? "no error")")
            }
            if errors[0] != errors[2] {
                problems.append("\(what): CPU \(errors[0].map { "\($0)" } ?? "no error"), \(device) deferred \(errors[2].map { "\($0)" } ?? "no error")")
            }
        }
        do {
            let (B, T, C, H, W, Q, K) = (2, 3, 2, 40, 50, 20_000, 8)
            var rng = SplitMix64(seed: 11)
            let video = try Tensor<Float>(shape: [B, T, C, H, W], scalars: (0..<B * T * C * H * W).map { _ in
                Float(rng.next() % 1000) / 1000 })
            var triples = [Int32](repeating: 0, count: B * Q * K * 3)
            for e in 0..<B * Q * K {
                triples[3 * e] = Int32(rng.next() % UInt64(T))
                triples[3 * e + 1] = Int32(rng.next() % UInt64(H))
                triples[3 * e + 2] = Int32(rng.next() % UInt64(W))
            }
            for e in stride(from: 5, to: B * Q * K, by: 97) { triples[3 * e] = -1; triples[3 * e + 1] = -1; triples[3 * e + 2] = -1 }
            let g = PatchGeometry(patchSize: 3)
            let weights = try Tensor<Float>(shape: [B, Q, K], scalars: (0..<B * Q * K).map { _ in Float(rng.next() % 100) / 100 })
            let good = try Tensor<Int32>(shape: [B, Q, K, 3], scalars: triples)
            // Valid indices (markers included) pass on both and give the same patches.
            let cpuSum = try WeightedPatchSum(geometry: g)(video, weights: weights, indices: good)
            let gpuSum = try WeightedPatchSum(geometry: g)(try video.to(device), weights: try weights.to(device),
                                                           indices: try good.to(device))
            let worst = zip(try gpuSum.to(.cpu).scalars, cpuSum.scalars).map { abs($0 - $1) }.max() ?? 0
            if gpuSum.shape != cpuSum.shape || !(worst < 1e-4) {
                problems.append("wpsum of valid device indices differs from the CPU's (shape \(gpuSum.shape), max error \(worst))")
            }

            // Several bad triples, the first late in the second batch item (past one grid stride).
            for (first, bad) in [(B * Q * K - 7, [Int32(0), Int32(H), 0]), (Q * K + 30_000, [-1, -1, 0]),
                                 (123_457, [Int32(T), 0, 0]), (3, [0, 0, -2])] {
                var t = triples
                for (e, value) in [(first, bad), (first + 5, [-3, -3, -3]), (B * Q * K - 1, [0, 0, Int32(W)])] where e < B * Q * K {
                    t[3 * e] = value[0]; t[3 * e + 1] = value[1]; t[3 * e + 2] = value[2]
                }
                let indices = try Tensor<Int32>(shape: [B, Q, K, 3], scalars: t)
                same("scatter, bad entry \(first)") { (d) throws(DNLSError) in
                    _ = try PatchScatter(geometry: g)(try video.to(d), indices: try indices.to(d))
                }
                same("wpsum, bad entry \(first)") { (d) throws(DNLSError) in
                    _ = try WeightedPatchSum(geometry: g)(try video.to(d), weights: try weights.to(d), indices: try indices.to(d))
                }
            }
            // Query positions: the marker is not allowed there.
            var positions = [Int32](repeating: 1, count: B * Q * 3)
            positions[3 * (Q + 17)] = -1; positions[3 * (Q + 17) + 1] = -1; positions[3 * (Q + 17) + 2] = -1
            positions[3 * (Q + 40) + 2] = Int32(W)
            let queries = try Tensor<Int32>(shape: [B, Q, 3], scalars: positions)
            let search = PatchSearch(geometry: g, window: SearchWindow(size: 3), k: 2)
            same("search, bad query position") { (d) throws(DNLSError) in
                _ = try search(try video.to(d), queries: .positions(try queries.to(d)))
            }
            // Non-finite weights and flows: the first of several, in a tensor larger than one grid stride.
            var w = weights.scalars
            w[280_001] = .infinity; w[300_000] = .nan; w[B * Q * K - 1] = .nan
            let badWeights = try Tensor<Float>(shape: [B, Q, K], scalars: w)
            same("wpsum, non-finite weight") { (d) throws(DNLSError) in
                _ = try WeightedPatchSum(geometry: g)(try video.to(d), weights: try badWeights.to(d), indices: try good.to(d))
            }
            same("gather, non-finite weight") { (d) throws(DNLSError) in
                let patches = try Tensor<Float>.init(zeros: [B, Q, K, C, 3, 3]).to(d)
                _ = try PatchGather(geometry: g)(patches, weights: try badWeights.to(d), indices: try good.to(d),
                                                 videoShape: [B, T, C, H, W])
            }
            var f = [Float](repeating: 0.5, count: B * T * 2 * H * W)
            f[B * T * 2 * H * W - 11] = .nan; f[f.count - 1] = .infinity
            let flow = try Tensor<Float>(shape: [B, T, 2, H, W], scalars: f)
            same("search, non-finite flow") { (d) throws(DNLSError) in
                _ = try search(try video.to(d), queries: .positions(try good.withFirstTriples(B: B, Q: Q, K: K).to(d)),
                               flows: Flows(forward: try flow.to(d)))
            }
        } catch {
            problems.append("threw: \(error)")
        }
        return problems
    }

    /// Operations whose tensors live on different devices must throw `.deviceMismatch` naming
    /// the odd tensor, and results must come back to the host intact.
    static func checkDeviceMixing(_ device: Device) -> [String] {
        var problems: [String] = []
        do {
            let video = try Tensor<Float>(shape: [2, 1, 6, 6], scalars: (0..<72).map { Float($0) })
            let indices = try Tensor<Int32>(shape: [1, 1, 3], scalars: [1, 2, 3])
            let onDevice = try video.to(device)
            if try onDevice.to(.cpu) != video { problems.append("a round trip to \(device) changed the tensor") }
            do {
                _ = try PatchScatter(geometry: PatchGeometry(patchSize: 3))(onDevice, indices: indices)
                let moved = try indices.to(device)
                _ = try PatchScatter(geometry: PatchGeometry(patchSize: 3))(video, indices: moved)
                problems.append("mixing devices did not throw")
            } catch {
                guard case let .deviceMismatch(argument, _, _) = error, argument == "indices" else {
                    problems.append("expected deviceMismatch naming `indices`, got \(error)")
                    return problems
                }
            }
        } catch {
            problems.append("threw: \(error)")
        }
        return problems
    }
}

private extension Tensor where Scalar == Int32 {
    /// The first neighbour of every query of a `(B, Q, K, 3)` index tensor whose first slot is
    /// never the marker, as `(B, Q, 3)` query positions.
    func withFirstTriples(B: Int, Q: Int, K: Int) throws(DNLSError) -> Tensor<Int32> {
        var out = [Int32](repeating: 0, count: B * Q * 3)
        let s = scalars
        for b in 0..<B {
            for q in 0..<Q {
                for i in 0..<3 { out[(b * Q + q) * 3 + i] = max(0, s[((b * Q + q) * K) * 3 + i]) }
            }
        }
        return try Tensor(shape: [B, Q, 3], scalars: out)
    }
}
