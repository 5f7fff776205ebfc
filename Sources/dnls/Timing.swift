/// Wall-clock timing on the monotonic `ContinuousClock` of the standard library.

/// The timed runs of one benchmark case, in milliseconds.
struct Timing {
    /// One entry per timed run (warm-up runs excluded), in the order they ran.
    var samples: [Double]

    /// The middle sample (mean of the middle two for an even count).
    var median: Double {
        let sorted = samples.sorted()
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }

    var min: Double { samples.min() ?? .nan }
}

extension Duration {
    /// The duration in milliseconds.
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1e3 + Double(attoseconds) * 1e-15
    }
}

/// Runs `body` `warmup` times untimed, then up to `repeats` times timed.
///
/// Timed runs stop early once they have taken `budget` seconds together (at least one timed run
/// always happens), so a slow backend cannot hold the whole benchmark hostage.
func measure(warmup: Int, repeats: Int, budget: Double, _ body: () throws -> Void) rethrows -> Timing {
    let clock = ContinuousClock()
    for _ in 0..<warmup { try body() }
    var samples: [Double] = []
    var spent = 0.0
    for _ in 0..<Swift.max(repeats, 1) {
        let elapsed = try clock.measure(body).milliseconds
        samples.append(elapsed)
        spent += elapsed / 1e3
        if spent >= budget { break }
    }
    return Timing(samples: samples)
}

/// Keeps a value alive so the optimiser cannot drop the computation that produced it.
@inline(never)
func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }
