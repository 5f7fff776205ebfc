/// Search of one chunk when every window is centred on its query (no flow).
///
/// For a window offset `(di, dj)` every query of the chunk compares its patch with the patch
/// displaced by the same offset, so the per-pixel terms `D(y, x) = Σ_c (q(y, x) − k(y + di, x + dj))²`
/// (or `q·k`) are shared: each query's distance is the sum of `D` over its patch footprint, taken
/// as a separable box filter (rows, then columns, in steps of the dilation). Borders are resolved
/// once per chunk into padded tiles, so the inner loops are contiguous and branch-free.
struct BoxFilteredSearch {
    let problem: SearchProblem<Float>
    let chunk: SearchChunk

    func run(into out: SearchOutput) {
        let p = problem, s = p.shape, g = p.geometry, window = p.window
        let C = p.channels, H = s.height, W = s.width, dil = g.dilation, ps = g.patchSize
        let queries = chunk.queries
        // Bounding box of the chunk's query positions (queries are sorted by row).
        let hq0 = queries.first!.h, hq1 = queries.last!.h
        var wq0 = Int.max, wq1 = Int.min
        for q in queries { wq0 = min(wq0, q.w); wq1 = max(wq1, q.w) }
        let nqy = hq1 - hq0 + 1, nqx = wq1 - wq0 + 1
        // Pixels read by the query patches: the box grown by the patch span.
        let ny = nqy + g.span - 1, nx = nqx + g.span - 1
        let y0 = hq0 + g.offset(0), x0 = wq0 + g.offset(0)
        // Pixels read by the candidate patches: grown again by the window's reach.
        let dmin = window.offset(0), reach = window.offset(window.size - 1) - dmin
        let nky = ny + reach, nkx = nx + reach

        let qTile = UnsafeMutablePointer<Float>.allocate(capacity: C * ny * nx)
        let kTile = UnsafeMutablePointer<Float>.allocate(capacity: C * nky * nkx)
        let diff = UnsafeMutablePointer<Float>.allocate(capacity: ny * nx)
        let rowSums = UnsafeMutablePointer<Float>.allocate(capacity: ny * nqx)
        let boxSums = UnsafeMutablePointer<Float>.allocate(capacity: nqy * nqx)
        defer { qTile.deallocate(); kTile.deallocate(); diff.deallocate(); rowSums.deallocate(); boxSums.deallocate() }

        let frameBase = { (t: Int) in ((chunk.batch * s.frames + t) * s.channels) * H * W }
        fillTile(qTile, from: p.video, base: frameBase(chunk.frame), rows: y0, ny, columns: x0, nx)

        let top = p.k.map { TopK(queries: queries.count, k: $0) }
        defer { top?.deallocate() }
        // Each query's cell in the box-sum image.
        let cells = queries.map { ($0.h - hq0) * nqx + ($0.w - wq0) }
        let range = window.frameRange(queryFrame: chunk.frame, videoFrames: s.frames)
        for slot in 0..<range.count {
            let n = window.frame(slot: slot, queryFrame: chunk.frame, range: range)
            fillTile(kTile, from: p.keys, base: frameBase(n), rows: y0 + dmin, nky, columns: x0 + dmin, nkx)
            for i in 0..<window.size {
                let di = window.offset(i)
                if hq1 + di < 0 || hq0 + di >= H { continue }
                for j in 0..<window.size {
                    let dj = window.offset(j)
                    if wq1 + dj < 0 || wq0 + dj >= W { continue }
                    differences(diff, qTile, kTile, channels: C, ny: ny, nx: nx, nky: nky, nkx: nkx,
                                rowShift: di - dmin, columnShift: dj - dmin)
                    for y in 0..<ny {
                        boxSum(rowSums + y * nqx, diff + y * nx, count: nqx, taps: ps, step: dil)
                    }
                    for y in 0..<nqy {
                        boxSum(boxSums + y * nqx, rowSums + y * nqx, count: nqx, taps: ps, step: dil * nqx)
                    }
                    let enumeration = CandidateNumber.of(slot: slot, row: i, col: j, windowSize: window.size)
                    // Candidate (h + di, w + dj) is in the frame for h in rows, w in columns.
                    let rows = max(0, -di)..<min(H, H - di), columns = max(0, -dj)..<min(W, W - dj)
                    if let top {
                        let sign: Float = p.metric == .l2 ? 1 : -1
                        for qi in 0..<queries.count {
                            let q = queries[qi]
                            guard rows.contains(q.h), columns.contains(q.w) else { continue }
                            top.offer(qi, key: sign * boxSums[cells[qi]], enumeration: Int32(enumeration))
                        }
                        continue
                    }
                    for (qi, q) in queries.enumerated() {
                        let h = q.h + di, w = q.w + dj
                        guard h >= 0, h < H, w >= 0, w < W else { continue }
                        p.store(out, batch: chunk.batch, query: q.number, slot: enumeration, distance: boxSums[cells[qi]],
                                at: Position(t: n, h: h, w: w))
                    }
                }
            }
        }
        guard let top else { return }
        for (qi, q) in queries.enumerated() {
            for r in 0..<Int(top.filled[qi]) {
                let e = Int(top.enumerations[qi * top.k + r])
                let (slot, i, j) = CandidateNumber.position(of: e, windowSize: window.size)
                let n = window.frame(slot: slot, queryFrame: chunk.frame, range: range)
                p.store(out, batch: chunk.batch, query: q.number, slot: r, distance: p.key(top.keys[qi * top.k + r]),
                        at: Position(t: n, h: q.h + window.offset(i), w: q.w + window.offset(j)))
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
