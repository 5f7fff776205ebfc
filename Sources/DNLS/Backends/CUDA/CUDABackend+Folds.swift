import CUDADriver

extension CUDABackend {
    /// Channels one fold thread sums (CGROUP in the kernels).
    static let channelGroup = 4
    /// Slots one aggregation block walks.
    static let slotsPerBlock = 16
    /// The kernels' `Grid` struct with `on = 0`.
    static let noGrid = CUDAKernel.Argument.structure([UInt8](repeating: 0, count: 40))

    /// Destination rows of a fold: rows `first ..< first + count` of each of `batches` blocks of
    /// `perBatch` flat rows `(b, t, y)`.
    struct FoldRows {
        let first: Int, count: Int, batches: Int, perBatch: Int
    }

    /// fold_slots: adds `P` `(slots, cs, ps, ps)` into channels `channels` of `out` (see the kernel).
    func fold(_ P: Tensor<Float>, grid: CUDAKernel.Argument, pixel0: Int, count: Int, channels: Range<Int>,
              geometry g: PatchGeometry, shape s: VideoShape, block: Tensor<Int32>, rows: FoldRows,
              into out: Tensor<Float>) throws(DNLSError) {
        let groups = (channels.count + Self.channelGroup - 1) / Self.channelGroup
        try launch(.foldSlots, constants: CUDAKernelConstants(foldPatchSize: g.patchSize), count: rows.count * s.width * rows.batches * groups, [
            address(P), grid, .int64(Int64(pixel0)), .int64(Int64(count)), address(block),
            .int32(Int32(s.frames)), .int32(Int32(s.channels)), .int32(Int32(s.height)), .int32(Int32(s.width)),
            .int32(reach(g)), .int32(Int32(channels.lowerBound)), .int32(Int32(channels.count)),
            .int64(Int64(rows.first)), .int64(Int64(rows.count)), .int32(Int32(rows.batches)), .int64(Int64(rows.perBatch)),
            address(out)])
    }

    /// Launches an aggregation kernel over `slots` slots of a `cs`-channel slice: `arguments` end
    /// before its `slotsPerBlock, P`.
    func aggregate(_ entry: CUDAKernelEntry, slots: Int, channels cs: Int, patchSize ps: Int, _ arguments: [CUDAKernel.Argument],
                   into P: Tensor<Float>) throws(DNLSError) {
        let (blocks, threads) = entryLaunch(entries: cs * ps * ps, sites: slots, sitesPerBlock: Self.slotsPerBlock)
        try launch(entry, blocks: blocks, threads: threads, arguments + [.int32(Int32(Self.slotsPerBlock)), address(P)])
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
