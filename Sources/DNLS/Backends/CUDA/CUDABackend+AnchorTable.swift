import CUDADriver
internal import CDNLSKernels

extension CUDABackend {
    /// One pass of an anchor plan: the kernels' `Anchors` struct for the pass's table, its tile's
    /// anchor rows and first pixel, the bands of rows of the tile where the pass's sites are
    /// anchored (the whole tile in a plan of one pass), and the list of its pixels with more than
    /// 32 sites (`big`).
    struct AnchorPass {
        let anchors: DNLSAnchors
        let rows: Range<Int>
        let bands: [Range<Int>]
        let pixel0: Int
        /// The device address of the pass's list of hub pixels (count first).
        let big: UInt64
    }

    /// Gaps of fewer rows than this between two bands of used rows are covered, not skipped: an
    /// empty row costs less to aggregate and fold than the launches of another band.
    static let bandGap = 8

    /// The bands of rows that `used` marks (nonzero), offset by `base`, joined across gaps of
    /// fewer than `gap` unused rows.
    static func bands(used: [Int32], base: Int, gap: Int) -> [Range<Int>] {
        var bands: [Range<Int>] = []
        for (r, flag) in used.enumerated() where flag != 0 {
            if let last = bands.last, r - last.upperBound < gap {
                bands[bands.count - 1] = last.lowerBound..<r + 1
            } else {
                bands.append(r..<r + 1)
            }
        }
        return bands.map { base + $0.lowerBound..<base + $0.upperBound }
    }

    /// No anchor table (a null `starts`): slots come from a grid instead.
    static let noAnchors = DNLSAnchors()

    /// The anchor plan of `sites` flat sites for this video, cut as ``CUDATuning/current`` says
    /// (small tiles and chunks under the conformance suite's stress tuning, so that its small
    /// shapes run the multi-pass path that only large videos take otherwise).
    func anchorPlan(sites: Int, shape s: VideoShape) -> AnchorPlan {
        let tuning = CUDATuning.current
        return AnchorPlan(planes: s.batch * s.frames, height: s.height, width: s.width, sites: sites,
                          tilePixels: tuning.anchorTilePixels, chunkSites: tuning.anchorChunkSites)
    }

    /// Runs `body` once per pass of `plan` over the sites at `positions` (`(B or 1, S, 3)` Int32 on
    /// this device, `batchStride` apart, `t = −1` empty), after building that pass's anchor table on
    /// the device: count, scan, fill, then sort each pixel's members. The table's scratch
    /// (``AnchorPlan/scratchBytes``) is allocated once. With several passes under eager checking,
    /// each one's used rows are found on the device and downloaded (4 bytes a row): a chunk of sites
    /// is usually anchored in a band or two of the tile (a chunk of queries in a few rows of
    /// neighbouring frames), or not in it at all, and the pass's sort, aggregations and folds then
    /// cover those bands only. Under deferred checking, where a call never waits for the device,
    /// every pass covers its whole tile (same results; more work for sparse passes).
    func eachAnchorPass(_ plan: AnchorPlan, positions: Tensor<Int32>, batchStride: Int, sitesPerBatch S: Int,
                        shape s: VideoShape, _ body: (AnchorPass) throws(DNLSError) -> Void) throws(DNLSError) {
        guard !plan.passes.isEmpty else { return }
        guard plan.tilePixels < Int(Int32.max), plan.chunkSites < Int(Int32.max) else {
            throw .invalidArgument(argument: "video", expected: "rows of fewer than 2³¹ pixels for the CUDA backend",
                                   actual: "\(s.width) pixels per row")
        }
        let starts: Tensor<Int32> = try scratch([plan.tilePixels + 1])
        let members: Tensor<Int32> = try scratch([plan.chunkSites])
        let totals: Tensor<Int32> = try scratch([plan.scanBlocks])
        let big: Tensor<Int32> = try scratch([plan.bigListCount])
        let used: Tensor<Int32>? = plan.passes.count > 1 && device.inputChecking == .eager ? try scratch([plan.rowsPerTile]) : nil
        for pass in plan.passes {
            let pixel0 = pass.rows.lowerBound * s.width, pixels = pass.rows.count * s.width
            let count = pass.sites.count, n = pixels + 1
            let sites = DNLSAnchorSites(
                positions: pointer(positions), batchStride: Int64(batchStride), S: Int64(S), first: Int64(pass.sites.lowerBound),
                last: Int64(pass.sites.upperBound), T: Int32(s.frames), H: Int32(s.height), W: Int32(s.width),
                pixel0: Int64(pixel0), pixels: Int64(pixels), starts: pointer(starts), members: pointer(members))
            try launch(.anchorClear, count: n, parameters: DNLSAnchorClear(data: pointer(starts), n: Int64(n), also: pointer(big)))
            try launch(.anchorCount, count: count, parameters: sites)
            let blocks = (n + AnchorPlan.scanBlock - 1) / AnchorPlan.scanBlock
            let scan = DNLSScan(data: pointer(starts), n: Int64(n), totals: pointer(totals))
            try launch(.scanBlocks, blocks: blocks, threads: 256, parameters: scan)
            if blocks > 1 {  // one block's scan is already the whole scan
                try launch(.scanTotals, blocks: 1, threads: 1024, parameters: DNLSScanTotals(totals: pointer(totals), count: Int32(blocks)))
                try launch(.scanAdd, count: n, parameters: scan)
            }
            // The tile rows that hold the pass's sites: all of them in a plan of one pass (or under
            // deferred checking), else found on the device; the rest of the table build and the body cover only those.
            var bands = [pass.rows]
            if let used {
                try launch(.anchorRows, count: pass.rows.count, parameters: DNLSAnchorRows(
                    ends: pointer(starts), pixels: Int64(pixels), width: Int32(s.width), used: pointer(used)))
                let flags = try used.hostElements()
                bands = Self.bands(used: Array(flags.prefix(pass.rows.count)), base: pass.rows.lowerBound, gap: Self.bandGap)
            }
            if !bands.isEmpty {
                try launch(.anchorFill, count: count, parameters: sites)
                for band in bands {
                    let p0 = (band.lowerBound - pass.rows.lowerBound) * s.width, p1 = p0 + band.count * s.width
                    try launch(.anchorSort, count: 32 * (p1 - p0), parameters: DNLSAnchorSort(
                        starts: pointer(starts), members: pointer(members), p0: Int64(p0), p1: Int64(p1), big: pointer(big)))
                }
                try launch(.anchorSortBig, blocks: 2 * runtime.context.multiprocessors, threads: 256,
                           parameters: DNLSAnchorSortBig(starts: pointer(starts), members: pointer(members), big: pointer(big)))
            }
            let anchors = DNLSAnchors(starts: pointer(starts), members: pointer(members), first: Int64(pass.sites.lowerBound),
                                      pixel0: Int64(pixel0), pixels: Int64(pixels))
            try body(AnchorPass(anchors: anchors, rows: pass.rows, bands: bands, pixel0: pixel0, big: pointer(big)))
        }
    }

    /// Largest |patch offset|: pixels further than this from every border are read only as themselves.
    func reach(_ g: PatchGeometry) -> Int32 {
        Int32(g.offsets.map { abs($0) }.max() ?? 0)
    }
}
