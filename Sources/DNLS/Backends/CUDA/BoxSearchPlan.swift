/// Launch shape of the box-filtered search kernel (`search_forward_box`): the query tile, the work
/// items, the channel chunks and the shared memory they need.
///
/// A work item is one footprint row × a run of ``run`` query columns × a group of window columns
/// (see the kernel's comment). It accumulates the row sums of its run for every window column of
/// its group in registers, over all channels; the channels pass through registers
/// ``registerChannels`` at a time and through shared memory ``channelChunk`` at a time (one step of
/// the kernel's pipeline). Shared memory holds, per step and twice over (the step computed on and
/// the next one, loaded meanwhile), the chunk's key rows of ``rowGroup`` window rows and its query
/// footprint; then the row sums of every window column and the block's resolved columns.
struct BoxSearchPlan: Equatable {
    /// Side of the query tile a block handles, in grid positions.
    let tile: Int
    /// Window columns per work item.
    let columnGroup: Int
    /// Work items per block.
    let items: Int
    /// Threads per block (enough for every work item and every query of the tile).
    let threads: Int
    /// Channels an item holds in registers at once. With one, it adds squared differences straight
    /// into the row sums; with more, it first sums them per pixel over these channels, so that each
    /// pixel's term is formed once for the run's overlapping patches.
    let registerChannels: Int
    /// Channels per pipeline step (a multiple of ``registerChannels``; past the last channel, zeros).
    let channelChunk: Int
    /// Window rows whose key samples are loaded in one step: all of them when one chunk holds
    /// every channel and they fit; ``rowsInRegisters`` when several chunks are added into the
    /// row sums of that many window rows at once; else one.
    let rowGroup: Int
    /// Window rows whose row sums an item keeps in registers across channel chunks: two when the
    /// channels take several chunks of one register channel each, the window stride is one and
    /// the sums fit ``rowPairBudget``; else one. Each chunk's key rows and query footprint are then
    /// staged once for both window rows instead of once for each.
    let rowsInRegisters: Int
    /// Shared-memory stages: two (the next step loads during this one's arithmetic) or one, when
    /// a single chunk's rows of every window row fit only once.
    let buffers: Int
    /// Query tiles (the blocks of a launch of one block per tile; ``split(frameSlots:kept:multiprocessors:)``
    /// may spread them over other blocks).
    let blocks: Int
    /// Blocks a multiprocessor should hold at once (the kernel's register bound follows from it):
    /// two, or three when that runs the whole launch in one wave.
    let residentBlocks: Int
    /// Span of the window offsets, `offset(ws − 1) − offset(0)`.
    let reach: Int
    /// Dynamic shared memory per block, in bytes.
    let sharedBytes: Int
    /// Compile-time constants of the kernel.
    let constants: BoxSearchConstants

    /// Window size (`BOX_WS`): the query window's, or with flows the union window's side.
    let windowSize: Int

    /// A search along flows (`BOX_FLOW`): each block box-filters a chunk of the union of its
    /// queries' flow-moved windows, `window.size + reach` offsets on a side, and keeps every frame
    /// slot's extent of the window centres in shared memory. Window stride 1 only.
    struct FlowUnion: Equatable {
        /// Offsets a chunk spans beyond the query window, on each axis: the spread of the tiles'
        /// rounded flows (chained over the hops) that one chunk covers; wider spreads take more chunks.
        let reach: Int
        /// Frame slots per query.
        let frameSlots: Int
    }

    /// Query columns per work item (`BOX_RUN` in the kernel).
    static let run = 4
    /// Floats an item may keep in registers: its query and key samples of ``registerChannels``
    /// channels (2 · span each), its row sums (columnGroup · run, or run when one pass holds every
    /// channel) and one row of pixel terms (span). About 96 registers let two blocks share a
    /// multiprocessor.
    static let registerBudget = 96
    /// Shared memory per block: small enough for two blocks on a multiprocessor (a third of it
    /// when three blocks share one).
    static let sharedBudget = 96 * 1024
    /// Floats an item may keep in registers for two window rows at once: their row sums
    /// (2 · columnGroup · run) and their sliding key samples (2 · columnGroup). At S3's 110,
    /// NVRTC 13.0 fits the kernel in 128 registers with a few spills outside the arithmetic.
    static let rowPairBudget = 112
    /// Work items a block should have at least, for the multiprocessor's latency hiding.
    static let minimumItems = 192
    /// Work items a block should have at least when three blocks share a multiprocessor.
    static let minimumItemsThreeDeep = 128

    /// Bytes the part lists of shared tiles may take (``Split``).
    static let partListBudget = 16 << 20

