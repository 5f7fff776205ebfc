/// What the denoisers share: their common parameter checks.
enum Aggregation {
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
