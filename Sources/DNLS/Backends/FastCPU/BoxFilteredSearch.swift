/// Search of one chunk by box filtering, with or without flow.
///
/// For a displacement `(di, dj)` every query of a group compares its patch with the patch
/// displaced by the same amount, so the per-pixel terms `D(y, x) = Σ_c (q(y, x) − k(y + di, x + dj))²`
/// (or `q·k`) are shared: each query's distance is the sum of `D` over its patch footprint, taken
/// as a separable box filter (rows, then columns, in steps of the dilation). Borders are resolved
/// once per group into padded tiles, so the inner loops are contiguous and branch-free.
///
/// Without flow every window is centred on its query and the whole chunk is one group, the
/// displacements being the window's offsets. With flow, a query's window in frame n is centred
/// where the flow chain leads (whole pixels), so its displacements are that centre's shift plus
/// the window's offsets: a group box-filters the union of its queries' displacements and each
/// query takes only those of its own window (in enumeration order, as the ranking's ties need).
/// Consecutive queries form a group while that union stays within ``maxUnionFactor`` times one
/// window; wilder flows make smaller groups, down to one query a group.
struct BoxFilteredSearch {
    let problem: SearchProblem<Float>
    let chunk: SearchChunk

    /// The largest union of a group's displacements, in windows (of side (ws − 1)·stride + 1).
    static let maxUnionFactor = 4

    func run(into out: SearchOutput) {
        let p = problem, s = p.shape, window = p.window, queries = chunk.queries
        let range = window.frameRange(queryFrame: chunk.frame, videoFrames: s.frames)
        let top = p.k.map { TopK(queries: queries.count, k: $0) }
        defer { top?.deallocate() }
        // Each query's window centre in each frame slot: centres[qi * slots + slot].
        let slots = range.count
        var centres = [Position](repeating: Position(t: 0, h: 0, w: 0), count: queries.count * slots)
        if p.flows.isZero {
            for (qi, q) in queries.enumerated() {
                for slot in 0..<slots {
                    centres[qi * slots + slot] = Position(t: window.frame(slot: slot, queryFrame: chunk.frame, range: range),
                                                          h: q.h, w: q.w)
                }
            }
        } else {
            let chain = FlowChain(p.flows, frames: s.frames, height: s.height, width: s.width)
            var own = [Position](repeating: Position(t: 0, h: 0, w: 0), count: slots)
            for (qi, q) in queries.enumerated() {
                chain.centres(batch: chunk.batch, query: Position(t: chunk.frame, h: q.h, w: q.w), window: window,
                              range: range, into: &own)
                for slot in 0..<slots { centres[qi * slots + slot] = own[slot] }
            }
        }
        var tiles = Tiles()
        defer { tiles.deallocate() }
        for slot in 0..<slots {
            let n = window.frame(slot: slot, queryFrame: chunk.frame, range: range)
            let shifts = queries.indices.map { qi in
                (h: centres[qi * slots + slot].h - queries[qi].h, w: centres[qi * slots + slot].w - queries[qi].w)
            }
            for group in groups(shifts) {
                searchGroup(group, slot: slot, frame: n, shifts: shifts, top: top, tiles: &tiles, into: out)
            }
        }
        guard let top else { return }
        for (qi, q) in queries.enumerated() {
            for r in 0..<Int(top.filled[qi]) {
                let e = Int(top.enumerations[qi * top.k + r])
                let (slot, i, j) = CandidateNumber.position(of: e, windowSize: window.size)
                let centre = centres[qi * slots + slot]
                p.store(out, batch: chunk.batch, query: q.number, slot: r, distance: p.key(top.keys[qi * top.k + r]),
                        at: Position(t: centre.t, h: centre.h + window.offset(i), w: centre.w + window.offset(j)))
            }
        }
    }

