import Synchronization

/// How the CUDA backend cuts its work: the anchor tables' tiles and chunks, the search
/// backward's query chunks, and which deposits are small enough to skip the anchor table.
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

    /// The backend's own cut. A direct deposit of 1024 entries per element takes a few
    /// microseconds of device time at the total bound, against about 40 µs of host time for
    /// the anchor table's ten launches.
    package static let standard = CUDATuning(anchorTilePixels: 1 << 21, anchorChunkSites: 1 << 22, searchBackwardChunk: nil,
                                             directDepositWork: 1024, directDepositTotal: 1 << 24)
    /// Small tiles, chunks and query chunks and no direct deposits: the multi-pass paths on small shapes.
    package static let stress = CUDATuning(anchorTilePixels: 1 << 12, anchorChunkSites: 1 << 14, searchBackwardChunk: 97,
                                           directDepositWork: 0, directDepositTotal: 0)

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
