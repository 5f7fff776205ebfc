/// What the denoisers share: their common parameter checks and the last step of an aggregation.
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

    /// `sums / counts` pixel by pixel, `counts` `(…, T, 1, H, W)` shared by the channels of `sums`
    /// `(…, T, C, H, W)`; a pixel that nothing covered (count 0) keeps its value in `fallback`.
    static func normalised(_ sums: Tensor<Float>, by counts: Tensor<Float>, fallback: Tensor<Float>, shape: VideoShape)
        throws(DNLSError) -> Tensor<Float>
    {
        let num = try sums.hostElements(), den = try counts.hostElements(), keep = try fallback.hostElements()
        var out = [Float](repeating: 0, count: num.count)
        let plane = shape.height * shape.width
        for i in 0..<num.count {
            let d = den[(i / (plane * shape.channels)) * plane + i % plane]
            out[i] = d > 0 ? num[i] / d : keep[i]
        }
        return try Tensor(uncheckedShape: sums.shape, scalars: out).to(sums.device)
    }
}
