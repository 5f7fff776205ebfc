import DNLS

extension ConformanceSuite {
    /// Every operation and direction through its `into:` form, in memory the caller owns (outputs
    /// and a workspace of the planned size), must give bit for bit what the returning forms give,
    /// with no device memory of DNLS's own allocated meanwhile; a workspace one block short must
    /// be refused with the typed error; and the planned workspace of an 8-frame 1080p search,
    /// backward and gather must stay within 64 MiB.
    static func checkCallerMemory(_ device: Device) -> [String] {
        var problems: [String] = []
        do {
            let (B, T, C, H, W) = (2, 3, 3, 37, 45)
            var rng = SplitMix64(seed: 31)
            let host = try Tensor<Float>(shape: [B, T, C, H, W], scalars: (0..<B * T * C * H * W).map { _ in
                Float(rng.next() % 1000) / 1000 })
            let video = try host.to(device)
            let g = PatchGeometry(patchSize: 5)
            let grid = try QueryGrid(region: .whole(frames: T, height: H, width: W), stride: 2)
            let search = PatchSearch(geometry: g, window: SearchWindow(size: 7, temporalRadius: 1), k: 4)
            let (scatter, gather) = (PatchScatter(geometry: g), PatchGather(geometry: g))
            let (wpsum, unfold, fold) = (WeightedPatchSum(geometry: g), PatchUnfold(geometry: g), PatchFold(geometry: g))
            let Q = grid.count, patchShape = [B, Q, 4, C, 5, 5], unfoldShape = [B, Q, 1, C, 5, 5]
            let weights = try Tensor<Float>(shape: [B, Q, 4], scalars: (0..<B * Q * 4).map { _ in
                Float(rng.next() % 1000) / 1000 + 0.1 }).to(device)

            // The returning forms.
            let found = try search(video, queries: .grid(grid))
            let expected: [Tensor<Float>] = try {
                () throws(DNLSError) in
                let gradient = try search.backward(distanceGradient: found.distances, indices: found.indices, video: video,
                                                   queries: .grid(grid)).video
                let patches = try scatter(video, indices: found.indices)
                let scatterGradient = try scatter.backward(patchGradient: patches, indices: found.indices, videoShape: host.shape)
                let gathered = try gather(patches, weights: weights, indices: found.indices, videoShape: host.shape)
                let gatherGradients = try gather.backward(videoGradient: video, patches: patches, weights: weights,
                                                          indices: found.indices)
                let sums = try wpsum(video, weights: weights, indices: found.indices)
                let sumGradients = try wpsum.backward(outputGradient: sums, video: video, weights: weights, indices: found.indices)
                let unfolded = try unfold(video, grid: grid)
                let folded = try fold(unfolded, grid: grid, videoShape: host.shape)
                return [found.distances, gradient, patches, scatterGradient, gathered.video, gathered.weightSum,
                        gatherGradients.patches, gatherGradients.weights!, sums, sumGradients.video, sumGradients.weights,
                        unfolded, folded]
            }()
            let expectedIndices = try found.indices.to(.cpu)

            // The caller's memory: tensors made first, then viewed through their addresses only.
            let shapes = [found.distances.shape, host.shape, patchShape, host.shape, host.shape, [B, T, 1, H, W], patchShape,
                          [B, Q, 4], unfoldShape, host.shape, [B, Q, 4], unfoldShape, host.shape]
            let owners = try shapes.map { (shape) throws(DNLSError) in try Tensor<Float>(zeros: shape).to(device) }
            let indexOwner = try Tensor<Int32>(zeros: found.indices.shape).to(device)
            var out = try zip(owners, shapes).map { (owner, shape) throws(DNLSError) in
                try Tensor<Float>(unsafeDeviceAddress: owner.unsafeDeviceAddress!, shape: shape, on: device)
            }
            var indices = try Tensor<Int32>(unsafeDeviceAddress: indexOwner.unsafeDeviceAddress!, shape: found.indices.shape,
                                            on: device)
            func chain() throws(DNLSError) {
                var result = SearchResult(distances: out[0], indices: indices)
                try search(video, queries: .grid(grid), into: &result)
                (out[0], indices) = (result.distances, result.indices)
                var gradients = SearchGradients(video: out[1])
                try search.backward(distanceGradient: out[0], indices: indices, video: video, queries: .grid(grid), into: &gradients)
                out[1] = gradients.video
                try scatter(video, indices: indices, into: &out[2])
                try scatter.backward(patchGradient: out[2], indices: indices, into: &out[3])
                var (gathered, weightSum) = (out[4], out[5])
                try gather(out[2], weights: weights, indices: indices, into: &gathered, weightSum: &weightSum)
                (out[4], out[5]) = (gathered, weightSum)
                var (patchGradient, weightGradient) = (out[6], Optional(out[7]))
                try gather.backward(videoGradient: video, patches: out[2], weights: weights, indices: indices,
                                    into: &patchGradient, weightGradient: &weightGradient)
                (out[6], out[7]) = (patchGradient, weightGradient!)
                try wpsum(video, weights: weights, indices: indices, into: &out[8])
                var (sumVideo, sumWeights) = (out[9], out[10])
                try wpsum.backward(outputGradient: out[8], video: video, weights: weights, indices: indices,
                                   into: &sumVideo, weightGradient: &sumWeights)
                (out[9], out[10]) = (sumVideo, sumWeights)
                try unfold(video, grid: grid, into: &out[11])
                try fold(out[11], grid: grid, into: &out[12])
            }
            let bytes = try GPUWorkspace.bytesNeeded(on: device) { () throws(DNLSError) in try chain() }
            let workspaceOwner = try Tensor<Float>(zeros: [bytes / 4 + GPUWorkspace.alignment / 4]).to(device)
            // The region's owner stays alive while the workspace is in use: the workspace does not keep it.
            try withExtendedLifetime(workspaceOwner) { () throws(DNLSError) in
                let start = workspaceOwner.unsafeDeviceAddress!
                let aligned = (start + UInt(GPUWorkspace.alignment) - 1) / UInt(GPUWorkspace.alignment) * UInt(GPUWorkspace.alignment)
                let workspace = try GPUWorkspace(unsafeAddress: aligned, byteCount: bytes, on: device)
                let before = try device.resetPeakMemoryUsage()
                try withWorkspace(workspace) { () throws(DNLSError) in try chain() }
                let after = try device.memoryUsage()
                if let before, let after, after.peak > before.current {
                    problems.append("the into: forms in a workspace allocated \(after.peak - before.current) bytes of DNLS's own")
                }
                for (i, (a, b)) in zip(expected, out).enumerated() where try a.to(.cpu) != b.to(.cpu) {
                    problems.append("into: result \(i) differs from the returning form's")
                }
                if try indices.to(.cpu) != expectedIndices { problems.append("into: search indices differ from the returning form's") }
                for (i, (owner, given)) in zip(owners, out).enumerated() where owner.unsafeDeviceAddress != given.unsafeDeviceAddress {
                    problems.append("into: result \(i) is not in the caller's memory")
                }
                do throws(DNLSError) {
                    let short = try GPUWorkspace(unsafeAddress: aligned, byteCount: bytes - GPUWorkspace.alignment, on: device)
                    try withWorkspace(short) { () throws(DNLSError) in try chain() }
                    problems.append("a workspace one block short of the plan was accepted")
                } catch .workspaceTooSmall {
                } catch {
                    problems.append("a workspace one block short threw \(error), not workspaceTooSmall")
                }
            }
            let hdBytes = try plannedHD8Workspace(on: device)
            if hdBytes > 64 << 20 { problems.append("the planned workspace at 8 × 1080p is \(hdBytes) bytes, over 64 MiB") }
            try device.synchronize()
        } catch {
            problems.append("threw: \(error)")
        }
        return problems
    }

