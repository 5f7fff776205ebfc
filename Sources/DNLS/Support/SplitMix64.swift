/// SplitMix64 (Steele, Lea & Flood, 2014): a small, fast, seedable 64-bit generator.
///
/// DNLS uses it wherever inputs must be random yet reproducible: benchmarks, the conformance
/// suite and the tests. Use it with the standard library's `random(in:using:)`.
///
/// ```swift
/// var generator = SplitMix64(seed: 42)
/// let x = Float.random(in: 0..<1, using: &generator)
/// ```
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
