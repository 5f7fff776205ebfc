import CUDADriver
internal import CDNLSKernels

extension CUDABackend {
    /// Queries of one grid row that an iunfold block stages and writes, at most.
    static let unfoldRun = 32

    /// The run of queries an iunfold block takes, with its stage's sample columns (`span`) and
    /// bytes: `unfoldRun`, or the longest run whose stage (every channel, `ps` rows, `span`
    /// columns) fits in the 48 KiB a block gets without opting in. At C = 64, ps 7, a full run
    /// would need 68 KiB; runs of 21 keep the staged kernel, 2.8× faster there than the grid
    /// kernel (BENCHMARKS.md). Nil when not even a run of 4 fits; the grid kernel then runs.
    static func unfoldRun(channels: Int, geometry g: PatchGeometry, gridStride: Int) -> (run: Int, span: Int, stageBytes: Int)? {
        let reach = (g.patchSize - 1) * g.dilation + 1, rowBytes = 4 * channels * g.patchSize
        for run in stride(from: unfoldRun, through: 4, by: -1) {
            let span = (run - 1) * gridStride + reach
            if rowBytes * span <= 48 * 1024 { return (run, span, rowBytes * span) }
        }
        return nil
    }

    func extractPatches(_ video: Tensor<Float>, shape s: VideoShape, sites: PatchSites, geometry g: PatchGeometry) throws(DNLSError) -> Tensor<Float> {
        let out: Tensor<Float> = try output(.patches, [s.batch, sites.queries, sites.k, s.channels, g.patchSize, g.patchSize])
        try extract(video, weights: nil, shape: s, sites: sites, geometry: g, into: out)
        return out
    }

    /// The extract_patches kernel: `weights[f] ·` (or 1 ·) the entries of every site into `out`.
    func extract(_ video: Tensor<Float>, weights: Tensor<Float>?, shape s: VideoShape, sites: PatchSites,
                 geometry g: PatchGeometry, into out: Tensor<Float>) throws(DNLSError) {
        let ps = g.patchSize, S = sites.queries * sites.k, per = s.channels * ps * ps
        guard s.batch * S > 0, per > 0 else { return }
        let block = try runtime.geometryBlock(g, window: nil, shape: s)
        if case let .grid(grid, start) = sites.source, weights == nil {
            // iunfold by runs of queries of a grid row, staged in shared memory, when a run of at
            // least 4 queries fits in 48 KiB.
            if let (run, span, stageBytes) = Self.unfoldRun(channels: s.channels, geometry: g, gridStride: grid.stride) {
                let firstRow = start / grid.columns, rowCount = (start + S - 1) / grid.columns - firstRow + 1
                let runs = (grid.columns + run - 1) / run
                try launch(.unfoldRuns, constants: CUDAKernelConstants(unfoldPatchSize: ps, unfoldRun: run), blocks: s.batch * rowCount * runs,
                           threads: Self.entryThreads(entries: per),
                           sharedBytes: stageBytes, parameters: DNLSUnfoldRuns(
                    video: pointer(video), grid: kernelGrid(sites), block: pointer(block), B: Int32(s.batch), T: Int32(s.frames),
                    C: Int32(s.channels), H: Int32(s.height), W: Int32(s.width), S: Int64(S), R0: Int64(firstRow),
                    rowCount: Int64(rowCount), span: Int32(span), out: pointer(out)))
                return
            }
            // Else the grid kernel, four outputs per thread, in 32-bit index arithmetic when
            // every output index and grid query number fits.
            let outputs = s.batch * S * per
            let narrow = outputs + 4 <= Int(Int32.max) && start + grid.count <= Int(Int32.max)
            try launch(narrow ? .unfoldGrid32 : .unfoldGrid, constants: CUDAKernelConstants(unfoldPatchSize: ps),
                       count: (outputs + 3) / 4, parameters: DNLSUnfoldGrid(
                video: pointer(video), grid: kernelGrid(sites), block: pointer(block), B: Int32(s.batch), T: Int32(s.frames),
                C: Int32(s.channels), H: Int32(s.height), W: Int32(s.width), S: Int64(S), out: pointer(out)))
            return
        }
        let (table, stride) = try siteTable(sites)
        // One block: `sitesPerBlock` sites × up to 256 entries (a warp multiple covering a small patch).
        let sitesPerBlock = 16
        let (blocks, threads) = entryLaunch(entries: per, sites: s.batch * S, sitesPerBlock: sitesPerBlock)
        try launch(.extractPatches, blocks: blocks, threads: threads, parameters: DNLSExtractPatches(
            video: pointer(video), weights: pointer(weights), sites: pointer(table), siteBatchStride: Int64(stride),
            grid: kernelGrid(sites), block: pointer(block), B: Int32(s.batch), T: Int32(s.frames), C: Int32(s.channels),
            H: Int32(s.height), W: Int32(s.width), ps: Int32(ps), S: Int64(S), sitesPerBlock: Int32(sitesPerBlock),
            out: pointer(out)))
    }

