import DNLS

/// A tensor of `shape` filled with uniform values in `range`, from a generator seeded with `seed`.
func randomTensor(_ shape: [Int], seed: UInt64, in range: Range<Float> = 0..<1) throws -> Tensor<Float> {
    var generator = SplitMix64(seed: seed)
    let count = shape.reduce(1, *)
    var scalars = [Float]()
    scalars.reserveCapacity(count)
    for _ in 0..<count { scalars.append(Float.random(in: range, using: &generator)) }
    return try Tensor(shape: shape, scalars: scalars)
}
