import CUDADriver

extension CUDABackend {
    /// The first bad triple of a GPU index tensor `(…, 3)`, found on the device: its flat entry
    /// (row-major, over every batch item) and its `(t, h, w)`, or `nil` when every triple lies in
    /// the video (or is the marker `(−1, −1, −1)` when `allowMissing`). Downloads 24 bytes.
    func firstInvalidTriple(_ triples: Tensor<Int32>, video s: VideoShape, allowMissing: Bool)
        throws(DNLSError) -> (entry: Int, t: Int32, h: Int32, w: Int32)?
    {
        let entries = triples.count / 3
        guard entries > 0 else { return nil }
        // Report: the entry as one 64-bit word (two Int32, preset to all ones), then the triple.
        let report = try upload([-1, -1, 0, 0, 0, 0])
        try launch("first_invalid_triple", blocks: checkBlocks(entries), threads: Self.checkThreads, [
            address(triples), .int64(Int64(entries)), .int32(Int32(s.frames)), .int32(Int32(s.height)),
            .int32(Int32(s.width)), .int32(allowMissing ? 1 : 0), address(report),
        ])
        try launch("copy_first_triple", blocks: 1, threads: 1, [address(triples), address(report)])
        let words = try report.hostElements()
        guard let entry = Self.firstFailure(words) else { return nil }
        return (entry, words[2], words[3], words[4])
    }

    /// The flat index of the first NaN or infinite value of a GPU tensor, found on the device,
    /// or `nil` when every value is finite. Downloads 8 bytes.
    func firstNonFinite(_ values: Tensor<Float>) throws(DNLSError) -> Int? {
        let count = values.count
        guard count > 0 else { return nil }
        let report = try upload([-1, -1])
        try launch("first_nonfinite", blocks: checkBlocks(count), threads: Self.checkThreads, [
            address(values), .int64(Int64(count)), address(report),
        ])
        return Self.firstFailure(try report.hostElements())
    }

    static let checkThreads = 256

    /// Enough blocks to fill the GPU a few times over; each thread then strides through the rest.
    func checkBlocks(_ items: Int) -> Int {
        max(1, min((items + Self.checkThreads - 1) / Self.checkThreads, 8 * runtime.context.multiprocessors))
    }

    /// Decodes a report word (the first two `Int32` of `words`, little-endian halves of an unsigned
    /// 64-bit entry): `nil` while it still holds the preset all-ones "none".
    static func firstFailure(_ words: [Int32]) -> Int? {
        let word = UInt64(UInt32(bitPattern: words[1])) << 32 | UInt64(UInt32(bitPattern: words[0]))
        return word == .max ? nil : Int(word)
    }
}