    /// How a launch divides its work. A unit is (tile, frame slot, group of ``rowGroup`` window
    /// rows); each block takes `unitsPerBlock` consecutive units, tile-major. With one tile per
    /// block, the launch's time is that of the multiprocessors holding the most tiles: S3's 320
    /// tiles on 132 × 3 block slots leave 76 multiprocessors a block short for the whole run. Units
    /// spread the work evenly instead, and the blocks that share a tile leave their lists in
    /// `partLists` part slots (two per block: its first and last segment) for search_box_merge.
    struct Split: Equatable {
        let unitsPerBlock: Int
        let blocks: Int
        /// Whether blocks share tiles (else each block runs one whole tile).
        let sharesTiles: Bool
        /// Part slots (each one query's list); zero when no lists are joined.
        let partLists: Int
    }

    /// The split for `frameSlots` frames per query and `kept` neighbours kept (nil: every candidate,
    /// written at its slot, so that no lists are joined) on `multiprocessors`: units spread over
    /// one wave of ``residentBlocks`` blocks per multiprocessor when that takes the busiest block
    /// slot's work down by at least 5 % and the part lists fit ``partListBudget``; else one block per tile.
    func split(frameSlots: Int, kept: Int?, multiprocessors: Int) -> Split {
        let unitsPerTile = frameSlots * ((windowSize + rowGroup - 1) / rowGroup)
        let perTile = Split(unitsPerBlock: unitsPerTile, blocks: blocks, sharesTiles: false, partLists: 0)
        // Along flows a tile's steps depend on its flows (known on the device only): whole tiles.
        guard !constants.flow else { return perTile }
        let slots = residentBlocks * multiprocessors, total = blocks * unitsPerTile
        guard slots > 0 else { return perTile }
        let busiest = (blocks + slots - 1) / slots * unitsPerTile
        let perBlock = (total + slots - 1) / slots
        guard perBlock * 20 <= busiest * 19 else { return perTile }
        let count = (total + perBlock - 1) / perBlock
        let lists = kept == nil ? 0 : 2 * count * tile * tile
        guard lists * (2 * (kept ?? 0) + 1) * 4 <= Self.partListBudget else { return perTile }
        guard total + perBlock <= Int(Int32.max) else { return perTile }  // the kernel counts units in 32 bits
        return Split(unitsPerBlock: perBlock, blocks: count, sharesTiles: true, partLists: lists)
    }

    /// The kernel's constants for a launch divided by `split`: ``constants`` and `BOX_SPLIT`,
    /// which compiles the kernel's loop over segments only where blocks share tiles.
    func constants(for split: Split) -> BoxSearchConstants {
        var c = constants
        c.sharesTiles = split.sharesTiles
        return c
    }

