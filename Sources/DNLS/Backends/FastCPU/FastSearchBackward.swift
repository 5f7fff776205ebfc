/// Fast CPU backward of the patch search: gradients of `Σ gradient · distance` w.r.t. the query
/// video and the key video.
///
/// Both gradients are scatter-adds, split into the (item, frame, row band) tasks of two
/// ``BandPlan``s: video-gradient tasks own rows of the query video and visit the queries whose
/// patch touches them (then every neighbour slot in order); key-gradient tasks own rows of the
/// key video and visit the neighbours whose patch touches them. Each pixel has one owner that adds
/// in the reference's order (q, m, a, e), so both results are bit-identical to
/// ``ReferenceBackend``.
func fastSearchBackward(_ problem: SearchProblem<Float>, indices: [Int32], gradient: [Float], tuning: FastTuning)
    -> (video: [Float], keys: [Float])
{
    let s = problem.shape, slots = problem.slots, Q = problem.queries.count, B = s.batch
    var gradVideo = [Float](repeating: 0, count: s.count)
    var gradKeys = [Float](repeating: 0, count: s.count)
    let N = Q * slots
    let channels = problem.channels
    guard B * N > 0, channels > 0 else { return (gradVideo, gradKeys) }
    let pp = problem.geometry.patchSize * problem.geometry.patchSize
    let fg = FastGeometry(problem.geometry, height: s.height, width: s.width)

    withQueryTable(problem.queries, tuning: tuning) { queryTable in
        indices.withUnsafeBufferPointer { ib in
            let neighbourTable = FastSiteTable(base: ib.baseAddress!, batchStride: N * 3)
            let planV = BandPlan(table: queryTable, batch: B, frames: s.frames, sitesPerItem: Q, geometry: fg,
                                 work: slots * channels * pp, tuning: tuning)
            let planK = BandPlan(table: neighbourTable, batch: B, frames: s.frames, sitesPerItem: N, geometry: fg,
                                 work: channels * pp, tuning: tuning)
            problem.video.withUnsafeBufferPointer { vb in
                problem.keys.withUnsafeBufferPointer { kb in
                    gradient.withUnsafeBufferPointer { gb in
                        gradVideo.withUnsafeMutableBufferPointer { gvb in
                            gradKeys.withUnsafeMutableBufferPointer { gkb in
                                planV.lists.withUnsafeBufferPointer { lvb in
                                    planK.lists.withUnsafeBufferPointer { lkb in
                                        let kernel = SearchBackwardKernel(
                                            video: vb.baseAddress!, keys: kb.baseAddress!, gradient: gb.baseAddress!,
                                            gradVideo: gvb.baseAddress!, gradKeys: gkb.baseAddress!,
                                            queries: queryTable, neighbours: neighbourTable, shape: s,
                                            queryCount: Q, slots: slots, channels: channels,
                                            l2: problem.metric == .l2, unit: fg.unitStep)
                                        fastParallelFor(planV.tasks + planK.tasks) { task in
                                            let scratch = fg.makeScratch()
                                            defer { scratch.deallocate() }
                                            if task < planV.tasks {
                                                kernel.videoTask(planV.task(task), plan: planV, lists: lvb.baseAddress,
                                                                 scratch)
                                            } else {
                                                kernel.keysTask(planK.task(task - planV.tasks), plan: planK,
                                                                lists: lkb.baseAddress, scratch)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return (gradVideo, gradKeys)
}

/// The two task bodies of ``fastSearchBackward``. Tasks read `video`, `keys`, `gradient` and the
/// tables, and each writes only the pixels of its own (item, frame, row band).
private struct SearchBackwardKernel {
    let video: UnsafePointer<Float>, keys: UnsafePointer<Float>, gradient: UnsafePointer<Float>
    let gradVideo: UnsafeMutablePointer<Float>, gradKeys: UnsafeMutablePointer<Float>
    let queries: FastSiteTable, neighbours: FastSiteTable
    let shape: VideoShape
    let queryCount: Int, slots: Int, channels: Int
    let l2: Bool, unit: Bool

    /// Gradient w.r.t. the query video on the rows of `job`: every query touching them, every
    /// non-empty slot in order, every entry: `2g(v0 − v1)` (L2) or `g·v1` (inner product).
    @inline(__always)
    func videoTask(_ job: BandPlan.Task, plan: BandPlan, lists: UnsafePointer<Int>?, _ sc: AxisScratch) {
        let b = job.b, ps = sc.patchSize
        let C = shape.channels, T = shape.frames, H = shape.height, W = shape.width, HW = H * W
        let rows0 = sc.rows0, cols0 = sc.cols0, rows1 = sc.rows1, cols1 = sc.cols1
        for i in job.range {
            let q = plan.all ? i : lists![i]
            let po = queries.offset(b, q)
            let pt = Int(queries.base[po])
            if pt < 0 { continue }
            _ = sc.resolve(Int(queries.base[po &+ 1]), length: H, into: rows0)
            let inside0 = sc.resolve(Int(queries.base[po &+ 2]), length: W, into: cols0)
            let frame0 = (b &* T &+ pt) &* C &* HW
            for m in 0..<slots {
                let o = (b &* queryCount &+ q) &* slots &+ m
                let n = neighbours.offset(b, q &* slots &+ m)
                let t1 = Int(neighbours.base[n])
                if t1 < 0 { continue }
                _ = sc.resolve(Int(neighbours.base[n &+ 1]), length: H, into: rows1)
                let fast = sc.resolve(Int(neighbours.base[n &+ 2]), length: W, into: cols1) && inside0 && unit
                let weight = gradient[o], w2 = 2 * weight
                let frame1 = (b &* T &+ t1) &* C &* HW
                for c in 0..<channels {
                    let plane0 = frame0 &+ c &* HW, plane1 = frame1 &+ c &* HW
                    for a in 0..<ps {
                        let r0 = rows0[a]
                        if !job.owns(r0) { continue }
                        let r1 = rows1[a]
                        let row0 = plane0 &+ r0 &* W
                        let dst = gradVideo + row0, src0 = video + row0
                        if fast && r1 >= 0 {
                            let d = dst + cols0[0], x0 = src0 + cols0[0]
                            let x1 = keys + (plane1 &+ r1 &* W &+ cols1[0])
                            if l2 { fastAddScaledDifference(d, w2, x0, x1, ps) } else { fastAxpy(d, weight, x1, ps) }
                        } else {
                            let src1 = keys + (plane1 &+ max(r1, 0) &* W)
                            for e in 0..<ps {
                                let col0 = cols0[e]
                                if col0 < 0 { continue }
                                let col1 = cols1[e]
                                let v0 = src0[col0]
                                let v1: Float = (r1 >= 0 && col1 >= 0) ? src1[col1] : 0
                                if l2 { dst[col0] += w2 * (v0 - v1) } else { dst[col0] += weight * v1 }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Gradient w.r.t. the key video on the rows of `job`: every non-empty neighbour touching
    /// them, in order: `−2g(v0 − v1)` (L2) or `g·v0` (inner product).
    @inline(__always)
    func keysTask(_ job: BandPlan.Task, plan: BandPlan, lists: UnsafePointer<Int>?, _ sc: AxisScratch) {
        let b = job.b, ps = sc.patchSize
        let C = shape.channels, T = shape.frames, H = shape.height, W = shape.width, HW = H * W
        let rows0 = sc.rows0, cols0 = sc.cols0, rows1 = sc.rows1, cols1 = sc.cols1
        for i in job.range {
            let site = plan.all ? i : lists![i]
            let n = neighbours.offset(b, site)
            let t1 = Int(neighbours.base[n])
            if t1 < 0 { continue }
            let po = queries.offset(b, site / slots)
            let pt = Int(queries.base[po])
            if pt < 0 { continue }
            _ = sc.resolve(Int(neighbours.base[n &+ 1]), length: H, into: rows1)
            let inside1 = sc.resolve(Int(neighbours.base[n &+ 2]), length: W, into: cols1)
            _ = sc.resolve(Int(queries.base[po &+ 1]), length: H, into: rows0)
            let fast = sc.resolve(Int(queries.base[po &+ 2]), length: W, into: cols0) && inside1 && unit
            let weight = gradient[b &* queryCount &* slots &+ site], w2 = 2 * weight
            let frame0 = (b &* T &+ pt) &* C &* HW, frame1 = (b &* T &+ t1) &* C &* HW
            for c in 0..<channels {
                let plane0 = frame0 &+ c &* HW, plane1 = frame1 &+ c &* HW
                for a in 0..<ps {
                    let r1 = rows1[a]
                    if !job.owns(r1) { continue }
                    let r0 = rows0[a]
                    let row1 = plane1 &+ r1 &* W
                    let dst = gradKeys + row1, src1 = keys + row1
                    if fast && r0 >= 0 {
                        let d = dst + cols1[0], x1 = src1 + cols1[0]
                        let x0 = video + (plane0 &+ r0 &* W &+ cols0[0])
                        // d − w2·(x0 − x1) as d + (−w2)·(x0 − x1): negation is exact, so the same bits.
                        if l2 { fastAddScaledDifference(d, -w2, x0, x1, ps) } else { fastAxpy(d, weight, x0, ps) }
                    } else {
                        let src0 = video + (plane0 &+ max(r0, 0) &* W)
                        for e in 0..<ps {
                            let col1 = cols1[e]
                            if col1 < 0 { continue }
                            let col0 = cols0[e]
                            let v1 = src1[col1]
                            let v0: Float = (r0 >= 0 && col0 >= 0) ? src0[col0] : 0
                            if l2 { dst[col1] -= w2 * (v0 - v1) } else { dst[col1] += weight * v0 }
                        }
                    }
                }
            }
        }
    }
}
