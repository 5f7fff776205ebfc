/// Shared machinery of the fast CPU kernels: flat site tables, hoisted patch geometry, and the
/// row-band plan that lets scatter-add kernels run in parallel without racing writes.

// MARK: - Site tables

/// Flat `(t, h, w)` Int32 triples: site `s` (= `q · k + m`) of batch item `b` starts at
/// `base[b · batchStride + 3 · s]`. Valid only inside the `with…` call that made it.
struct FastSiteTable {
    let base: UnsafePointer<Int32>
    /// Elements between batch items: `3 · queries · k`, or 0 when every item shares the sites.
    let batchStride: Int

    @inline(__always)
    func offset(_ b: Int, _ s: Int) -> Int { b &* batchStride &+ s &* 3 }
}

/// The positions of grid queries `start ..< start + count`, as flat triples.
func gridTriples(_ grid: QueryGrid, start: Int, count: Int, tuning: FastTuning) -> [Int32] {
    if count == 0 { return [-1, -1, -1] }
    return [Int32](unsafeUninitializedCapacity: count * 3) { buffer, initialized in
        let out = buffer.baseAddress!
        fastParallelChunks(count, work: 16, tuning: tuning) { range in
            for q in range {
                let p = grid.position(start &+ q)
                out[3 &* q] = Int32(truncatingIfNeeded: p.t)
                out[3 &* q &+ 1] = Int32(truncatingIfNeeded: p.h)
                out[3 &* q &+ 2] = Int32(truncatingIfNeeded: p.w)
            }
        }
        initialized = count * 3
    }
}

/// Calls `body` with the sites of a patch tensor as a flat table (grid sites are materialised once).
func withSiteTable<R>(_ sites: PatchSites, tuning: FastTuning, _ body: (FastSiteTable) -> R) -> R {
    switch sites.source {
    case let .neighbours(triples):
        let stride = sites.queries * sites.k * 3
        if triples.isEmpty {
            let dummy: [Int32] = [-1, -1, -1]
            return dummy.withUnsafeBufferPointer { body(FastSiteTable(base: $0.baseAddress!, batchStride: 0)) }
        }
        return triples.withUnsafeBufferPointer { body(FastSiteTable(base: $0.baseAddress!, batchStride: stride)) }
    case let .grid(grid, start):
        let flat = gridTriples(grid, start: start, count: sites.queries, tuning: tuning)
        return flat.withUnsafeBufferPointer { body(FastSiteTable(base: $0.baseAddress!, batchStride: 0)) }
    case .deviceNeighbours:
        preconditionFailure("GPU site tables reach the CPU kernels only through onHost()")
    }
}

/// Calls `body` with the query positions of a search as a flat table (one site per query).
func withQueryTable<R>(_ queries: QueryList, tuning: FastTuning, _ body: (FastSiteTable) -> R) -> R {
    switch queries.source {
    case let .explicit(scalars):
        if scalars.isEmpty {
            let dummy: [Int32] = [-1, -1, -1]
            return dummy.withUnsafeBufferPointer { body(FastSiteTable(base: $0.baseAddress!, batchStride: 0)) }
        }
        return scalars.withUnsafeBufferPointer {
            body(FastSiteTable(base: $0.baseAddress!, batchStride: queries.count * 3))
        }
    case let .grid(grid, start):
        let flat = gridTriples(grid, start: start, count: queries.count, tuning: tuning)
        return flat.withUnsafeBufferPointer { body(FastSiteTable(base: $0.baseAddress!, batchStride: 0)) }
    case .deviceExplicit:
        preconditionFailure("GPU query tables reach the CPU kernels only through onHost()")
    }
}

// MARK: - Hoisted geometry

/// A ``PatchGeometry`` prepared for the hot loops: the entry offsets (from `PatchGeometry.offset`)
/// and the frame extents. Border handling always goes through `Border.resolve`.
struct FastGeometry {
    let patchSize: Int
    let border: Border
    let offsets: [Int]
    let minOffset: Int, maxOffset: Int
    /// True when consecutive entries are one pixel apart (dilation 1): an inside row is contiguous.
    let unitStep: Bool
    let height: Int, width: Int

    init(_ g: PatchGeometry, height: Int, width: Int) {
        patchSize = g.patchSize
        border = g.border
        let offsets = (0..<g.patchSize).map { g.offset($0) }
        self.offsets = offsets
        minOffset = offsets.min() ?? 0
        maxOffset = offsets.max() ?? 0
        unitStep = zip(offsets, offsets.dropFirst()).allSatisfy { $1 - $0 == 1 }
        self.height = height
        self.width = width
    }

    /// Scratch for one task (allocated once per task, never per site): the offsets, then four
    /// arrays of `patchSize` resolved coordinates. Call `deallocate()` when the task ends.
    @inline(__always)
    func makeScratch() -> AxisScratch {
        let n = patchSize
        let p = UnsafeMutablePointer<Int>.allocate(capacity: 5 * n)
        for a in 0..<n { (p + a).initialize(to: offsets[a]) }
        (p + n).initialize(repeating: 0, count: 4 * n)
        return AxisScratch(offsets: UnsafePointer(p), rows0: p + n, cols0: p + 2 * n,
                           rows1: p + 3 * n, cols1: p + 4 * n, patchSize: n,
                           minOffset: minOffset, maxOffset: maxOffset, border: border)
    }
}

/// Per-task scratch arrays (see ``FastGeometry/makeScratch()``).
struct AxisScratch {
    let offsets: UnsafePointer<Int>
    let rows0: UnsafeMutablePointer<Int>, cols0: UnsafeMutablePointer<Int>
    let rows1: UnsafeMutablePointer<Int>, cols1: UnsafeMutablePointer<Int>
    let patchSize: Int, minOffset: Int, maxOffset: Int
    let border: Border

    func deallocate() { UnsafeMutablePointer(mutating: offsets).deallocate() }

    /// Writes the coordinate that each entry of a patch at `x` reads along an axis of `length`
    /// samples (−1: reads zero). Returns true when every entry is inside, so no border applies.
    @inline(__always)
    func resolve(_ x: Int, length: Int, into out: UnsafeMutablePointer<Int>) -> Bool {
        if x &+ minOffset >= 0 && x &+ maxOffset < length {
            for a in 0..<patchSize { out[a] = x &+ offsets[a] }
            return true
        }
        for a in 0..<patchSize { out[a] = border.resolve(x &+ offsets[a], length: length) }
        return false
    }

    /// Smallest and largest row that a patch at `h` reads, or `(1, 0)` when it reads none.
    @inline(__always)
    func rowSpan(_ h: Int, length: Int) -> (Int, Int) {
        if h &+ minOffset >= 0 && h &+ maxOffset < length { return (h &+ minOffset, h &+ maxOffset) }
        var lo = Int.max, hi = -1
        for a in 0..<patchSize {
            let r = border.resolve(h &+ offsets[a], length: length)
            if r >= 0 { lo = min(lo, r); hi = max(hi, r) }
        }
        return hi < 0 ? (1, 0) : (lo, hi)
    }
}

// MARK: - Row-band plan

/// How a scatter-add kernel splits its output without racing writes.
///
/// Each task owns one band of rows `[band · bandRows, (band + 1) · bandRows)` of one frame `t`
/// of one batch item `b` (all channels, and the weight-sum plane), and visits, in increasing
/// site order, exactly the sites of that item and frame whose patch reads a row of its band.
/// Small problems use one task per batch item that visits every site.
///
/// Every output pixel therefore has one owner, which adds its contributions in the reference's
/// order (site `q, m`, then entry `a, e`): results are bit-identical to the serial reference and
/// independent of scheduling and of the split.
struct BandPlan {
    /// One task: its batch item, its rows, and its sites.
    struct Task {
        let b: Int
        /// First row of the band; a row `r` is owned when `UInt(bitPattern: r &- rowLo) < rowCount`
        /// (so −1, "reads zero", never is).
        let rowLo: Int
        let rowCount: UInt
        /// Indices into the plan's lists (or the site numbers themselves when `all`).
        let range: Range<Int>

