/// Search of one chunk when windows follow optical flow, so each query has its own window
/// centres: every candidate's distance is summed directly, a window row at a time.
///
/// The query patch is gathered once; for each visited frame the window's pixels are resolved
/// into a padded tile, and the sums for a whole window row accumulate together (contiguous in the
/// tile when the window stride is 1). Sums run in the reference's order (channel, row, column).
struct DirectSearch {
    let problem: SearchProblem<Float>
    let chunk: SearchChunk

    func run(into out: SearchOutput) {
        let p = problem, s = p.shape, g = p.geometry, window = p.window
        let C = p.channels, H = s.height, W = s.width, ps = g.patchSize
        let ws = window.size, wstride = window.stride
        let side = (ws - 1) * wstride + g.span
        let range = window.frameRange(queryFrame: chunk.frame, videoFrames: s.frames)
        let chain = FlowChain(p.flows, frames: s.frames, height: H, width: W)
        let l2 = p.metric == .l2

        let patch = UnsafeMutablePointer<Float>.allocate(capacity: C * ps * ps)
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: C * side * side + 8)
        tile.initialize(repeating: 0, count: C * side * side + 8)
        // Padded so that 8-wide loads past the last window column stay inside the allocations.
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: ws + 8)
        defer { patch.deallocate(); tile.deallocate(); sums.deallocate() }
        var centres = [Position](repeating: Position(t: 0, h: 0, w: 0), count: range.count)
        var columns = [Int](repeating: 0, count: side)
        let top = p.k.map { TopK(queries: chunk.queries.count, k: $0) }
        defer { top?.deallocate() }

        p.video.withUnsafeBufferPointer { video in
        p.keys.withUnsafeBufferPointer { keys in
            for (qi, q) in chunk.queries.enumerated() {
                // The query patch, in (channel, row, column) order.
                for c in 0..<C {
                    let plane = video.baseAddress! + ((chunk.batch * s.frames + chunk.frame) * s.channels + c) * H * W
                    for a in 0..<ps {
                        let row = g.border.resolve(q.h + g.offset(a), length: H)
                        for e in 0..<ps {
                            let col = g.border.resolve(q.w + g.offset(e), length: W)
                            patch[(c * ps + a) * ps + e] = row >= 0 && col >= 0 ? plane[row * W + col] : 0
                        }
                    }
                }
                chain.centres(batch: chunk.batch, query: Position(t: chunk.frame, h: q.h, w: q.w), window: window,
                              range: range, into: &centres)
                for slot in 0..<range.count {
                    let centre = centres[slot]
                    // Tile origin: the top-left pixel read by the window's top-left candidate.
                    let ty = centre.h + window.offset(0) + g.offset(0), tx = centre.w + window.offset(0) + g.offset(0)
                    for x in 0..<side { columns[x] = g.border.resolve(tx + x, length: W) }
                    for c in 0..<C {
                        let plane = keys.baseAddress! + ((chunk.batch * s.frames + centre.t) * s.channels + c) * H * W
                        for y in 0..<side {
                            let row = g.border.resolve(ty + y, length: H)
                            let dst = tile + (c * side + y) * side
                            guard row >= 0 else { dst.update(repeating: 0, count: side); continue }
                            for x in 0..<side { dst[x] = columns[x] >= 0 ? plane[row * W + columns[x]] : 0 }
                        }
                    }
                    for i in 0..<ws {
                        let h = centre.h + window.offset(i)
                        guard h >= 0, h < H else { continue }
                        windowRowSums(sums, patch: patch, tile: tile + i * wstride * side, channels: C, side: side, l2: l2)
                        for j in 0..<ws {
                            let w = centre.w + window.offset(j)
                            guard w >= 0, w < W else { continue }
                            let enumeration = CandidateNumber.of(slot: slot, row: i, col: j, windowSize: ws)
                            if let top {
                                top.offer(qi, key: p.key(sums[j]), enumeration: Int32(enumeration))
                            } else {
                                p.store(out, batch: chunk.batch, query: q.number, slot: enumeration, distance: sums[j],
                                        at: Position(t: centre.t, h: h, w: w))
                            }
                        }
                    }
                }
                guard let top else { continue }
                for r in 0..<Int(top.filled[qi]) {
                    let e = Int(top.enumerations[qi * top.k + r])
                    let (slot, i, j) = CandidateNumber.position(of: e, windowSize: ws)
                    let centre = centres[slot]
                    p.store(out, batch: chunk.batch, query: q.number, slot: r, distance: p.key(top.keys[qi * top.k + r]),
                            at: Position(t: centre.t, h: centre.h + window.offset(i), w: centre.w + window.offset(j)))
                }
            }
        }
        }
    }

    /// Distances of the `ws` candidates of one window row: `sums[j] = Σ_{c,a,e} term(patch[c,a,e],
    /// tile[c, a·dil, j·stride + e·dil])`, summed in (channel, row, column) order for every `j`.
    /// With window stride 1 the candidates are neighbours in the tile and go 8 at a time.
    @inline(__always)
    private func windowRowSums(_ sums: UnsafeMutablePointer<Float>, patch: UnsafeMutablePointer<Float>,
                               tile: UnsafeMutablePointer<Float>, channels: Int, side: Int, l2: Bool) {
        let ps = problem.geometry.patchSize, dil = problem.geometry.dilation
        let ws = problem.window.size, wstride = problem.window.stride
        if wstride == 1 {
            var j0 = 0
            while j0 < ws {
                var acc = SIMD8<Float>(repeating: 0)
                for c in 0..<channels {
                    for a in 0..<ps {
                        let row = tile + (c * side + a * dil) * side + j0
                        let weights = patch + (c * ps + a) * ps
                        for e in 0..<ps {
                            let v = SIMD8<Float>(repeating: weights[e])
                            let k = load8(row + e * dil)
                            if l2 { let t = v - k; acc += t * t } else { acc += v * k }
                        }
                    }
                }
                store8(acc, sums + j0)
                j0 += 8
            }
            return
        }
        sums.update(repeating: 0, count: ws)
        for c in 0..<channels {
            for a in 0..<ps {
                let row = tile + (c * side + a * dil) * side
                for e in 0..<ps {
                    let v = patch[(c * ps + a) * ps + e]
                    let src = row + e * dil
                    if l2 {
                        for j in 0..<ws { let t = v - src[j * wstride]; sums[j] += t * t }
                    } else {
                        for j in 0..<ws { sums[j] += v * src[j * wstride] }
                    }
                }
            }
        }
    }
}
