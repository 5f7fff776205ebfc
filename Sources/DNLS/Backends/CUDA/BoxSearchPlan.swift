/// Launch shape of the box-filtered search kernel (`search_forward_box`): the query tile, the work
/// items, the channel chunk and the shared memory they need.
///
/// A work item is one footprint row × a run of ``run`` query columns × a group of window columns
/// (see the kernel's comment). Its query and key samples of one channel chunk live in registers,
/// so the chunk is the widest that keeps them within ``registerBudget`` floats; shared memory holds
/// the key samples of ``rowGroup`` window rows of the chunk, the row sums of every window column
/// and the block's resolved key columns.
struct BoxSearchPlan: Equatable {
    /// Side of the query tile a block handles, in grid positions.
    let tile: Int
    /// Window columns per work item.
    let columnGroup: Int
    /// Work items per block.
    let items: Int
    /// Threads per block (enough for every work item and every query of the tile).
    let threads: Int
    /// Channels per chunk.
    let channelChunk: Int
    /// Window rows whose key samples are loaded at once: all of them when one chunk holds every
    /// channel and they fit, else one.
    let rowGroup: Int
    /// Blocks in the launch.
    let blocks: Int
    /// Span of the window offsets, `offset(ws − 1) − offset(0)`.
    let reach: Int
    /// Whether the query footprint of every channel is kept in shared memory (several chunks,
    /// when it fits), instead of being read again from the video for each chunk.
    let queryTile: Bool
    /// Dynamic shared memory per block, in bytes.
    let sharedBytes: Int
    /// Compile-time constants of the kernel.
    let constants: [String: String]

    /// Query columns per work item (`BOX_RUN` in the kernel).
    static let run = 4
    /// Query and key samples an item keeps in registers: 2 · span · chunk at most.
    static let registerBudget = 120
    static let sharedBudget = 96 * 1024
    /// Work items a block should have at least, for the multiprocessor's latency hiding.
    static let minimumItems = 192

    /// The plan for a search over `grid`, or nil when no tile fits the budgets.
    init?(geometry g: PatchGeometry, window: SearchWindow, channels: Int, batch: Int, grid: QueryGrid,
          multiprocessors: Int, sharedMemoryLimit: Int) {
        let reach = window.offset(window.size - 1) - window.offset(0)
        func tiles(_ side: Int) -> Int {
            ((grid.rows + side - 1) / side) * ((grid.columns + side - 1) / side) * grid.frames * batch
        }
        let span = (Self.run - 1) * grid.stride + g.span
        let chunkLimit = max(1, Self.registerBudget / (2 * span))
        let budget = min(Self.sharedBudget, sharedMemoryLimit) / 4
        // Bigger tiles share more of each footprint; smaller ones keep every multiprocessor busy
        // and need less shared memory.
        let sides = tiles(16) >= 2 * multiprocessors ? [16, 8] : [8]
        for side in sides {
            let rows = (side - 1) * grid.stride + g.span
            // Shared rows are padded to odd lengths (see the kernel).
            let keyColumns = rows + reach, keyStride = keyColumns | 1
            let fixed = window.size * rows * (side + 1) + keyColumns
            let perChannel = rows * keyStride
            let byShared = (budget - fixed) / perChannel
            guard byShared >= 1 else { continue }
            let widest = min(channels, chunkLimit, byShared)
            let chunks = (channels + widest - 1) / widest
            let chunk = (channels + chunks - 1) / chunks
            // With one chunk, a frame's key samples load once for every window row if they fit.
            let allRows = chunk * (rows + (window.size - 1) * window.stride) * keyStride
            let rowGroup = chunks == 1 && fixed + allRows <= budget ? window.size : 1
            let keyRows = rows + (rowGroup - 1) * window.stride
            let used = fixed + chunk * keyRows * keyStride
            let queryFloats = channels * rows * rows
            let queryTile = chunks > 1 && used + queryFloats <= sharedMemoryLimit / 4
            // Fewest window-column groups that give enough items.
            let perGroup = rows * (side / Self.run)
            var groups = 1
            while groups < window.size && perGroup * groups < max(side * side, Self.minimumItems) { groups += 1 }
            let columnGroup = (window.size + groups - 1) / groups
            let items = perGroup * ((window.size + columnGroup - 1) / columnGroup)
            let threads = (max(items, side * side) + 31) / 32 * 32
            guard threads <= 1024 else { continue }
            self.tile = side
            self.columnGroup = columnGroup
            self.items = items
            self.threads = threads
            self.channelChunk = chunk
            self.rowGroup = rowGroup
            self.blocks = tiles(side)
            self.reach = reach
            self.queryTile = queryTile
            self.sharedBytes = 4 * (used + (queryTile ? queryFloats : 0))
            self.constants = [
                "BOX_TQ": "\(side)", "BOX_NT": "\(threads)", "BOX_WS": "\(window.size)", "BOX_PS": "\(g.patchSize)",
                "BOX_DIL": "\(g.dilation)", "BOX_STRIDE": "\(grid.stride)", "BOX_CC": "\(chunk)",
                "BOX_JG": "\(columnGroup)", "BOX_WSTEP": "\(window.stride)", "BOX_RG": "\(rowGroup)",
                "BOX_QTILE": queryTile ? "1" : "0",
            ]
            return
        }
        return nil
    }
}
