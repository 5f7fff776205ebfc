/// What the denoisers share: their common parameter checks and their batches.
enum Aggregation {
    /// The queries of a batch of `grid` for a requested `size`: whole groups of 16 grid rows when
    /// `size` holds one, so that batches start and end on the GPU search's tiles of query rows
    /// (a batch that cuts a tile pays for the whole tile); else `size`, at most the grid.
    static func batchSize(_ size: Int, grid: QueryGrid) -> Int {
        let rows = 16 * max(1, grid.columns)
        if size >= rows { return size / rows * rows }
        return min(size, max(1, grid.count))
    }

    /// Checks a noise level and a batch size.
    static func validate(sigma: Float, batchSize: Int) throws(DNLSError) {
        guard sigma > 0, sigma.isFinite else {
            throw .invalidArgument(argument: "sigma", expected: "a positive noise level", actual: "\(sigma)")
        }
        guard batchSize >= 1 else {
            throw .invalidArgument(argument: "batchSize", expected: "at least 1", actual: "\(batchSize)")
        }
    }
}
