import DNLS

/// SplitMix64 (Steele, Lea & Flood 2014): a small, fast, seedable generator, so every benchmark
/// run sees the same inputs.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A tensor of `shape` filled with uniform values in `range`, from a generator seeded with `seed`.
func randomTensor(_ shape: [Int], seed: UInt64, in range: Range<Float> = 0..<1) throws -> Tensor<Float> {
    var generator = SplitMix64(seed: seed)
    let count = shape.reduce(1, *)
    var scalars = [Float]()
    scalars.reserveCapacity(count)
    for _ in 0..<count { scalars.append(Float.random(in: range, using: &generator)) }
    return try Tensor(shape: shape, scalars: scalars)
}
