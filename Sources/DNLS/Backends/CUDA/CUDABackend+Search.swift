import CUDADriver
internal import CDNLSKernels

extension CUDABackend {
    /// Search forward: on a grid of queries the box-filtered kernel, without flow or along flows
    /// (window stride 1), else the general kernel (explicit query lists, other window strides),
    /// one thread per query. Given flows on a grid, the device tells whether they move any window:
    /// the search without flow and the one along flows are both queued, the first doing nothing
    /// when the flows move a window and the second nothing when they do not, so flow tensors of
    /// zeros take exactly the no-flow path without a host wait.
    func searchForward(_ p: SearchProblem<Float>) throws(DNLSError) -> (distances: Tensor<Float>, indices: Tensor<Int32>) {
        let s = p.shape, Q = p.queries.count, slots = p.slots
        let block = try runtime.geometryBlock(p.geometry, window: p.window, shape: s)
        let distances: Tensor<Float> = try output(.distances, [s.batch, Q, slots])
        let indices: Tensor<Int32> = try output(.indices, [s.batch, Q, slots, 3])
        let whole = p.k == nil
        let constants = CUDAKernelConstants(kept: p.k ?? 1, wholeWindow: whole)
        var moved: Tensor<Int32>?
        if let box = boxSearch(p) {
            if !p.flows.isZero { moved = try flowsMove(p.flows, count: s.batch * s.frames * 2 * s.height * s.width) }
            try searchBoxFiltered(p, box, constants: constants, block: block, skipIfSet: moved, onlyIfSet: nil,
                                  distances: distances, indices: indices)
            guard let moved else { return (distances, indices) }
            if let reach = CUDATuning.current.flowUnionReach, let along = boxSearch(p, flowReach: reach) {
                try searchBoxFiltered(p, along, constants: constants, block: block, skipIfSet: nil, onlyIfSet: moved,
                                      distances: distances, indices: indices)
                return (distances, indices)
            }
        }
        // Grid queries are computed by the kernel (no table: it reads none when grid.on).
        let (queries, queryStride) = try queryTable(p.queries)
        try launch(.searchForward, constants: constants, count: s.batch * Q, parameters: DNLSSearchForward(
            video: pointer(p.videoTensor), keys: pointer(p.keysTensor), queries: pointer(queries),
            queryBatchStride: Int64(queryStride), grid: kernelGrid(PatchSites(positions: p.queries)),
            forwardFlow: pointer(p.flows.forward), backwardFlow: pointer(p.flows.backward), block: pointer(block),
            B: Int32(s.batch), T: Int32(s.frames), C: Int32(s.channels), H: Int32(s.height), W: Int32(s.width),
            channels: Int32(p.channels), ps: Int32(p.geometry.patchSize), ws: Int32(p.window.size),
            F: Int32(p.window.frameCount(videoFrames: s.frames)), Q: Int32(Q), slots: Int32(slots),
            l2: p.metric == .l2 ? 1 : 0, distances: pointer(distances), indices: pointer(indices),
            onlyIfSet: pointer(moved)))
        return (distances, indices)
    }

    /// A word on the device that is 1 when some value of the flows is not zero, else 0.
    private func flowsMove(_ flows: Flows<Float>, count: Int) throws(DNLSError) -> Tensor<Int32> {
        let moved: Tensor<Int32> = try scratch([1])
        try moved.fillZeros()
        try launch(.flowsMove, blocks: min(1024, (count + Self.threads - 1) / Self.threads), threads: Self.threads,
                   parameters: DNLSFlowsMove(forward: pointer(flows.forward), backward: pointer(flows.backward),
                                             count: Int64(count), moved: pointer(moved)))
        return moved
    }

    /// Frame slots up to which a search along flows is box-filtered (their extents take shared memory).
    static let flowBoxFrameSlots = 64

