import CUDADriver

extension CUDABackend {
    /// Search forward: the box-filtered kernel where it applies (no flow, grid queries), else the
    /// general kernel (flow, explicit query lists), one thread per query.
    func searchForward(_ p: SearchProblem<Float>) throws(DNLSError) -> (distances: Tensor<Float>, indices: Tensor<Int32>) {
        let s = p.shape, Q = p.queries.count, slots = p.slots
        let block = try runtime.geometryBlock(p.geometry, window: p.window, shape: s)
        let distances: Tensor<Float> = try output(.distances, [s.batch, Q, slots])
        let indices: Tensor<Int32> = try output(.indices, [s.batch, Q, slots, 3])
        let whole = p.k == nil
        let constants = CUDAKernelConstants(kept: p.k ?? 1, wholeWindow: whole)
        if try searchBoxFiltered(p, constants: constants, block: block, distances: distances, indices: indices) {
            return (distances, indices)
        }
        // Grid queries are computed by the kernel (no table: it reads none when grid.on).
        let (queries, queryStride) = try queryTable(p.queries)
        try launch(.searchForward, constants: constants, count: s.batch * Q, [
            address(p.videoTensor), address(p.keysTensor), address(queries), .int64(Int64(queryStride)),
            gridArgument(PatchSites(positions: p.queries)),
            address(p.flows.forward), address(p.flows.backward), address(block),
            .int32(Int32(s.batch)), .int32(Int32(s.frames)), .int32(Int32(s.channels)), .int32(Int32(s.height)),
            .int32(Int32(s.width)), .int32(Int32(p.channels)), .int32(Int32(p.geometry.patchSize)),
            .int32(Int32(p.window.size)), .int32(Int32(p.window.frameCount(videoFrames: s.frames))), .int32(Int32(Q)),
            .int32(Int32(slots)), .int32(p.metric == .l2 ? 1 : 0), address(distances), address(indices),
        ])
        return (distances, indices)
    }

    /// The box-filtered search (`search_forward_box`) when it applies: no flow and a grid of
    /// queries (any stride). Returns false to fall back to the other kernels.
    private func searchBoxFiltered(_ p: SearchProblem<Float>, constants: CUDAKernelConstants, block: Tensor<Int32>,
                                   distances: Tensor<Float>, indices: Tensor<Int32>) throws(DNLSError) -> Bool {
        guard p.flows.isZero, case let .grid(grid, start) = p.queries.source else { return false }
        guard let plan = BoxSearchPlan(geometry: p.geometry, window: p.window, channels: p.channels,
                                       batch: p.shape.batch, grid: grid, multiprocessors: runtime.context.multiprocessors,
                                       sharedMemoryLimit: runtime.context.maxSharedMemoryPerBlock) else { return false }
        let s = p.shape, window = p.window, frameSlots = window.frameCount(videoFrames: s.frames)
        let sites = gridArgument(PatchSites(grid: grid, batch: start..<start + p.queries.count))
        let split = plan.split(frameSlots: frameSlots, kept: p.k, multiprocessors: runtime.context.multiprocessors)
        var kernelConstants = constants
        kernelConstants.box = plan.constants(for: split)
        kernelConstants.box?.l2 = p.metric == .l2
        let k = p.k ?? 0
        let partKeys: Tensor<Float>? = split.partLists > 0 ? try scratch([split.partLists * k]) : nil
        let partEns: Tensor<Int32>? = split.partLists > 0 ? try scratch([split.partLists * (k + 1)]) : nil
        try launch(.searchForwardBox, constants: kernelConstants,
                   blocks: split.blocks, threads: plan.threads, sharedBytes: plan.sharedBytes, [
            address(p.videoTensor), address(p.keysTensor), sites, address(block),
        ] + dims(s) + [
            .int32(Int32(p.channels)), .int32(Int32(frameSlots)), .int32(Int32(p.queries.count)),
            .int32(Int32(p.slots)), .int32(Int32(window.offset(0))), .int32(Int32(split.unitsPerBlock)),
            address(partKeys), address(partEns), address(distances), address(indices),
        ])
        if split.partLists > 0 {
            try launch(.searchBoxMerge, constants: kernelConstants, count: plan.blocks * plan.tile * plan.tile, [
                sites, address(block), .int32(Int32(s.batch)), .int32(Int32(s.height)), .int32(Int32(s.width)),
                .int32(Int32(frameSlots)), .int32(Int32(p.queries.count)), .int32(Int32(p.slots)),
                .int32(Int32(split.unitsPerBlock)), address(partKeys), address(partEns), address(distances), address(indices),
            ])
        }
        return true
    }
}
