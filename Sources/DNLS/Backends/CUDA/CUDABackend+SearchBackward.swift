import CUDADriver

extension CUDABackend {
    /// Both gradients as folds of per-anchor aggregated patches: the query side per grid query
    /// (chunks of the grid) or per pixel of a device anchor table of the explicit queries; the key
    /// side per pixel of a device anchor table of the neighbour indices. No host copy of the
    /// indices; scratch within ``AnchorPlan/scratchBudget``.
    func searchBackward(_ p: SearchProblem<Float>, indices: Tensor<Int32>, gradient: Tensor<Float>,
                        selfSearch: Bool) throws(DNLSError) -> (video: Tensor<Float>, keys: Tensor<Float>?) {
        let s = p.shape, Q = p.queries.count, K = p.slots, g = p.geometry, Cp = p.channels
        let entries = g.patchSize * g.patchSize
        let block = try runtime.geometryBlock(g, window: nil, shape: s)
        let indices = try indices.to(device), gradient = try gradient.to(device)
        let queryGrid = gridArgument(PatchSites(positions: p.queries))
        let (positions, positionStride) = try queryTable(p.queries)  // nil for grid queries
        let gradVideo = try zeroOutput(.video, s.dims)
        let gradKeys = selfSearch ? gradVideo : try zeroOutput(.keys, s.dims)  // self-search: both sides add into one
        let dims: [CUDAKernel.Argument] = [.int32(Int32(s.frames)), .int32(Int32(s.channels)), .int32(Int32(s.height)),
                                           .int32(Int32(s.width)), .int32(Int32(g.patchSize)), .int32(Int32(Q)),
                                           .int32(Int32(K)), .int32(p.metric == .l2 ? 1 : 0)]
        func arguments(side: Int32, slotGrid: CUDAKernel.Argument, anchors: CUDAKernel.Argument, slot0: Int,
                       queryOffset: Int) -> [CUDAKernel.Argument] {
            [.int32(side), address(p.videoTensor), address(p.keysTensor), address(indices), address(gradient),
             address(positions), .int64(Int64(positionStride)), queryGrid, slotGrid, anchors, .int64(Int64(slot0)),
             .int64(Int64(queryOffset)), address(block)] + dims
        }
        guard Q > 0 else { return selfSearch ? (gradKeys, nil) : (gradVideo, gradKeys) }
        // One side (0: queries, 1: keys) through a device anchor table of `sites` positions.
        func foldThroughTable(side: Int32, sites: Tensor<Int32>, batchStride: Int, sitesPerBatch: Int,
                              into out: Tensor<Float>) throws(DNLSError) {
            let plan = anchorPlan(sites: s.batch * sitesPerBatch, shape: s)
            let runs = tableRuns(plan, channels: Cp, geometry: g, width: s.width)
            let P: Tensor<Float> = try scratch([runs.floats])
            try eachAnchorPass(plan, positions: sites, batchStride: batchStride, sitesPerBatch: sitesPerBatch, shape: s) {
                (pass) throws(DNLSError) in
                try foldTablePass(pass, runs: runs, channels: Cp, P: P, geometry: g, shape: s, block: block, into: out) {
                    (slot0, slots, c0, cs) throws(DNLSError) in
                    try aggregateTable(arguments(side: side, slotGrid: Self.noGrid, anchors: pass.anchors, slot0: slot0, queryOffset: 0)
                                           + [.int32(Int32(c0)), .int32(Int32(cs)), .int64(Int64(slots)), .int64(1)],
                                       slots: slots, channels: cs, patchSize: g.patchSize, big: pass.big, into: P)
                }
            }
        }

        // Query side.
        if case let .grid(grid, start) = p.queries.source {
            // Under the conformance suite's checking mode, small chunks run the multi-chunk path.
            let fits = AnchorPlan.scratchBudget / 4 / max(1, s.batch * Cp * entries)
            let chunk = max(1, min(Q, Diagnostics.poisonsDeviceAllocations ? min(fits, 97) : fits))
            let P: Tensor<Float> = try scratch([s.batch * chunk * Cp * entries])
            for q0 in stride(from: 0, to: Q, by: chunk) {
                let n = min(chunk, Q - q0)
                let chunkGrid = gridArgument(PatchSites(grid: grid, batch: start + q0..<start + q0 + n))
                try aggregate(.aggregateSearch, slots: s.batch * n, channels: Cp, patchSize: g.patchSize,
                              arguments(side: 0, slotGrid: chunkGrid, anchors: Self.noAnchors, slot0: 0, queryOffset: q0)
                                  + [.int32(0), .int32(Int32(Cp)), .int64(Int64(s.batch * n)), .int64(Int64(n))], into: P)
                try fold(P, grid: chunkGrid, pixel0: 0, count: n, channels: 0..<Cp, geometry: g, shape: s, block: block,
                         rows: gridFoldRows(grid, first: start + q0, count: n, geometry: g, shape: s), into: gradVideo)
            }
        } else if let positions {
            try foldThroughTable(side: 0, sites: positions, batchStride: positionStride, sitesPerBatch: Q, into: gradVideo)
        }

        // Key side.
        try foldThroughTable(side: 1, sites: indices, batchStride: 3 * Q * K, sitesPerBatch: Q * K, into: gradKeys)
        return selfSearch ? (gradKeys, nil) : (gradVideo, gradKeys)
    }

    /// Blocks of aggregate_search_hubs: enough 512-thread blocks to fill the GPU; each strides
    /// over the hub tasks, whose number only the device knows.
    static let hubThreads = 512

    /// aggregate_search over the slots of one table run, all but the hubs, then
    /// aggregate_search_hubs over the hubs (pixels of many sites, split over thread groups).
    func aggregateTable(_ arguments: [CUDAKernel.Argument], slots: Int, channels cs: Int, patchSize ps: Int,
                        big: CUDAKernel.Argument, into P: Tensor<Float>) throws(DNLSError) {
        try aggregate(.aggregateSearch, slots: slots, channels: cs, patchSize: ps, arguments, into: P)
        try launch(.aggregateSearchHubs, blocks: 2 * runtime.context.multiprocessors, threads: Self.hubThreads,
                   arguments + [big, address(P)])
    }
}