    func depositPatches(_ patches: Tensor<Float>, weights: Tensor<Float>?, sites: PatchSites, geometry g: PatchGeometry,
                 into video: inout Tensor<Float>, shape s: VideoShape, weightSum: inout Tensor<Float>?) throws(DNLSError) {
        guard var sum = weightSum else {
            try gatherDeposit(mode: 0, patches: patches, weights: weights, sites: sites, geometry: g, into: &video, shape: s)
            return
        }
        weightSum = nil
        let single = VideoShape(batch: s.batch, frames: s.frames, channels: 1, height: s.height, width: s.width, batched: true)
        if depositsDirectly(sites, geometry: g, elements: s.count + single.count) {
            try video.makeDeviceStorageUnique()
            try sum.makeDeviceStorageUnique()
            try directDeposit(mode: 0, patches: patches, weights: weights, sites: sites, geometry: g, into: video, shape: s,
                              weightSum: sum)
        } else if Self.foldsDirectly(sites, mode: 0, weights: weights) {
            try gatherDeposit(mode: 0, patches: patches, weights: weights, sites: sites, geometry: g, into: &video, shape: s)
            try gatherDeposit(mode: 1, patches: nil, weights: weights, sites: sites, geometry: g, into: &sum, shape: single)
        } else {
            // The video and its weight sum from one anchor table (same sites): half the table builds.
            try video.makeDeviceStorageUnique()
            try sum.makeDeviceStorageUnique()
            try tableDeposit([DepositTarget(mode: 0, patches: patches, out: video, shape: s),
                              DepositTarget(mode: 1, patches: nil, out: sum, shape: single)],
                             weights: weights, sites: sites, geometry: g)
        }
        weightSum = sum
    }

    /// A small gather writes its outputs in one direct deposit (no zero fills first); any other
    /// adds into zero outputs.
    func gatherPatches(_ patches: Tensor<Float>, weights: Tensor<Float>?, sites: PatchSites, geometry g: PatchGeometry,
                       shape s: VideoShape) throws(DNLSError) -> (video: Tensor<Float>, weightSum: Tensor<Float>) {
        let single = VideoShape(batch: s.batch, frames: s.frames, channels: 1, height: s.height, width: s.width, batched: true)
        guard sites.queries * sites.k > 0, depositsDirectly(sites, geometry: g, elements: s.count + single.count) else {
            var video = try zeroOutput(.video, s.videoShape(channels: s.channels))
            var sum: Tensor<Float>? = try zeroOutput(.weightSum, s.videoShape(channels: 1))
            try depositPatches(patches, weights: weights, sites: sites, geometry: g, into: &video, shape: s, weightSum: &sum)
            return (video, sum!)
        }
        let video: Tensor<Float> = try output(.video, s.videoShape(channels: s.channels))
        let sum: Tensor<Float> = try output(.weightSum, s.videoShape(channels: 1))
        try directDeposit(mode: 0, patches: patches, weights: weights, sites: sites, geometry: g, into: video, shape: s,
                          weightSum: sum, overwriting: true)
        return (video, sum)
    }

    func weightedPatchSum(_ video: Tensor<Float>, shape s: VideoShape, weights: Tensor<Float>, sites: PatchSites,
                     geometry g: PatchGeometry) throws(DNLSError) -> Tensor<Float> {
        let ps = g.patchSize
        let block = try runtime.geometryBlock(g, window: nil, shape: s)
        let (table, stride) = try siteTable(sites)
        let weights = try weights.to(device)
        let out: Tensor<Float> = try output(.patches, [s.batch, sites.queries, 1, s.channels, ps, ps])
        try launch(.weightedSum, count: out.count, parameters: DNLSWeightedSum(
            video: pointer(video), weights: pointer(weights), sites: pointer(table), siteBatchStride: Int64(stride),
            block: pointer(block), B: Int32(s.batch), T: Int32(s.frames), C: Int32(s.channels), H: Int32(s.height),
            W: Int32(s.width), ps: Int32(ps), Q: Int32(sites.queries), K: Int32(sites.k), out: pointer(out)))
        return out
    }

