import CUDADriver

extension CUDABackend {
    func searchBackward(_ p: SearchProblem<Float>, indices: Tensor<Int32>, gradient: Tensor<Float>,
                        selfSearch: Bool) throws(DNLSError) -> (video: Tensor<Float>, keys: Tensor<Float>?) {
        let s = p.shape, Q = p.queries.count, K = p.slots, ps = p.geometry.patchSize
        let block = try upload(CUDAGeometryBlock.make(p.geometry, window: nil, shape: s))
        let (queries, queryStride) = try queryTable(p.queries)
        let indices = try indices.to(device), gradient = try gradient.to(device)
        // Query side: per-query patch of gradients, then deposited at the query positions.
        let queryPatches: Tensor<Float> = try empty([s.batch, Q, 1, s.channels, ps, ps])
        try launch("search_backward_queries", count: s.batch * Q * s.channels * ps * ps, [
            address(p.videoTensor), address(p.keysTensor), address(queries), .int64(Int64(queryStride)),
            address(indices), address(gradient), address(block),
        ] + dims(s) + [.int32(Int32(p.channels)), .int32(Int32(ps)), .int32(Int32(Q)), .int32(Int32(K)),
                       .int32(p.metric == .l2 ? 1 : 0), address(queryPatches)])
        var gradVideo = try zeros([s.batch, s.frames, s.channels, s.height, s.width])
        let querySites = PatchSites(positions: p.queries)
        try gatherDeposit(mode: 0, patches: queryPatches, weights: nil, sites: querySites, geometry: p.geometry,
                          into: &gradVideo, shape: s)
        // Key side: every (query, neighbour) pair adds its distance gradient at the neighbour.
        var gradKeys = selfSearch ? gradVideo : try zeros([s.batch, s.frames, s.channels, s.height, s.width])
        let neighbourSites = PatchSites(neighbours: try indices.hostElements(), queries: Q, k: K)
        try gatherDeposit(mode: 2, patches: nil, weights: gradient, sites: neighbourSites, geometry: p.geometry,
                          into: &gradKeys, shape: s, search: (p, queries, queryStride))
        return selfSearch ? (gradKeys, nil) : (gradVideo, gradKeys)
    }
}
