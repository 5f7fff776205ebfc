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
        let C = p.channels, H = s.height, W = s.width, ps = g.patchSize, dil = g.dilation
        let ws = window.size, wstride = window.stride
        let side = (ws - 1) * wstride + g.span
        let range = window.frameRange(queryFrame: chunk.frame, videoFrames: s.frames)
        let perFrame = ws * ws
        let chain = FlowChain(p.flows, frames: s.frames, height: H, width: W)
        let l2 = p.metric == .l2

        let patch = UnsafeMutablePointer<Float>.allocate(capacity: C * ps * ps)
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: C * side * side)
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: ws)
        defer { patch.deallocate(); tile.deallocate(); sums.deallocate() }
        var centres = [Position](repeating: Position(t: 0, h: 0, w: 0), count: range.count)
        var columns = [Int](repeating: 0, count: side)
        var top = p.k.map { TopK(queries: 1, k: $0) }

        p.video.withUnsafeBufferPointer { video in
        p.keys.withUnsafeBufferPointer { keys in
            for q in chunk.queries {
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
                if top != nil { top = TopK(queries: 1, k: top!.k) }
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
                        sums.update(repeating: 0, count: ws)
                        for c in 0..<C {
                            for a in 0..<ps {
                                let tileRow = tile + (c * side + i * wstride + a * dil) * side
                                for e in 0..<ps {
                                    let v = patch[(c * ps + a) * ps + e]
                                    let src = tileRow + e * dil
                                    if l2 {
                                        for j in 0..<ws { let t = v - src[j * wstride]; sums[j] += t * t }
                                    } else {
                                        for j in 0..<ws { sums[j] += v * src[j * wstride] }
                                    }
                                }
                            }
                        }
                        for j in 0..<ws {
                            let w = centre.w + window.offset(j)
                            guard w >= 0, w < W else { continue }
                            let enumeration = slot * perFrame + i * ws + j
                            if top != nil {
                                top!.offer(0, key: p.key(sums[j]), enumeration: Int32(enumeration))
                            } else {
                                p.store(out, batch: chunk.batch, query: q.number, slot: enumeration, distance: sums[j],
                                        at: Position(t: centre.t, h: h, w: w))
                            }
                        }
                    }
                }
                guard let top else { continue }
                for r in 0..<Int(top.filled[0]) {
                    let e = Int(top.enumerations[r])
                    let slot = e / perFrame, i = (e % perFrame) / ws, j = e % ws
                    let centre = centres[slot]
                    p.store(out, batch: chunk.batch, query: q.number, slot: r, distance: p.key(top.keys[r]),
                            at: Position(t: centre.t, h: centre.h + window.offset(i), w: centre.w + window.offset(j)))
                }
            }
        }
        }
    }
}