    /// The workspace of a search (forward and backward), a weighted patch sum and a fold-unfold
    /// pair on 8 frames of 1920×1080, C3, planned on placeholders: none of it is run or read.
    package static func plannedHD8Workspace(on device: Device) throws(DNLSError) -> Int {
        let hd = [1, 8, 3, 1080, 1920], g = PatchGeometry(patchSize: 7)
        let video = try Tensor<Float>(unsafeDeviceAddress: 256, shape: hd, on: device)
        let search = PatchSearch(geometry: g, window: SearchWindow(size: 21, temporalRadius: 2), k: 10)
        let grid = try QueryGrid(region: .whole(frames: 8, height: 1080, width: 1920), stride: 4)
        return try GPUWorkspace.bytesNeeded(on: device) { () throws(DNLSError) in
            let found = try search(video, queries: .grid(grid))
            _ = try search.backward(distanceGradient: found.distances, indices: found.indices, video: video, queries: .grid(grid))
            let weights = try Tensor<Float>(unsafeDeviceAddress: 256, shape: found.distances.shape, on: device)
            let sums = try WeightedPatchSum(geometry: g)(video, weights: weights, indices: found.indices)
            _ = try WeightedPatchSum(geometry: g).backward(outputGradient: sums, video: video, weights: weights,
                                                           indices: found.indices)
            let folded = try PatchFold(geometry: g)(sums, grid: grid, videoShape: hd)
            _ = try PatchUnfold(geometry: g)(folded, grid: grid)
        }
    }
}
