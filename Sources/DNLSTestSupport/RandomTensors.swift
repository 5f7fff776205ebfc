import DNLS

// Seeded random inputs for the tests and the conformance suite: every input reproducible from a seed.

extension SplitMix64 {
    /// Uniform in [0, 1) with 53 random bits.
    package mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [lo, hi).
    package mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * uniform() }

    /// Uniform integer in `range`.
    package mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &self) }

    /// Uniform integer in `range`.
    package mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    /// A uniformly chosen element.
    package mutating func pick<T>(_ values: [T]) -> T { values[int(0..<values.count)] }

    /// True with probability `p`.
    package mutating func chance(_ p: Double) -> Bool { uniform() < p }
}

/// A tensor of independent uniform values in [lo, hi).
package func randomTensor<S: PatchScalar>(_ shape: [Int], _ rng: inout SplitMix64, _ lo: Double = 0, _ hi: Double = 1,
                                          as _: S.Type = S.self) -> Tensor<S> {
    let n = shape.reduce(1, *)
    var values = [S]()
    values.reserveCapacity(n)
    for _ in 0..<n { values.append(S(rng.uniform(lo, hi))) }
    return try! Tensor(shape: shape, scalars: values)
}
