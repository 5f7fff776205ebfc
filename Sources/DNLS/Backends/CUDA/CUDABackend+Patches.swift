import CUDADriver

extension CUDABackend {
        func extractPatches(_ video: Tensor<Float>, shape s: VideoShape, sites: PatchSites, geometry g: PatchGeometry) throws(DNLSError) -> Tensor<Float> {
        let ps = g.patchSize
        let block = try upload(CUDAGeometryBlock.make(g, window: nil, shape: s))
        let (table, stride) = try siteTable(sites)
        let out: Tensor<Float> = try empty([s.batch, sites.queries, sites.k, s.channels, ps, ps])
        let S = sites.queries * sites.k
        try launch("extract_patches", count: out.count, [
            address(video), .pointer(0), address(table), .int64(Int64(stride)), gridArgument(sites), address(block),
        ] + dims(s) + [.int32(Int32(ps)), .int64(Int64(S)), address(out)])
        return out
    }

    func depositPatches(_ patches: Tensor<Float>, weights: Tensor<Float>?, sites: PatchSites, geometry g: PatchGeometry,
                 into video: inout Tensor<Float>, shape s: VideoShape, weightSum: inout Tensor<Float>?) throws(DNLSError) {
        try gatherDeposit(mode: 0, patches: patches, weights: weights, sites: sites, geometry: g, into: &video, shape: s)
        if var sum = weightSum {
            weightSum = nil
            let single = VideoShape(batch: s.batch, frames: s.frames, channels: 1, height: s.height, width: s.width, batched: true)
            try gatherDeposit(mode: 1, patches: nil, weights: weights, sites: sites, geometry: g, into: &sum, shape: single)
            weightSum = sum
        }
    }

    func weightedPatchSum(_ video: Tensor<Float>, shape s: VideoShape, weights: Tensor<Float>, sites: PatchSites,
                     geometry g: PatchGeometry) throws(DNLSError) -> Tensor<Float> {
        let ps = g.patchSize
        let block = try upload(CUDAGeometryBlock.make(g, window: nil, shape: s))
        let (table, stride) = try siteTable(sites)
        let weights = try weights.to(device)
        let out: Tensor<Float> = try empty([s.batch, sites.queries, 1, s.channels, ps, ps])
        try launch("weighted_sum", count: out.count, [
            address(video), address(weights), address(table), .int64(Int64(stride)), address(block),
        ] + dims(s) + [.int32(Int32(ps)), .int32(Int32(sites.queries)), .int32(Int32(sites.k)), address(out)])
        return out
    }

    func weightedPatchSumBackward(_ video: Tensor<Float>, shape s: VideoShape, weights: Tensor<Float>, sites: PatchSites,
                             geometry g: PatchGeometry, gradient: Tensor<Float>) throws(DNLSError) -> (video: Tensor<Float>, weights: Tensor<Float>) {
        let ps = g.patchSize
        let weights = try weights.to(device), gradient = try gradient.to(device)
        var gradVideo = try zeros([s.batch, s.frames, s.channels, s.height, s.width])
        try gatherDeposit(mode: 3, patches: gradient, weights: weights, sites: sites, geometry: g, into: &gradVideo, shape: s)
        let block = try upload(CUDAGeometryBlock.make(g, window: nil, shape: s))
        let (table, stride) = try siteTable(sites)
        let gradWeights: Tensor<Float> = try empty([s.batch, sites.queries, sites.k])
        try launch("weighted_sum_weight_gradient", count: gradWeights.count, [
            address(video), address(gradient), address(table), .int64(Int64(stride)), address(block),
        ] + dims(s) + [.int32(Int32(ps)), .int32(Int32(sites.queries)), .int32(Int32(sites.k)), address(gradWeights)])
        return (gradVideo, gradWeights)
    }

    func gatherBackward(videoGradient: Tensor<Float>, weightSumGradient: Tensor<Float>?, patches: Tensor<Float>,
                        weights: Tensor<Float>?, sites: PatchSites, geometry g: PatchGeometry, shape s: VideoShape)
        throws(DNLSError) -> (patches: Tensor<Float>, weights: Tensor<Float>?) {
        let ps = g.patchSize, S = sites.queries * sites.k
        let block = try upload(CUDAGeometryBlock.make(g, window: nil, shape: s))
        let (table, stride) = try siteTable(sites)
        let weights = try weights?.to(device), gradient = try videoGradient.to(device)
        let gradPatches: Tensor<Float> = try empty([s.batch, sites.queries, sites.k, s.channels, ps, ps])
        try launch("extract_patches", count: gradPatches.count, [
            address(gradient), address(weights), address(table), .int64(Int64(stride)), gridArgument(sites), address(block),
        ] + dims(s) + [.int32(Int32(ps)), .int64(Int64(S)), address(gradPatches)])
        guard weights != nil else { return (gradPatches, nil) }
        let gradWeights: Tensor<Float> = try empty([s.batch, sites.queries, sites.k])
        let sumGradient = try weightSumGradient?.to(device), patches = try patches.to(device)
        try launch("gather_weight_gradient", count: gradWeights.count, [
            address(patches), address(gradient), address(sumGradient), address(table), .int64(Int64(stride)), address(block),
        ] + dims(s) + [.int32(Int32(ps)), .int64(Int64(S)), address(gradWeights)])
        return (gradPatches, gradWeights)
    }

    /// Adds the contributions of every site into `video` (the deposit_gather kernel, see its comment):
    /// mode 0 patches × weights, 1 weights alone, 2 search key-side gradient, 3 weighted output gradient.
    func gatherDeposit(mode: Int32, patches: Tensor<Float>?, weights: Tensor<Float>?, sites: PatchSites,
                               geometry g: PatchGeometry, into video: inout Tensor<Float>, shape s: VideoShape,
                               search: (SearchProblem<Float>, Tensor<Int32>, Int)? = nil) throws(DNLSError) {
        try video.makeDeviceStorageUnique()
        // Grid sites need no anchor table: the kernel inverts the grid.
        let (starts, members) = sites.isShared ? ([0, 0], [0]) : try AnchorTable.make(sites, shape: s)
        let startsOnDevice = try upload(starts), membersOnDevice = try upload(members.isEmpty ? [0] : members)
        let block = try upload(CUDAGeometryBlock.make(g, window: nil, shape: s))
        let patches = try patches?.to(device), weights = try weights?.to(device)
        let (problem, queries, queryStride) = (search?.0, search?.1, search?.2 ?? 0)
        try launch("deposit_gather", count: s.count, [
            .int32(mode), address(patches), address(weights), address(problem?.videoTensor), address(problem?.keysTensor),
            address(queries), .int64(Int64(queryStride)), .int32(Int32(sites.k)), .int32(Int32(problem?.channels ?? 0)),
            .int32(problem?.metric == .innerProduct ? 0 : 1), address(block), address(startsOnDevice), address(membersOnDevice),
            gridArgument(sites),
        ] + dims(s) + [.int32(Int32(g.patchSize)), .int64(Int64(sites.queries * sites.k)), address(video)])
    }
}