    func weightedPatchSumBackward(_ video: Tensor<Float>, shape s: VideoShape, weights: Tensor<Float>, sites: PatchSites,
                             geometry g: PatchGeometry, gradient: Tensor<Float>) throws(DNLSError) -> (video: Tensor<Float>, weights: Tensor<Float>) {
        let ps = g.patchSize
        let weights = try weights.to(device), gradient = try gradient.to(device)
        var gradVideo = try zeroOutput(.video, [s.batch, s.frames, s.channels, s.height, s.width])
        try gatherDeposit(mode: 3, patches: gradient, weights: weights, sites: sites, geometry: g, into: &gradVideo, shape: s)
        let block = try runtime.geometryBlock(g, window: nil, shape: s)
        let (table, stride) = try siteTable(sites)
        let gradWeights: Tensor<Float> = try output(.weights, [s.batch, sites.queries, sites.k])
        try launch(.weightedSumWeightGradient, count: gradWeights.count, parameters: DNLSWeightedSumWeightGradient(
            video: pointer(video), gradient: pointer(gradient), sites: pointer(table), siteBatchStride: Int64(stride),
            block: pointer(block), B: Int32(s.batch), T: Int32(s.frames), C: Int32(s.channels), H: Int32(s.height),
            W: Int32(s.width), ps: Int32(ps), Q: Int32(sites.queries), K: Int32(sites.k), out: pointer(gradWeights)))
        return (gradVideo, gradWeights)
    }

    func gatherBackward(videoGradient: Tensor<Float>, weightSumGradient: Tensor<Float>?, patches: Tensor<Float>,
                        weights: Tensor<Float>?, sites: PatchSites, geometry g: PatchGeometry, shape s: VideoShape)
        throws(DNLSError) -> (patches: Tensor<Float>, weights: Tensor<Float>?) {
        let ps = g.patchSize, S = sites.queries * sites.k
        let weights = try weights?.to(device), gradient = try videoGradient.to(device)
        let gradPatches: Tensor<Float> = try output(.patches, [s.batch, sites.queries, sites.k, s.channels, ps, ps])
        try extract(gradient, weights: weights, shape: s, sites: sites, geometry: g, into: gradPatches)
        guard weights != nil else { return (gradPatches, nil) }
        let block = try runtime.geometryBlock(g, window: nil, shape: s)
        let (table, stride) = try siteTable(sites)
        let gradWeights: Tensor<Float> = try output(.weights, [s.batch, sites.queries, sites.k])
        let sumGradient = try weightSumGradient?.to(device), patches = try patches.to(device)
        try launch(.gatherWeightGradient, count: gradWeights.count, parameters: DNLSGatherWeightGradient(
            patches: pointer(patches), gradient: pointer(gradient), sumGradient: pointer(sumGradient), sites: pointer(table),
            siteBatchStride: Int64(stride), block: pointer(block), B: Int32(s.batch), T: Int32(s.frames),
            C: Int32(s.channels), H: Int32(s.height), W: Int32(s.width), ps: Int32(ps), S: Int64(S), out: pointer(gradWeights)))
        return (gradPatches, gradWeights)
    }

    /// Adds the contributions of every site into `video`: mode 0 patches × weights, 1 weights alone,
    /// 3 weighted output gradient. Unweighted patches at grid sites (fold) are folded directly;
    /// otherwise through an anchor table (``tableDeposit(_:weights:sites:geometry:)``).
    func gatherDeposit(mode: Int32, patches: Tensor<Float>?, weights: Tensor<Float>?, sites: PatchSites,
                       geometry g: PatchGeometry, into video: inout Tensor<Float>, shape s: VideoShape) throws(DNLSError) {
        try video.makeDeviceStorageUnique()
        let S = sites.queries * sites.k
        guard S > 0 else { return }
        if Self.foldsDirectly(sites, mode: mode, weights: weights), case let .grid(grid, start) = sites.source, let patches {
            let block = try runtime.geometryBlock(g, window: nil, shape: s)
            try fold(try patches.to(device), grid: kernelGrid(sites), pixel0: 0, count: S, channels: 0..<s.channels,
                     geometry: g, shape: s, block: block, rows: gridFoldRows(grid, first: start, count: S, geometry: g, shape: s),
                     into: video)
            return
        }
        if depositsDirectly(sites, geometry: g, elements: s.count) {
            try directDeposit(mode: mode, patches: patches, weights: weights, sites: sites, geometry: g, into: video, shape: s,
                              weightSum: nil)
            return
        }
        try tableDeposit([DepositTarget(mode: mode, patches: patches, out: video, shape: s)], weights: weights, sites: sites,
                         geometry: g)
    }

    /// Whether a deposit of `sites` into `elements` output elements is small enough to add
    /// directly (``CUDATuning/depositsDirectly(entriesPerElement:elements:)``).
    func depositsDirectly(_ sites: PatchSites, geometry g: PatchGeometry, elements: Int) -> Bool {
        let (entries, overflow) = (sites.queries * sites.k).multipliedReportingOverflow(by: g.patchSize * g.patchSize)
        return !overflow && CUDATuning.current.depositsDirectly(entriesPerElement: entries, elements: elements)
    }