        @inline(__always)
        func owns(_ r: Int) -> Bool { UInt(bitPattern: r &- rowLo) < rowCount }
    }

    let batch: Int, frames: Int, sitesPerItem: Int, height: Int
    let bands: Int, bandRows: Int
    /// When true, one task per batch item visits all of the item's sites.
    let all: Bool
    /// `starts[key] ..< starts[key + 1]` indexes `lists`, `key = (b · frames + t) · bands + band`.
    let starts: [Int]
    /// Site numbers (within the batch item) of each key, increasing.
    let lists: [Int]

    var tasks: Int { all ? batch : batch * frames * bands }

    @inline(__always)
    func task(_ i: Int) -> Task {
        if all { return Task(b: i, rowLo: 0, rowCount: UInt(height), range: 0..<sitesPerItem) }
        let perItem = frames &* bands
        let b = i / perItem, band = i % bands
        return Task(b: b, rowLo: band &* bandRows, rowCount: UInt(bandRows), range: starts[i]..<starts[i &+ 1])
    }

    /// Plans `batch` items of `frames` frames and `sitesPerItem` sites each, `work` units of work
    /// per site.
    init(table: FastSiteTable, batch: Int, frames: Int, sitesPerItem: Int, geometry fg: FastGeometry, work: Int,
         tuning: FastTuning) {
        self.batch = batch
        self.frames = frames
        self.sitesPerItem = sitesPerItem
        let H = fg.height, N = sitesPerItem
        height = H
        let totalWork = batch * N * max(1, work)
        let desired = (tuning.tasks <= 1 || totalWork < tuning.minimumParallelWork) ? 1 : tuning.tasks
        if desired == 1 || N == 0 {
            all = true; bands = 1; bandRows = H; starts = []; lists = []
            return
        }
        all = false
        // Bands at least half a patch span tall, so a site touches at most about three of them.
        let planes = batch * frames
        let span = fg.maxOffset - fg.minOffset + 1
        var bands = max(1, (desired + planes - 1) / planes)
        bands = min(bands, max(1, H / max(2, (span + 1) / 2)))
        let bandRows = (H + bands - 1) / bands
        bands = (H + bandRows - 1) / bandRows
        self.bands = bands
        self.bandRows = bandRows
        let keys = frames * bands

        // Count, per (item, chunk of sites, key), the sites touching the key.
        let chunks = max(1, min(N, (tuning.tasks + batch - 1) / batch,
                                N * max(1, work) / max(1, tuning.minimumParallelWork)))
        let chunkSize = (N + chunks - 1) / chunks
        var cursors = [Int](repeating: 0, count: batch * chunks * keys)
        let T = table
        // Calls `visit(s, key)` for every band key touched by site s of chunk i, sites in increasing
        // order: the counting pass and the filling pass walk the sites the same way.
        @inline(__always)
        func walk(_ i: Int, _ visit: (Int, Int) -> Void) {
            let b = i / chunks, j = i % chunks
            let lo = j * chunkSize, hi = min(N, lo + chunkSize)
            if lo >= hi { return }
            let scratch = fg.makeScratch()
            defer { scratch.deallocate() }
            for s in lo..<hi {
                let o = T.offset(b, s)
                let t = Int(T.base[o])
                guard t >= 0 else { continue }
                let (r0, r1) = scratch.rowSpan(Int(T.base[o &+ 1]), length: H)
                if r1 < r0 { continue }
                let base = t &* bands
                for band in (r0 / bandRows)...(r1 / bandRows) { visit(s, base &+ band) }
            }
        }
        cursors.withUnsafeMutableBufferPointer { cp in
            let counts = cp.baseAddress!
            fastParallelFor(batch * chunks) { i in
                let row = counts + i &* keys
                walk(i) { _, key in row[key] &+= 1 }
            }
        }
        // Prefix sums: lists ordered by (item, frame, band, chunk); counts become write cursors.
        var starts = [Int](repeating: 0, count: batch * keys + 1)
        var total = 0
        for b in 0..<batch {
            for key in 0..<keys {
                starts[b * keys + key] = total
                for j in 0..<chunks {
                    let k = (b * chunks + j) * keys + key
                    let c = cursors[k]
                    cursors[k] = total
                    total += c
                }
            }
        }
        starts[batch * keys] = total
        self.starts = starts
        lists = [Int](unsafeUninitializedCapacity: max(total, 1)) { buffer, initialized in
            let out = buffer.baseAddress!
            cursors.withUnsafeMutableBufferPointer { cp in
                let cursor = cp.baseAddress!
                fastParallelFor(batch * chunks) { i in
                    let row = cursor + i &* keys
                    walk(i) { s, key in
                        out[row[key]] = s
                        row[key] &+= 1
                    }
                }
            }
            if total == 0 { out.initialize(to: 0) }
            initialized = max(total, 1)
        }
    }
}