    /// Consecutive runs of the chunk's queries whose displacements' union stays within
    /// ``maxUnionFactor`` windows (the whole chunk when every shift is the same).
    private func groups(_ shifts: [(h: Int, w: Int)]) -> [Range<Int>] {
        let side = problem.window.offset(problem.window.size - 1) - problem.window.offset(0) + 1
        let limit = Self.maxUnionFactor * side * side
        var result: [Range<Int>] = [], start = 0
        var h0 = Int.max, h1 = Int.min, w0 = Int.max, w1 = Int.min
        for (qi, shift) in shifts.enumerated() {
            let nh0 = min(h0, shift.h), nh1 = max(h1, shift.h), nw0 = min(w0, shift.w), nw1 = max(w1, shift.w)
            if qi > start, (nh1 - nh0 + side) * (nw1 - nw0 + side) > limit {
                result.append(start..<qi)
                start = qi
                (h0, h1, w0, w1) = (shift.h, shift.h, shift.w, shift.w)
            } else {
                (h0, h1, w0, w1) = (nh0, nh1, nw0, nw1)
            }
        }
        result.append(start..<shifts.count)
        return result
    }

    /// Scratch of one chunk's groups, grown on demand.
    struct Tiles {
        var query = Buffer(), keys = Buffer(), diff = Buffer(), rowSums = Buffer(), boxSums = Buffer()
        /// The query tile's origin and extent when filled (nil: not yet), to reuse it.
        var filled: (y0: Int, ny: Int, x0: Int, nx: Int)?

        struct Buffer {
            var pointer = UnsafeMutablePointer<Float>.allocate(capacity: 0), capacity = 0
            mutating func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
                if count > capacity {
                    pointer.deallocate()
                    pointer = .allocate(capacity: count)
                    capacity = count
                }
                return pointer
            }
        }

