import DNLS

extension ConformanceSuite {
    /// A chain of operations (search, its backward, scatter, gather, unfold, fold) queued on a
    /// stream of DNLS's own, with eager and with deferred checking, must give bit for bit the
    /// results it gives on the legacy default stream; and a stream's synchronisation with nothing
    /// wrong must not throw.
    static func checkStreams(_ device: Device) -> [String] {
        var problems: [String] = []
        do {
            let (B, T, C, H, W) = (2, 3, 2, 33, 47)
            var rng = SplitMix64(seed: 23)
            let video = try Tensor<Float>(shape: [B, T, C, H, W], scalars: (0..<B * T * C * H * W).map { _ in
                Float(rng.next() % 1000) / 1000 })
            let g = PatchGeometry(patchSize: 5)
            let grid = try QueryGrid(region: .whole(frames: T, height: H, width: W), stride: 2)
            let search = PatchSearch(geometry: g, window: SearchWindow(size: 7, temporalRadius: 1), k: 4)
            func chain() throws(DNLSError) -> [Tensor<Float>] {
                let v = try video.to(device)
                let found = try search(v, queries: .grid(grid))
                let gradients = try search.backward(distanceGradient: found.distances, indices: found.indices, video: v,
                                                    queries: .grid(grid))
                let patches = try PatchScatter(geometry: g)(v, indices: found.indices)
                let gathered = try PatchGather(geometry: g)(patches, indices: found.indices, videoShape: video.shape)
                let unfolded = try PatchUnfold(geometry: g)(v, grid: grid)
                let folded = try PatchFold(geometry: g)(unfolded, grid: grid, videoShape: video.shape)
                return try [found.distances, gradients.video, patches, gathered.video, gathered.weightSum, folded].map {
                    (t) throws(DNLSError) in try t.to(.cpu)
                }
            }
            let expected = try chain()
            for checking in [InputChecking.eager, .deferred] {
                let stream = try GPUStream(on: device)
                let got = try withStream(stream, checking: checking) { () throws(DNLSError) in try chain() }
                try stream.synchronize()
                for (i, (a, b)) in zip(expected, got).enumerated() where a != b {
                    problems.append("result \(i) on a stream (\(checking) checking) differs from the default stream's")
                }
            }
            try device.synchronize()
        } catch {
            problems.append("threw: \(error)")
        }
        return problems
    }
}