// MARK: - Small vector loops

/// `d[e] += w · x[e]` for `e < n`, four lanes at a time. Element-wise, so every `d[e]` gets the
/// same bits as the scalar loop (no fused multiply-add, no reordering). `d` must not overlap `x`.
@inline(__always)
func fastAxpy(_ d: UnsafeMutablePointer<Float>, _ w: Float, _ x: UnsafePointer<Float>, _ n: Int) {
    var e = 0
    while e &+ 4 <= n {
        let xv = UnsafeRawPointer(x + e).loadUnaligned(as: SIMD4<Float>.self)
        let dv = UnsafeRawPointer(d + e).loadUnaligned(as: SIMD4<Float>.self)
        UnsafeMutableRawPointer(d + e).storeBytes(of: dv + w * xv, as: SIMD4<Float>.self)
        e &+= 4
    }
    while e < n { d[e] += w * x[e]; e &+= 1 }
}

/// `d[e] += w · (x[e] − y[e])` for `e < n` (element-wise, bit-identical to the scalar loop).
@inline(__always)
func fastAddScaledDifference(_ d: UnsafeMutablePointer<Float>, _ w: Float, _ x: UnsafePointer<Float>,
                             _ y: UnsafePointer<Float>, _ n: Int) {
    var e = 0
    while e &+ 4 <= n {
        let xv = UnsafeRawPointer(x + e).loadUnaligned(as: SIMD4<Float>.self)
        let yv = UnsafeRawPointer(y + e).loadUnaligned(as: SIMD4<Float>.self)
        let dv = UnsafeRawPointer(d + e).loadUnaligned(as: SIMD4<Float>.self)
        UnsafeMutableRawPointer(d + e).storeBytes(of: dv + w * (xv - yv), as: SIMD4<Float>.self)
        e &+= 4
    }
    while e < n { d[e] += w * (x[e] - y[e]); e &+= 1 }
}

/// `d[e] += w` for `e < n` (element-wise, bit-identical to the scalar loop).
@inline(__always)
func fastAddScalar(_ d: UnsafeMutablePointer<Float>, _ w: Float, _ n: Int) {
    var e = 0
    let wv = SIMD4<Float>(repeating: w)
    while e &+ 4 <= n {
        let dv = UnsafeRawPointer(d + e).loadUnaligned(as: SIMD4<Float>.self)
        UnsafeMutableRawPointer(d + e).storeBytes(of: dv + wv, as: SIMD4<Float>.self)
        e &+= 4
    }
    while e < n { d[e] += w; e &+= 1 }
}

/// Copies `n` floats from `x` to uninitialised-or-not `d` (trivial type), four at a time.
@inline(__always)
func fastCopy(_ d: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) {
    var e = 0
    while e &+ 4 <= n {
        UnsafeMutableRawPointer(d + e).storeBytes(of: UnsafeRawPointer(x + e).loadUnaligned(as: SIMD4<Float>.self),
                                                  as: SIMD4<Float>.self)
        e &+= 4
    }
    while e < n { (d + e).initialize(to: x[e]); e &+= 1 }
}