    /// The deposit_direct kernel: adds what `mode` adds (as in
    /// ``gatherDeposit(mode:patches:weights:sites:geometry:into:shape:)``) into `video` and, when
    /// given, the weights into `weightSum` `(B, T, 1, H, W)`, in one launch and without an anchor
    /// table. Both tensors' storage must be unique already. `overwriting` stores the sums
    /// instead of adding them (the outputs' contents are then never read).
    func directDeposit(mode: Int32, patches: Tensor<Float>?, weights: Tensor<Float>?, sites: PatchSites, geometry g: PatchGeometry,
                       into video: Tensor<Float>, shape s: VideoShape, weightSum: Tensor<Float>?,
                       overwriting: Bool = false) throws(DNLSError) {
        let S = sites.queries * sites.k
        guard S > 0 else { return }
        let block = try runtime.geometryBlock(g, window: nil, shape: s)
        let patches = try patches?.to(device), weights = try weights?.to(device)
        let (table, stride) = try siteTable(sites)
        if case .grid = sites.source {} else if table == nil { return }  // no sites: nothing to add
        let sumCount = weightSum == nil ? 0 : s.batch * s.frames * s.height * s.width
        try launch(.depositDirect, count: s.count + sumCount, parameters: DNLSDepositDirect(
            mode: mode, patches: pointer(patches), weights: pointer(weights), sites: pointer(table), siteBatchStride: Int64(stride),
            grid: kernelGrid(sites), block: pointer(block), B: Int32(s.batch), T: Int32(s.frames), C: Int32(s.channels),
            H: Int32(s.height), W: Int32(s.width), ps: Int32(g.patchSize), K: Int32(sites.k), S: Int64(S),
            overwrite: overwriting ? 1 : 0, out: pointer(video), weightSum: pointer(weightSum)))
    }

    /// Whether a deposit is a plain fold: unweighted patches (mode 0) at grid sites.
    static func foldsDirectly(_ sites: PatchSites, mode: Int32, weights: Tensor<Float>?) -> Bool {
        if case .grid = sites.source, mode == 0, weights == nil { return true }
        return false
    }

    /// One video an anchor-table deposit adds into (its storage already unique): `mode` as in
    /// ``gatherDeposit(mode:patches:weights:sites:geometry:into:shape:)``, in the video's `shape`.
    struct DepositTarget {
        let mode: Int32, patches: Tensor<Float>?, out: Tensor<Float>, shape: VideoShape
    }

    /// Adds the contributions of every site into each target: each anchor pixel's patch is
    /// aggregated over a device anchor table (aggregate_deposit), pass by pass and run by run
    /// within the scratch budget, then folded. The targets share the sites, so one table per pass
    /// serves them all, one after the other (the same kernels in the same order as one target at a time).
    func tableDeposit(_ targets: [DepositTarget], weights: Tensor<Float>?, sites: PatchSites,
                      geometry g: PatchGeometry) throws(DNLSError) {
        guard let s = targets.first?.shape else { return }
        let S = sites.queries * sites.k
        guard S > 0 else { return }
        let block = try runtime.geometryBlock(g, window: nil, shape: s)
        let weights = try weights?.to(device)
        var patches = [Tensor<Float>?]()
        for target in targets { patches.append(try target.patches?.to(device)) }
        let positions: Tensor<Int32>?, stride: Int
        if case let .grid(grid, start) = sites.source {
            positions = try upload(gridPositions(grid, start: start, count: S)); stride = 0
        } else {
            (positions, stride) = try siteTable(sites)
        }
        guard let table = positions else { return }  // no sites: nothing to add
        let plan = anchorPlan(sites: s.batch * S, shape: s)
        let runs = targets.map { tableRuns(plan, channels: $0.shape.channels, geometry: g, width: s.width) }
        let P: Tensor<Float> = try scratch([runs.map(\.floats).max() ?? 0])
        try eachAnchorPass(plan, positions: table, batchStride: stride, sitesPerBatch: S, shape: s) { (pass) throws(DNLSError) in
            for (i, target) in targets.enumerated() {
                let t = target.shape
                try foldTablePass(pass, runs: runs[i], channels: t.channels, P: P, geometry: g, shape: t, block: block,
                                  into: target.out) { (slot0, slots, c0, cs) throws(DNLSError) in
                    try aggregate(.aggregateDeposit, slots: slots, channels: cs, patchSize: g.patchSize, parameters: DNLSAggregateDeposit(
                        mode: target.mode, patches: pointer(patches[i]), weights: pointer(weights), K: Int32(sites.k),
                        anchors: pass.anchors, slot0: Int64(slot0), T: Int32(t.frames), C: Int32(t.channels), H: Int32(t.height),
                        W: Int32(t.width), ps: Int32(g.patchSize), S: Int64(S), c0: Int32(c0), cs: Int32(cs), slots: Int64(slots),
                        slotsPerBlock: Int32(Self.slotsPerBlock), P: pointer(P)))
                }
            }
        }
    }
}
