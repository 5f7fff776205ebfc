import Synchronization

/// How the CUDA backend cuts its work: the anchor tables' tiles and chunks, the search
/// backward's query chunks, which deposits are small enough to skip the anchor table, and the
/// chunks of the union windows a search along flows box-filters.
///
/// ``standard`` is what runs. The conformance suite sets ``stress`` while it runs on a GPU, so
/// that its small shapes take the paths only large videos take otherwise (several tiles, chunks
/// and passes, the anchor table for every deposit), and checks the small-deposit path on its own.
/// The choice changes how work is cut, never the contract: every cut gives results within the
/// suite's tolerance of the CPU reference, and the same results on every run.
package struct CUDATuning: Sendable, Hashable {
    /// Pixels of one anchor-table tile.
    package var anchorTilePixels: Int
    /// Sites of one anchor-table chunk.
    package var anchorChunkSites: Int
    /// The most queries of one chunk of the search backward's query side (nil: as many as the
    /// scratch budget holds).
    package var searchBackwardChunk: Int?
    /// A deposit adds directly, one thread per output element and no anchor table, when each
    /// element visits at most this many site entries (sites × ps²; 0: never) and the whole
    /// deposit at most ``directDepositTotal``.
    package var directDepositWork: Int
    /// The most site entries a direct deposit visits in all (elements × sites × ps²).
    package var directDepositTotal: Int
    /// Offsets beyond the query window that one chunk of a search along flows covers on each
    /// axis: a tile whose rounded flows (chained over the hops) spread further takes several chunks
    /// (nil: a search along flows takes the general kernel, one thread per query).
    package var flowUnionReach: Int?

    /// The backend's own cut. A direct deposit of 1024 entries per element takes a few
    /// microseconds of device time at the total bound, against about 40 µs of host time for
    /// the anchor table's ten launches. A search along flows box-filters the union of each tile's
    /// flow-moved windows in chunks of the window plus 8 offsets per side: the spread of a random
    /// ±2.5-pixel flow over two hops fits one chunk. On an H100, chunks of 4 offsets were 2–4 %
    /// faster with a smooth flow at S4 and HD8 and up to 12 % slower elsewhere; chunks of 16 were
    /// 1.3–2.8× slower.
    package static let standard = CUDATuning(anchorTilePixels: 1 << 21, anchorChunkSites: 1 << 22, searchBackwardChunk: nil,
                                             directDepositWork: 1024, directDepositTotal: 1 << 24, flowUnionReach: 8)
    /// The standard cut with every search along flows on the general kernel, one thread per query
    /// (for the suite's check of that kernel, which explicit query lists and window strides other
    /// than 1 take in any case).
    package static let generalFlowSearch: CUDATuning = {
        var tuning = standard
        tuning.flowUnionReach = nil
        return tuning
    }()
    /// Small tiles, chunks and query chunks, no direct deposits and narrow flow chunks: the
    /// multi-pass paths on small shapes.
    package static let stress = CUDATuning(anchorTilePixels: 1 << 12, anchorChunkSites: 1 << 14, searchBackwardChunk: 97,
                                           directDepositWork: 0, directDepositTotal: 0, flowUnionReach: 1)

    private static let state = Mutex(CUDATuning.standard)

    /// The cut CUDA calls use now (process-wide).
    package static var current: CUDATuning {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }

    /// Runs `body` with `tuning` as ``current``, then restores the previous value.
    package static func with<R, E: Error>(_ tuning: CUDATuning, _ body: () throws(E) -> R) throws(E) -> R {
        let previous = current
        current = tuning
        defer { current = previous }
        return try body()
    }

    /// Whether a deposit that visits `entriesPerElement` site entries (sites × ps²) for each of
    /// `elements` output elements adds directly.
    func depositsDirectly(entriesPerElement: Int, elements: Int) -> Bool {
        guard entriesPerElement <= directDepositWork else { return false }
        let (total, overflow) = elements.multipliedReportingOverflow(by: entriesPerElement)
        return !overflow && total <= directDepositTotal
    }
}
