/// Timing of benchmark runs: wall clock on the monotonic `ContinuousClock` of the standard library
/// (CPU), or the device's own timer (GPU: CUDA events, through `Device.elapsedMilliseconds`).

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

/// Runs `body` `warmup` times untimed, then up to `repeats` times timed on the wall clock.
///
/// Timed runs stop early once they have taken `budget` seconds together (at least one timed run
/// always happens), so a slow backend cannot hold the whole benchmark hostage.
func measure(warmup: Int, repeats: Int, budget: Double, _ body: () throws -> Void) rethrows -> Timing {
    let clock = ContinuousClock()
    return try measure(warmup: warmup, repeats: repeats, budget: budget, warmupBody: body) {
        try clock.measure(body).milliseconds
    }
}

/// Runs `warmupBody` `warmup` times, then `timedRun` (which runs the body once and returns its
/// milliseconds) up to `repeats` times, stopping once the timed runs have taken `budget` seconds.
/// Warm-up runs stop early too once they have taken `budget` seconds (a case that slow is warm).
func measure(warmup: Int, repeats: Int, budget: Double, warmupBody: () throws -> Void,
             timedRun: () throws -> Double) rethrows -> Timing {
    let clock = ContinuousClock(), warmupStart = clock.now
    for _ in 0..<warmup {
        try warmupBody()
        if (clock.now - warmupStart).milliseconds >= budget * 1e3 { break }
    }
    var samples: [Double] = []
    var spent = 0.0
    for _ in 0..<Swift.max(repeats, 1) {
        let elapsed = try timedRun()
        samples.append(elapsed)
        spent += elapsed / 1e3
        if spent >= budget { break }
    }
    return Timing(samples: samples)
}

/// Keeps a value alive so the optimiser cannot drop the computation that produced it.
@inline(never)
func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }
