/// How a scatter-add computed as a per-pixel gather is cut into passes, so that the anchor table
/// it builds on the device (for each pixel, the sites anchored there) stays within a fixed scratch
/// budget at any size.
///
/// Each pass covers a tile of whole anchor rows (flat rows `(b, t, h)`, at most ``tilePixels``
/// pixels) and a chunk of flat sites `b · S + s` (at most ``chunkSites``); its patches are folded
/// into the rows they read (``destinationRows(_:height:offsets:)``). Passes run tile by tile, chunk
/// by chunk; the cut depends on the shapes alone, so every pixel sums in the same order on every run.
struct AnchorPlan: Sendable, Equatable {
    /// 2 Mi pixels: 8 MiB of table starts (``CUDATuning/standard``).
    static let defaultTilePixels = CUDATuning.standard.anchorTilePixels
    /// 4 Mi sites: 16 MiB of table members (``CUDATuning/standard``).
    static let defaultChunkSites = CUDATuning.standard.anchorChunkSites
    /// All scratch of one backward or deposit (tables and aggregated patches), in bytes.
    static let scratchBudget = 60 << 20
    /// Items one block of the scan kernels covers.
    static let scanBlock = 1024

    struct Pass: Sendable, Equatable {
        /// Anchor rows of the tile (flat `(b, t, h)`).
        let rows: Range<Int>
        /// Flat sites of the chunk.
        let sites: Range<Int>
    }

    let width: Int
    /// Rows per tile and sites per chunk actually used (the scratch is sized by them).
    let rowsPerTile: Int, chunkSites: Int
    let passes: [Pass]

    /// - Parameters: `planes` = B·T, `sites` = B·S.
    init(planes: Int, height: Int, width: Int, sites: Int,
         tilePixels: Int = defaultTilePixels, chunkSites: Int = defaultChunkSites) {
        let totalRows = planes * height
        self.width = width
        rowsPerTile = max(1, min(totalRows, tilePixels / max(width, 1)))
        self.chunkSites = max(1, min(sites, chunkSites))
        var passes: [Pass] = []
        if totalRows > 0, width > 0, sites > 0 {
            for first in stride(from: 0, to: totalRows, by: rowsPerTile) {
                let rows = first..<min(totalRows, first + rowsPerTile)
                for s in stride(from: 0, to: sites, by: self.chunkSites) {
                    passes.append(Pass(rows: rows, sites: s..<min(sites, s + self.chunkSites)))
                }
            }
        }
        self.passes = passes
    }

    /// Pixels of the largest tile: the anchor table has one more start than this.
    var tilePixels: Int { rowsPerTile * width }

    /// Scan blocks of the largest table.
    var scanBlocks: Int { (tilePixels + 1 + AnchorPlan.scanBlock - 1) / AnchorPlan.scanBlock }

    /// Entries of the list of pixels with many sites (one per 33 sites at most, plus its count).
    var bigListCount: Int { chunkSites / 33 + 2 }

    /// Device scratch of the table: starts, members, scan totals and the big-pixel list (Int32).
    var scratchBytes: Int { 4 * (tilePixels + 1 + chunkSites + scanBlocks + bigListCount) }

    /// Rows per aggregation run and channels per slice, for rows of `width` pixels whose patches
    /// hold `channels × entries` floats each, so that a run's patches fit `budgetFloats`: whole
    /// channels when one row of them fits, else slices of as many channels as fit.
    static func runShape(width: Int, channels: Int, entries: Int, budgetFloats: Int) -> (rows: Int, channels: Int) {
        let perChannelRow = max(1, width * entries)
        let slice = max(1, min(channels, budgetFloats / perChannelRow))
        return (max(1, budgetFloats / (perChannelRow * slice)), slice)
    }

    /// The flat rows read by patches anchored in `rows` (flat `(b, t, h)` rows of planes of
    /// `height`): for a patch at row `h`, entry rows `h + offset` resolved under either border.
    /// Frames never mix, so only the first and the last plane of the tile bound the range.
    static func destinationRows(_ rows: Range<Int>, height H: Int, offsets: [Int]) -> Range<Int> {
        guard !rows.isEmpty, let low = offsets.min(), let high = offsets.max() else { return rows }
        let firstPlane = rows.lowerBound / H, lastPlane = (rows.upperBound - 1) / H
        let h0 = rows.lowerBound % H, h1 = (rows.upperBound - 1) % H
        // In-frame entries of anchors h0... start at h0 + low; entries past the bottom reflect to
        // 2(H−1) − x ≥ 2(H−1) − (hEnd + high), where hEnd is the last anchor row of the plane.
        let firstEnd = firstPlane == lastPlane ? h1 : H - 1
        let lowest = max(0, min(h0 + low, 2 * (H - 1) - (firstEnd + high)))
        // Symmetrically, entries above the top reflect to −x ≤ −(hStart + low).
        let lastStart = firstPlane == lastPlane ? h0 : 0
        let highest = min(H - 1, max(h1 + high, -(lastStart + low)))
        return (firstPlane * H + lowest)..<(lastPlane * H + highest + 1)
    }
}