    /// The plan for a search over `grid` (along flows when `flow` is given), or nil when no tile
    /// fits the budgets.
    init?(geometry g: PatchGeometry, window query: SearchWindow, channels: Int, batch: Int, grid: QueryGrid,
          multiprocessors: Int, sharedMemoryLimit: Int, flow: FlowUnion? = nil) {
        if let flow, query.stride != 1 || flow.reach < 0 { return nil }
        // The window the blocks box-filter: the query's, or a chunk of the union along flows.
        let window = (size: query.size + (flow?.reach ?? 0), stride: query.stride)
        let reach = (window.size - 1) * window.stride
        func tiles(_ side: Int) -> Int {
            ((grid.rows + side - 1) / side) * ((grid.columns + side - 1) / side) * grid.frames * batch
        }
        let span = (Self.run - 1) * grid.stride + g.span
        // Bigger tiles share more of each footprint; smaller ones keep every multiprocessor busy
        // and need less shared memory.
        let sides = tiles(16) >= 2 * multiprocessors ? [16, 8] : [8]
        for side in sides {
            // Two blocks per multiprocessor; three (smaller, with fewer items) when that runs the
            // whole grid in one wave instead of two. Not along flows: a third of the memory then
            // holds a union window's rows only one row and two channels at a time, and a third of
            // the registers spills in the arithmetic (NVRTC 13.0, S1).
            let deep = flow == nil && tiles(side) > 2 * multiprocessors && tiles(side) <= 3 * multiprocessors
            let perBlock = deep ? (sharedMemoryLimit + 1024) / 3 - 1024 : Self.sharedBudget
            let budget = min(perBlock, sharedMemoryLimit) / 4
            let rows = (side - 1) * grid.stride + g.span
            // Fewest window-column groups that give enough items; the last group is padded to a
            // full one (its extra columns read zeros and are never offered).
            let perGroup = rows * (side / Self.run)
            var groups = 1
            while groups < window.size && perGroup * groups < max(side * side, deep ? Self.minimumItemsThreeDeep : Self.minimumItems) { groups += 1 }
            let columnGroup = (window.size + groups - 1) / groups
            let groupCount = (window.size + columnGroup - 1) / columnGroup
            let items = perGroup * groupCount
            let keyColumns = rows + reach + (groupCount * columnGroup - window.size) * window.stride
            // Every work item and query has a thread, and every key column a copying thread.
            let threads = (max(items, side * side, keyColumns) + 31) / 32 * 32
            guard threads <= 1024 else { continue }
            // Shared rows are padded to odd lengths (see the kernel).
            let keyStride = keyColumns | 1, queryStride = rows | 1
            func perChannel(_ rowGroup: Int) -> Int {
                (rows + (rowGroup - 1) * window.stride) * keyStride + rows * queryStride
            }
            // The row table also covers the last row group's padding rows (read, never offered).
            func rowPad(_ rowGroup: Int) -> Int {
                ((window.size + rowGroup - 1) / rowGroup * rowGroup - window.size) * window.stride
            }
            // Row sums are padded to side + 1 per footprint row (conflict-free reads by the query
            // owners), unless dropping the pad lets a step hold twice as many channels.
            // + the block's resolved columns and rows.
            // Along flows, also the query footprint's own tables and each frame slot's extents.
            let flowTables = flow.map { 2 * rows + 4 * $0.frameSlots } ?? 0
            func tables(_ sumStride: Int) -> Int { window.size * rows * sumStride + keyColumns + rows + reach + flowTables }
            var sumStride = side + 1
            if channels > 1 && (budget - tables(side + 1)) / (2 * perChannel(1)) < 2
                && (budget - tables(side)) / (2 * perChannel(1)) >= 2 {
                sumStride = side
            }
            let fixed = tables(sumStride)
            let byShared = (budget - fixed) / (2 * perChannel(1))
            guard byShared >= 1 else { continue }
            // Register channels: every channel when they fit (then a window column's row sums are
            // stored as soon as they are formed), else as many as fit beside the row sums of the
            // whole group, balanced over the channels; one (straight into the row sums) when summing
            // per pixel first saves nothing.
            let inRegisters = channels * 2 * span + span + Self.run <= Self.registerBudget
                ? channels : max(1, (Self.registerBudget - columnGroup * Self.run - span) / (2 * span))
            let passes = (channels + inRegisters - 1) / inRegisters
            var registerChannels = (channels + passes - 1) / passes
            let terms = Self.run * g.patchSize
            if registerChannels > 1 && 2 * span * registerChannels + terms >= (span + terms) * registerChannels {
                registerChannels = 1
            }
            registerChannels = min(registerChannels, byShared)
            let widest = byShared / registerChannels * registerChannels
            let chunks = (channels + widest - 1) / widest
            let perChunk = (channels + chunks - 1) / chunks
            let chunk = (perChunk + registerChannels - 1) / registerChannels * registerChannels
            // With one chunk, a frame's key rows load once for every window row if they fit.
            var rowGroup = 1, buffers = 2, rowsInRegisters = 1
            if chunks == 1 && fixed + 2 * chunk * perChannel(window.size) <= budget {
                rowGroup = window.size
            } else if chunks == 1 && fixed + chunk * perChannel(window.size) <= budget {
                rowGroup = window.size
                buffers = 1
            } else if chunks > 1 && registerChannels == 1 && window.stride == 1 && window.size > 1
                        && 2 * columnGroup * (Self.run + 1) <= Self.rowPairBudget
                        && fixed + rowPad(2) + 2 * chunk * perChannel(2) <= budget {
                rowGroup = 2
                rowsInRegisters = 2
            }
            self.tile = side
            self.columnGroup = columnGroup
            self.items = items
            self.threads = threads
            self.registerChannels = registerChannels
            self.channelChunk = chunk
            self.rowGroup = rowGroup
            self.rowsInRegisters = rowsInRegisters
            self.buffers = buffers
            self.blocks = tiles(side)
            self.reach = reach
            self.windowSize = window.size
            self.sharedBytes = 4 * (fixed + rowPad(rowGroup) + buffers * chunk * perChannel(rowGroup))
            // Blocks a multiprocessor can hold by shared memory (its total is the per-block limit
            // plus the 1 KiB the driver reserves per block), for the kernel's register bound.
            let resident = max(1, min(deep ? 3 : 2, (sharedMemoryLimit + 1024) / (sharedBytes + 1024)))
            self.residentBlocks = resident
            self.constants = BoxSearchConstants(
                tile: side, threads: threads, windowSize: window.size, patchSize: g.patchSize, dilation: g.dilation,
                gridStride: grid.stride, channelChunk: chunk, registerChannels: registerChannels, columnGroup: columnGroup,
                windowStride: window.stride, rowGroup: rowGroup, rowsInRegisters: rowsInRegisters, buffers: buffers,
                residentBlocks: resident, sumStride: sumStride, onePass: channels <= registerChannels,
                flow: flow != nil, queryWindowSize: query.size)
            return
        }
        return nil
    }
}
