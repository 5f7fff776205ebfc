import CUDADriver
internal import CDNLSKernels

extension CUDABackend {
    /// Channels one fold thread sums (CGROUP in the kernels).
    static let channelGroup = 4
    /// Grid strides up to which a fold over a query grid has its stride at compile time.
    static let compiledFoldStrides = 8
    /// Slots one aggregation block walks.
    static let slotsPerBlock = 16
    /// No grid (`on = 0`): positions come from a table instead.
    static let noGrid = DNLSGrid()

    /// Destination rows of a fold: rows `first ..< first + count` of each of `batches` blocks of
    /// `perBatch` flat rows `(b, t, y)`.
    struct FoldRows {
        let first: Int, count: Int, batches: Int, perBatch: Int
    }

    /// fold_slots: adds `P` `(slots, cs, ps, ps)` into channels `channels` of `out` (see the kernel).
    func fold(_ P: Tensor<Float>, grid: DNLSGrid, pixel0: Int, count: Int, channels: Range<Int>,
              geometry g: PatchGeometry, shape s: VideoShape, block: Tensor<Int32>, rows: FoldRows,
              into out: Tensor<Float>) throws(DNLSError) {
        let groups = (channels.count + Self.channelGroup - 1) / Self.channelGroup
        // Strides a grid fold is compiled for (each one is a module of its own; others divide at run time).
        let stride = grid.on != 0 && (1...Self.compiledFoldStrides).contains(Int(grid.stride)) ? Int(grid.stride) : nil
        try launch(.foldSlots, constants: CUDAKernelConstants(foldPatchSize: g.patchSize, foldGridStride: stride),
                   count: rows.count * s.width * rows.batches * groups, parameters: DNLSFoldSlots(
            P: pointer(P), grid: grid, pixel0: Int64(pixel0), count: Int64(count), block: pointer(block),
            T: Int32(s.frames), C: Int32(s.channels), H: Int32(s.height), W: Int32(s.width), reach: reach(g),
            c0: Int32(channels.lowerBound), cs: Int32(channels.count), firstRow: Int64(rows.first), rows: Int64(rows.count),
            batches: Int32(rows.batches), rowsPerBatch: Int64(rows.perBatch), out: pointer(out)))
    }

    /// Launches an aggregation kernel over `slots` slots of a `cs`-channel slice, whose
    /// `parameters` walk ``slotsPerBlock`` slots a block.
    func aggregate<Parameters: BitwiseCopyable>(_ entry: CUDAKernelEntry, slots: Int, channels cs: Int, patchSize ps: Int,
                                                parameters: Parameters) throws(DNLSError) {
        let (blocks, threads) = entryLaunch(entries: cs * ps * ps, sites: slots, sitesPerBlock: Self.slotsPerBlock)
        try launch(entry, blocks: blocks, threads: threads, parameters: parameters)
    }

    /// Runs of one table pass and the patch scratch they need: `rows` anchor rows by `slice`
    /// channels at a time, within what the table leaves of ``AnchorPlan/scratchBudget``.
    func tableRuns(_ plan: AnchorPlan, channels: Int, geometry g: PatchGeometry, width: Int)
        -> (rows: Int, slice: Int, floats: Int) {
        let entries = g.patchSize * g.patchSize
        let budget = max(0, AnchorPlan.scratchBudget - plan.scratchBytes) / 4
        let (rows, slice) = AnchorPlan.runShape(width: width, channels: channels, entries: entries, budgetFloats: budget)
        let used = min(rows, plan.rowsPerTile)
        return (used, slice, used * width * slice * entries)
    }

    /// Aggregate-then-fold over the bands of used anchor rows of one table pass, run by run:
    /// `aggregate(slot0, slots, c0, cs)` fills `P` with the patches of anchor pixels
    /// `pass.pixel0 + slot0 ..< … + slots`, channels `c0 ..< c0 + cs`, and fold_slots adds them into `out`.
    func foldTablePass(_ pass: AnchorPass, runs: (rows: Int, slice: Int, floats: Int), channels: Int, P: Tensor<Float>,
                       geometry g: PatchGeometry, shape s: VideoShape, block: Tensor<Int32>, into out: Tensor<Float>,
                       aggregate: (_ slot0: Int, _ slots: Int, _ c0: Int, _ cs: Int) throws(DNLSError) -> Void)
        throws(DNLSError) {
        let runRows = pass.bands.flatMap { band in
            stride(from: band.lowerBound, to: band.upperBound, by: runs.rows).map { $0..<min(band.upperBound, $0 + runs.rows) }
        }
        for rows in runRows {
            let slot0 = (rows.lowerBound - pass.rows.lowerBound) * s.width, slots = rows.count * s.width
            let destinations = AnchorPlan.destinationRows(rows, height: s.height, offsets: g.offsets)
            for c0 in stride(from: 0, to: channels, by: runs.slice) {
                let cs = min(runs.slice, channels - c0)
                try aggregate(slot0, slots, c0, cs)
                try fold(P, grid: Self.noGrid, pixel0: pass.pixel0 + slot0, count: slots, channels: c0..<c0 + cs,
                         geometry: g, shape: s, block: block,
                         rows: FoldRows(first: destinations.lowerBound, count: destinations.count, batches: 1, perBatch: 0),
                         into: out)
            }
        }
    }

    /// Destination rows (per batch item) of a fold of grid queries `first ..< first + count`.
    func gridFoldRows(_ grid: QueryGrid, first: Int, count: Int, geometry g: PatchGeometry, shape s: VideoShape) -> FoldRows {
        let a = grid.position(first), b = grid.position(first + count - 1)
        let anchors = (a.t * s.height + a.h)..<(b.t * s.height + b.h + 1)
        let rows = AnchorPlan.destinationRows(anchors, height: s.height, offsets: g.offsets)
        return FoldRows(first: rows.lowerBound, count: rows.count, batches: s.batch, perBatch: s.frames * s.height)
    }
}