        func deallocate() {
            for b in [query, keys, diff, rowSums, boxSums] { b.pointer.deallocate() }
        }
    }

    /// The candidates of frame slot `slot` (frame `frame`) of the queries of `group`, each query's
    /// window displaced by its shift.
    private func searchGroup(_ group: Range<Int>, slot: Int, frame n: Int, shifts: [(h: Int, w: Int)], top: TopK?,
                             tiles: inout Tiles, into out: SearchOutput) {
        let p = problem, s = p.shape, g = p.geometry, window = p.window, queries = chunk.queries
        let C = p.channels, H = s.height, W = s.width, dil = g.dilation, ps = g.patchSize
        let ws = window.size, wstride = window.stride, dmin = window.offset(0)
        // Bounding box of the group's query positions (queries are sorted by row).
        let hq0 = queries[group.lowerBound].h, hq1 = queries[group.upperBound - 1].h
        var wq0 = Int.max, wq1 = Int.min, sh0 = Int.max, sh1 = Int.min, sw0 = Int.max, sw1 = Int.min
        for qi in group {
            wq0 = min(wq0, queries[qi].w); wq1 = max(wq1, queries[qi].w)
            sh0 = min(sh0, shifts[qi].h); sh1 = max(sh1, shifts[qi].h)
            sw0 = min(sw0, shifts[qi].w); sw1 = max(sw1, shifts[qi].w)
        }
        let nqy = hq1 - hq0 + 1, nqx = wq1 - wq0 + 1
        // Pixels read by the query patches: the box grown by the patch span.
        let ny = nqy + g.span - 1, nx = nqx + g.span - 1
        let y0 = hq0 + g.offset(0), x0 = wq0 + g.offset(0)
        // Displacements of the group: the union of its queries' shifts plus the window's offsets,
        // as flags over [rowMin, rowMin + rowSpan) and [colMin, colMin + colSpan).
        let reach = window.offset(ws - 1) - dmin
        let rowMin = sh0 + dmin, rowSpan = sh1 - sh0 + reach + 1
        let colMin = sw0 + dmin, colSpan = sw1 - sw0 + reach + 1
        var rowUsed = [Bool](repeating: false, count: rowSpan), colUsed = [Bool](repeating: false, count: colSpan)
        for qi in group {
            for i in 0..<ws {
                rowUsed[shifts[qi].h + window.offset(i) - rowMin] = true
                colUsed[shifts[qi].w + window.offset(i) - colMin] = true
            }
        }
        // Pixels read by the candidate patches: grown again by the displacements' reach.
        let nky = ny + rowSpan - 1, nkx = nx + colSpan - 1

        let qTile = tiles.query.reserve(C * ny * nx), kTile = tiles.keys.reserve(C * nky * nkx)
        let diff = tiles.diff.reserve(ny * nx), rowSums = tiles.rowSums.reserve(ny * nqx)
        let boxSums = tiles.boxSums.reserve(nqy * nqx)
        let frameBase = { (t: Int) in ((chunk.batch * s.frames + t) * s.channels) * H * W }
        if tiles.filled.map({ $0 != (y0, ny, x0, nx) }) ?? true {
            fillTile(qTile, from: p.video, base: frameBase(chunk.frame), rows: y0, ny, columns: x0, nx)
            tiles.filled = (y0, ny, x0, nx)
        }
        fillTile(kTile, from: p.keys, base: frameBase(n), rows: y0 + rowMin, nky, columns: x0 + colMin, nkx)

        // Each query's cell in the box-sum image, and its shift from the group's least (so that
        // displacement (ry, cx) is window offset (ry − rowBase, cx − colBase) of the query).
        let cells = group.map { (queries[$0].h - hq0) * nqx + (queries[$0].w - wq0) }
        let rowBase = group.map { shifts[$0].h - sh0 }, colBase = group.map { shifts[$0].w - sw0 }
        let uniform = sh0 == sh1 && sw0 == sw1  // every window displaced alike (always without flow)
        // The window index of an offset o from the window's first (o in 0...reach), or −1.
        let windowIndex = (0...reach).map { $0 % wstride == 0 ? $0 / wstride : -1 }
        let sign: Float = p.metric == .l2 ? 1 : -1
        for ry in 0..<rowSpan where rowUsed[ry] {
            let di = rowMin + ry
            if hq1 + di < 0 || hq0 + di >= H { continue }
            for cx in 0..<colSpan where colUsed[cx] {
                let dj = colMin + cx
                if wq1 + dj < 0 || wq0 + dj >= W { continue }
                differences(diff, qTile, kTile, channels: C, ny: ny, nx: nx, nky: nky, nkx: nkx,
                            rowShift: ry, columnShift: cx)
                for y in 0..<ny {
                    boxSum(rowSums + y * nqx, diff + y * nx, count: nqx, taps: ps, step: dil)
                }
                for y in 0..<nqy {
                    boxSum(boxSums + y * nqx, rowSums + y * nqx, count: nqx, taps: ps, step: dil * nqx)
                }
                // Candidate (h + di, w + dj) is in the frame for h in rows, w in columns.
                let rows = max(0, -di)..<min(H, H - di), columns = max(0, -dj)..<min(W, W - dj)
                if uniform {
                    // One window offset for every query of the group.
                    let i = windowIndex[ry], j = windowIndex[cx]
                    let enumeration = CandidateNumber.of(slot: slot, row: i, col: j, windowSize: ws)
                    if let top {
                        for (gi, qi) in group.enumerated() where rows.contains(queries[qi].h) && columns.contains(queries[qi].w) {
                            top.offer(qi, key: sign * boxSums[cells[gi]], enumeration: Int32(enumeration))
                        }
                    } else {
                        for (gi, qi) in group.enumerated() where rows.contains(queries[qi].h) && columns.contains(queries[qi].w) {
                            let q = queries[qi]
                            p.store(out, batch: chunk.batch, query: q.number, slot: enumeration, distance: boxSums[cells[gi]],
                                    at: Position(t: n, h: q.h + di, w: q.w + dj))
                        }
                    }
                    continue
                }
                for (gi, qi) in group.enumerated() {
                    let oy = ry - rowBase[gi], ox = cx - colBase[gi]
                    guard oy >= 0, oy <= reach, ox >= 0, ox <= reach else { continue }
                    let i = windowIndex[oy], j = windowIndex[ox], q = queries[qi]
                    guard i >= 0, j >= 0, rows.contains(q.h), columns.contains(q.w) else { continue }
                    let enumeration = CandidateNumber.of(slot: slot, row: i, col: j, windowSize: ws)
                    if let top {
                        top.offer(qi, key: sign * boxSums[cells[gi]], enumeration: Int32(enumeration))
                    } else {
                        p.store(out, batch: chunk.batch, query: q.number, slot: enumeration, distance: boxSums[cells[gi]],
                                at: Position(t: n, h: q.h + di, w: q.w + dj))
                    }
                }
            }
        }
    }

    /// Copies the first `channels` channels of a frame into a tile of `ny × nx` pixels starting at
    /// `(y0, x0)`, resolving the border once (zero where nothing is read).
    private func fillTile(_ tile: UnsafeMutablePointer<Float>, from video: [Float], base: Int,
                          rows y0: Int, _ ny: Int, columns x0: Int, _ nx: Int) {
        let s = problem.shape, border = problem.geometry.border, H = s.height, W = s.width
        let columns = (0..<nx).map { border.resolve(x0 + $0, length: W) }
        video.withUnsafeBufferPointer { v in
            for c in 0..<problem.channels {
                for y in 0..<ny {
                    let row = border.resolve(y0 + y, length: H)
                    let dst = tile + (c * ny + y) * nx
                    guard row >= 0 else { dst.update(repeating: 0, count: nx); continue }
                    let src = v.baseAddress! + base + (c * H + row) * W
                    for x in 0..<nx {
                        let col = columns[x]
                        dst[x] = col >= 0 ? src[col] : 0
                    }
                }
            }
        }
    }

    /// `diff(y, x) = Σ_c term(q(c, y, x), k(c, y + rowShift, x + columnShift))`.
    private func differences(_ diff: UnsafeMutablePointer<Float>, _ q: UnsafeMutablePointer<Float>,
                             _ k: UnsafeMutablePointer<Float>, channels: Int, ny: Int, nx: Int, nky: Int, nkx: Int,
                             rowShift: Int, columnShift: Int) {
        let l2 = problem.metric == .l2
        for y in 0..<ny {
            let d = diff + y * nx
            for c in 0..<channels {
                let qRow = q + (c * ny + y) * nx
                let kRow = k + (c * nky + y + rowShift) * nkx + columnShift
                var x = 0
                if l2 {
                    while x + 8 <= nx {
                        let t = load8(qRow + x) - load8(kRow + x)
                        store8(c == 0 ? t * t : load8(d + x) + t * t, d + x)
                        x += 8
                    }
                    while x < nx {
                        let t = qRow[x] - kRow[x]
                        d[x] = c == 0 ? t * t : d[x] + t * t
                        x += 1
                    }
                } else {
                    while x + 8 <= nx {
                        let t = load8(qRow + x) * load8(kRow + x)
                        store8(c == 0 ? t : load8(d + x) + t, d + x)
                        x += 8
                    }
                    while x < nx {
                        let t = qRow[x] * kRow[x]
                        d[x] = c == 0 ? t : d[x] + t
                        x += 1
                    }
                }
            }
        }
    }
}

/// `dst[x] = Σ_{t < taps} src[x + t·step]` for `x < count`.
@inline(__always)
func boxSum(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafeMutablePointer<Float>, count: Int, taps: Int, step: Int) {
    var x = 0
    while x + 8 <= count {
        var acc = load8(src + x)
        var t = 1
        while t < taps { acc += load8(src + x + t * step); t += 1 }
        store8(acc, dst + x)
        x += 8
    }
    while x < count {
        var acc = src[x]
        var t = 1
        while t < taps { acc += src[x + t * step]; t += 1 }
        dst[x] = acc
        x += 1
    }
}

@inline(__always)
func load8(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}
