import CUDADriver
internal import CDNLSKernels

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
        let queryGrid = kernelGrid(PatchSites(positions: p.queries))
        let (positions, positionStride) = try queryTable(p.queries)  // nil for grid queries
        let gradVideo = try zeroOutput(.video, s.dims)
        let gradKeys = selfSearch ? gradVideo : try zeroOutput(.keys, s.dims)  // self-search: both sides add into one
        // The parameters of one aggregation: `slots` slots of channels c0 ..< c0 + cs into P.
        func parameters(side: Int32, slotGrid: DNLSGrid, anchors: DNLSAnchors, slot0: Int, queryOffset: Int,
                        channels: Range<Int>, slots: Int, count: Int, big: UInt64 = 0, P: Tensor<Float>) -> DNLSAggregateSearch {
            DNLSAggregateSearch(
                side: side, video: pointer(p.videoTensor), keys: pointer(p.keysTensor), indices: pointer(indices),
                gradient: pointer(gradient), queries: pointer(positions), queryBatchStride: Int64(positionStride),
                queryGrid: queryGrid, slotGrid: slotGrid, anchors: anchors, slot0: Int64(slot0), queryOffset: Int64(queryOffset),
                block: pointer(block), T: Int32(s.frames), C: Int32(s.channels), H: Int32(s.height), W: Int32(s.width),
                ps: Int32(g.patchSize), Q: Int32(Q), K: Int32(K), l2: p.metric == .l2 ? 1 : 0, c0: Int32(channels.lowerBound),
                cs: Int32(channels.count), slots: Int64(slots), count: Int64(count), slotsPerBlock: Int32(Self.slotsPerBlock),
                big: big, P: pointer(P))
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
                    try aggregateTable(parameters(side: side, slotGrid: Self.noGrid, anchors: pass.anchors, slot0: slot0,
                                                  queryOffset: 0, channels: c0..<c0 + cs, slots: slots, count: 1, big: pass.big, P: P),
                                       slots: slots, channels: cs, patchSize: g.patchSize)
                }
            }
        }

        // Query side.
        if case let .grid(grid, start) = p.queries.source {
            // Under the conformance suite's stress tuning, small chunks run the multi-chunk path.
            let fits = AnchorPlan.scratchBudget / 4 / max(1, s.batch * Cp * entries)
            let chunk = max(1, min(Q, fits, CUDATuning.current.searchBackwardChunk ?? fits))
            let P: Tensor<Float> = try scratch([s.batch * chunk * Cp * entries])
            for q0 in stride(from: 0, to: Q, by: chunk) {
                let n = min(chunk, Q - q0)
                let chunkGrid = kernelGrid(PatchSites(grid: grid, batch: start + q0..<start + q0 + n))
                try aggregate(.aggregateSearch, slots: s.batch * n, channels: Cp, patchSize: g.patchSize,
                              parameters: parameters(side: 0, slotGrid: chunkGrid, anchors: Self.noAnchors, slot0: 0, queryOffset: q0,
                                                     channels: 0..<Cp, slots: s.batch * n, count: n, P: P))
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
    func aggregateTable(_ parameters: DNLSAggregateSearch, slots: Int, channels cs: Int, patchSize ps: Int) throws(DNLSError) {
        try aggregate(.aggregateSearch, slots: slots, channels: cs, patchSize: ps, parameters: parameters)
        try launch(.aggregateSearchHubs, blocks: 2 * runtime.context.multiprocessors, threads: Self.hubThreads,
                   parameters: parameters)
    }
}
