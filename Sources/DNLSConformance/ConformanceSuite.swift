import DNLS

/// The conformance suite: every operation, forward and backward, on the backend under test
/// against the CPU reference, on fresh random inputs over a sweep of parameters.
///
/// Each case also runs the backend twice and requires bitwise-equal outputs (determinism), and,
/// on a GPU, fills every new device buffer with NaN first so that an element a kernel forgets to
/// write cannot pass. `swift test` runs the quick sweep on the fast CPU backend; `dnls selftest`
/// runs the full sweep on the chosen device.
public struct ConformanceSuite: Sendable {
    /// How many and how large the cases are.
    public enum Scale: String, Sendable, CaseIterable {
        /// Small shapes, for `swift test` in a debug build.
        case quick
        /// More cases, channels up to 64 and shapes that need many GPU blocks.
        case full
    }

    /// The device under test.
    public var device: Device
    /// The implementation under test on the CPU (ignored on a GPU).
    public var implementation: Implementation
    /// How many and how large the cases are.
    public var scale: Scale
    /// Seed of the random inputs; each case derives its own.
    public var seed: UInt64

    /// A suite for `device` (and, on the CPU, `implementation`).
    public init(device: Device, implementation: Implementation = .fast, scale: Scale = .quick, seed: UInt64 = 1) {
        self.device = device
        self.implementation = implementation
        self.scale = scale
        self.seed = seed
    }

    /// The outcome of a run.
    public struct Report: Sendable {
        /// Checks that passed.
        public var passed = 0
        /// Checks that failed.
        public var failed = 0
        /// One line per failed case: its name and what differed.
        public var failures: [String] = []
        /// The closing line, `N passed, M failed`.
        public var summary: String { "\(passed) passed, \(failed) failed" }
    }

    /// Every case of this scale, named.
    public var cases: [ConformanceCase] { ConformanceCase.sweep(scale: scale, seed: seed) }

    /// Runs every case, calling `progress` with each case's name and whether it passed.
    public func run(progress: (String, Bool, [String]) -> Void = { _, _, _ in }) -> Report {
        let poison = Diagnostics.poisonsDeviceAllocations
        Diagnostics.poisonsDeviceAllocations = device != .cpu
        defer { Diagnostics.poisonsDeviceAllocations = poison }
        var report = Report()
        if device != .cpu {
            let problems = Self.checkDeviceMixing(device)
            if problems.isEmpty { report.passed += 1 } else {
                report.failed += 1
                report.failures.append("device mixing: " + problems.joined(separator: "; "))
            }
            progress("device mixing is a typed error", problems.isEmpty, problems)
        }
        for c in cases {
            let problems = c.check(on: device, implementation: implementation)
            if problems.isEmpty { report.passed += 1 } else {
                report.failed += 1
                report.failures.append("\(c.name): " + problems.prefix(3).joined(separator: "; "))
            }
            progress(c.name, problems.isEmpty, problems)
        }
        return report
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
