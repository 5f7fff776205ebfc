/// Estimates of the noise level of a video.
public enum NoiseEstimate {
    /// The standard deviation of additive white Gaussian noise in `video` `(…, T, C, H, W)`, on the
    /// video's own scale.
    ///
    /// The method is the median absolute deviation of the finest diagonal wavelet detail (Donoho
    /// and Johnstone, 1994): in every frame and channel, each disjoint 2 × 2 block `(a b; c d)`
    /// gives the Haar detail `(a − b − c + d) / 2`, whose noise part has the noise's standard
    /// deviation while the picture's part is near zero away from edges and fine texture; the
    /// estimate is the median of the details' magnitudes over every block, divided by 0.6745 (the
    /// median of `|N(0, 1)|`). Texture that survives the detail filter makes the estimate high, not
    /// low, and the median keeps edges from dominating it.
    /// - Throws: ``DNLSError/invalidArgument(argument:expected:actual:)`` for a video without a
    ///   2 × 2 block, ``DNLSError/nonFinite(argument:position:)`` for NaN or infinite values.
    public static func sigma(of video: Tensor<Float>) throws(DNLSError) -> Float {
        let shape = video.shape
        guard shape.count >= 2, shape[shape.count - 1] >= 2, shape[shape.count - 2] >= 2 else {
            throw .invalidArgument(argument: "video", expected: "frames of at least 2 × 2 pixels", actual: "shape \(shape)")
        }
        let values = try video.hostElements()
        try requireFinite(values, shape: shape, argument: "video")
        let H = shape[shape.count - 2], W = shape[shape.count - 1], planes = values.count / (H * W)
        var details: [Float] = []
        details.reserveCapacity(planes * (H / 2) * (W / 2))
        for plane in 0..<planes {
            let base = plane * H * W
            for y in stride(from: 0, to: H - 1, by: 2) {
                for x in stride(from: 0, to: W - 1, by: 2) {
                    let a = values[base + y * W + x], b = values[base + y * W + x + 1]
                    let c = values[base + (y + 1) * W + x], d = values[base + (y + 1) * W + x + 1]
                    details.append(abs(a - b - c + d) / 2)
                }
            }
        }
        let middle = details.count / 2
        details.withUnsafeMutableBufferPointer { d in
            // The median by selection: linear time, not a full sort.
            select(d, middle)
        }
        return details[middle] / 0.6745
    }

    /// Reorders `values` so that `values[k]` is the k-th smallest (Hoare's selection, median-of-three pivots).
    private static func select(_ values: UnsafeMutableBufferPointer<Float>, _ k: Int) {
        var low = 0, high = values.count - 1
        while low < high {
            let mid = low + (high - low) / 2
            let pivot = Swift.max(Swift.min(values[low], values[mid]), Swift.min(Swift.max(values[low], values[mid]), values[high]))
            var i = low, j = high
            while i <= j {
                while values[i] < pivot { i += 1 }
                while values[j] > pivot { j -= 1 }
                if i <= j { values.swapAt(i, j); i += 1; j -= 1 }
            }
            if k <= j { high = j } else if k >= i { low = i } else { return }
        }
    }
}
