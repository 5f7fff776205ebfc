import DNLS

/// A tensor of `shape` filled with uniform values in `range`, from a generator seeded with `seed`.
///
/// With `repeatingBlock`, a tensor of more elements than that repeats its first `repeatingBlock`
/// random elements (pick a prime, so the repetition does not line up with the tensor's axes): fast
/// for gigabyte inputs whose values only need to be non-trivial, not independent.
func randomTensor(_ shape: [Int], seed: UInt64, in range: Range<Float> = 0..<1,
                  repeatingBlock: Int? = nil) throws -> Tensor<Float> {
    var generator = SplitMix64(seed: seed)
    let count = shape.reduce(1, *)
    var scalars = [Float]()
    scalars.reserveCapacity(count)
    let drawn = repeatingBlock.map { Swift.min($0, count) } ?? count
    for _ in 0..<drawn { scalars.append(Float.random(in: range, using: &generator)) }
    // A separate copy of the block: appending a slice of `scalars` to itself would copy the whole
    // array on every append (the slice shares its buffer), quadratic in the tensor's size.
    let block = Array(scalars)
    while scalars.count < count {
        scalars.append(contentsOf: block[0..<Swift.min(drawn, count - scalars.count)])
    }
    return try Tensor(shape: shape, scalars: scalars)
}
