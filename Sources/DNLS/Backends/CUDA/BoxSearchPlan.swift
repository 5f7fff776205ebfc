/// Launch shape of the box-filtered search kernel (`search_forward_box`): the query tile, the
/// channel chunk and the shared memory they need.
///
/// The kernel keeps each thread's footprint pixels of one channel chunk in registers and one window
/// row of key pixels of that chunk in shared memory, so the chunk is the largest that keeps both
/// small: at most `registerBudget` query values per thread and `sharedBudget` bytes per block.
struct BoxSearchPlan: Equatable {
    /// Side of the query tile a block handles, in grid positions.
    let tile: Int
    /// Threads per block.
    let threads: Int
    /// Channels per chunk.
    let channelChunk: Int
    /// Blocks in the launch.
    let blocks: Int
    /// Span of the window offsets, `offset(ws − 1) − offset(0)`.
    let reach: Int
    /// Dynamic shared memory per block, in bytes.
    let sharedBytes: Int
    /// Compile-time constants of the kernel.
    let constants: [String: String]

    static let registerBudget = 40
    static let sharedBudget = 96 * 1024

    /// The plan for a search over `grid`, or nil when even one channel per chunk does not fit.
    init?(geometry g: PatchGeometry, window: SearchWindow, channels: Int, batch: Int, grid: QueryGrid,
          multiprocessors: Int, sharedMemoryLimit: Int) {
        reach = window.offset(window.size - 1) - window.offset(0)
        func tiles(_ side: Int) -> Int {
            ((grid.rows + side - 1) / side) * ((grid.columns + side - 1) / side) * grid.frames * batch
        }
        // Bigger tiles share more of each footprint; smaller ones keep every multiprocessor busy.
        tile = tiles(16) >= 2 * multiprocessors ? 16 : 8
        threads = 256
        let side = (tile - 1) * grid.stride + g.span
        let pixelsPerThread = (side * side + threads - 1) / threads
        let fixedFloats = side * side + side * tile + window.size * tile * tile
        let perChannelFloats = side * (side + reach)
        let budget = min(Self.sharedBudget, sharedMemoryLimit) / 4
        let byRegisters = max(1, Self.registerBudget / pixelsPerThread)
        let byShared = (budget - fixedFloats) / perChannelFloats
        guard byShared >= 1 else { return nil }
        let widest = min(channels, byRegisters, byShared)
        let chunks = (channels + widest - 1) / widest
        channelChunk = (channels + chunks - 1) / chunks
        sharedBytes = 4 * (fixedFloats + channelChunk * perChannelFloats)
        blocks = tiles(tile)
        constants = [
            "BOX_TQ": "\(tile)", "BOX_NT": "\(threads)", "BOX_WS": "\(window.size)", "BOX_PS": "\(g.patchSize)",
            "BOX_DIL": "\(g.dilation)", "BOX_STRIDE": "\(grid.stride)", "BOX_CC": "\(channelChunk)",
        ]
    }
}