    /// The box-filtered search's plan for `p`'s grid (along flows, with chunks of `flowReach`
    /// offsets beyond the window, when given), or nil when the queries are no grid or no plan fits.
    private func boxSearch(_ p: SearchProblem<Float>, flowReach: Int? = nil) -> (plan: BoxSearchPlan, grid: QueryGrid, start: Int)? {
        let frameSlots = p.window.frameCount(videoFrames: p.shape.frames)
        if flowReach != nil && frameSlots > Self.flowBoxFrameSlots { return nil }
        guard case let .grid(grid, start) = p.queries.source,
              let plan = BoxSearchPlan(geometry: p.geometry, window: p.window, channels: p.channels,
                                       batch: p.shape.batch, grid: grid, multiprocessors: runtime.context.multiprocessors,
                                       sharedMemoryLimit: runtime.context.maxSharedMemoryPerBlock,
                                       flow: flowReach.map { BoxSearchPlan.FlowUnion(reach: $0, frameSlots: frameSlots) })
        else { return nil }
        return (plan, grid, start)
    }

    /// The box-filtered search (`search_forward_box`, then `search_box_merge` when blocks share
    /// tiles) on `box`'s plan, doing nothing on the device when `skipIfSet` holds a 1 or
    /// `onlyIfSet` a 0.
    private func searchBoxFiltered(_ p: SearchProblem<Float>, _ box: (plan: BoxSearchPlan, grid: QueryGrid, start: Int),
                                   constants: CUDAKernelConstants, block: Tensor<Int32>, skipIfSet: Tensor<Int32>?,
                                   onlyIfSet: Tensor<Int32>?, distances: Tensor<Float>,
                                   indices: Tensor<Int32>) throws(DNLSError) {
        let (plan, grid, start) = box
        let s = p.shape, window = p.window, frameSlots = window.frameCount(videoFrames: s.frames)
        let sites = kernelGrid(PatchSites(grid: grid, batch: start..<start + p.queries.count))
        let split = plan.split(frameSlots: frameSlots, kept: p.k, multiprocessors: runtime.context.multiprocessors)
        var kernelConstants = constants
        kernelConstants.box = plan.constants(for: split)
        kernelConstants.box?.l2 = p.metric == .l2
        let k = p.k ?? 0
        let partKeys: Tensor<Float>? = split.partLists > 0 ? try scratch([split.partLists * k]) : nil
        let partEns: Tensor<Int32>? = split.partLists > 0 ? try scratch([split.partLists * (k + 1)]) : nil
        try launch(.searchForwardBox, constants: kernelConstants,
                   blocks: split.blocks, threads: plan.threads, sharedBytes: plan.sharedBytes, parameters: DNLSSearchForwardBox(
            video: pointer(p.videoTensor), keys: pointer(p.keysTensor), grid: sites, block: pointer(block),
            B: Int32(s.batch), T: Int32(s.frames), C: Int32(s.channels), H: Int32(s.height), W: Int32(s.width),
            channels: Int32(p.channels), F: Int32(frameSlots), Q: Int32(p.queries.count), slots: Int32(p.slots),
            dmin: Int32(window.offset(0)), unitsPerBlock: Int32(split.unitsPerBlock), partKeys: pointer(partKeys),
            partEntries: pointer(partEns), distances: pointer(distances), indices: pointer(indices),
            skipIfSet: pointer(skipIfSet), forwardFlow: pointer(plan.constants.flow ? p.flows.forward : nil),
            backwardFlow: pointer(plan.constants.flow ? p.flows.backward : nil), onlyIfSet: pointer(onlyIfSet)))
        if split.partLists > 0 {
            try launch(.searchBoxMerge, constants: kernelConstants, count: plan.blocks * plan.tile * plan.tile,
                       parameters: DNLSSearchBoxMerge(
                grid: sites, block: pointer(block), B: Int32(s.batch), H: Int32(s.height), W: Int32(s.width),
                F: Int32(frameSlots), Q: Int32(p.queries.count), slots: Int32(p.slots),
                unitsPerBlock: Int32(split.unitsPerBlock), partKeys: pointer(partKeys), partEntries: pointer(partEns),
                distances: pointer(distances), indices: pointer(indices), skipIfSet: pointer(skipIfSet)))
        }
    }
}
