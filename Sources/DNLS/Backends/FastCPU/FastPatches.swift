/// Fast CPU kernels for the patch operations: extract, deposit, weighted sum and its backward.
///
/// Gather-style kernels (`extract`, `weightedSum`, the weight gradient) run in parallel over
/// chunks of queries: every output element has one writer. Scatter-add kernels (`deposit`, the
/// video gradient of the weighted sum) run in parallel over the (item, frame, row band) tasks of a
/// ``BandPlan``: every output pixel has one owner that adds in the reference's order. All of them
/// are bit-identical to ``ReferenceBackend`` for `Float`.

// MARK: - Scatter-add core

/// Adds `weight · value` entries into `video` at the sites, and `weight` into `weightSum` (one
/// `(B, T, 1, H, W)` plane) once per entry that lands in the frame, in the reference's order.
///
/// Values of site `(b, q, m)` start at `values[(b · Q + q) · queryStride + m · slotStride]`,
/// laid out `(C, ps, ps)`; the weight of the site is `weights[(b · Q + q) · K + m]` (1 if nil).
func fastScatterAdd(values: UnsafePointer<Float>, queryStride: Int, slotStride: Int,
                    weights: UnsafePointer<Float>?, table: FastSiteTable, queries Q: Int, k K: Int,
                    shape s: VideoShape, geometry fg: FastGeometry,
                    video: UnsafeMutablePointer<Float>, weightSum: UnsafeMutablePointer<Float>?,
                    tuning: FastTuning)
{
    let B = s.batch, N = Q * K
    guard B * N > 0 else { return }
    let ps = fg.patchSize, pp = ps * ps, C = s.channels, T = s.frames
    let H = s.height, W = s.width, HW = H * W
    let plan = BandPlan(table: table, batch: B, frames: T, sitesPerItem: N, geometry: fg, work: C * pp,
                        tuning: tuning)
    let unit = fg.unitStep
    plan.lists.withUnsafeBufferPointer { lp in
        let lists = lp.baseAddress
        fastParallelFor(plan.tasks) { task in
            let job = plan.task(task), b = job.b
            let sc = fg.makeScratch()
            defer { sc.deallocate() }
            let rows = sc.rows0, cols = sc.cols0
            for i in job.range {
                let site = plan.all ? i : lists![i]
                let o = table.offset(b, site)
                let t = Int(table.base[o])
                if t < 0 { continue }
                _ = sc.resolve(Int(table.base[o &+ 1]), length: H, into: rows)
                let contiguous = sc.resolve(Int(table.base[o &+ 2]), length: W, into: cols) && unit
                let q = site / K, m = site &- q &* K
                let weight: Float = weights?[b &* N &+ site] ?? 1
                let source = values + ((b &* Q &+ q) &* queryStride &+ m &* slotStride)
                let frame = video + (b &* T &+ t) &* C &* HW
                for c in 0..<C {
                    let plane = frame + c &* HW
                    let src = source + c &* pp
                    for a in 0..<ps {
                        let r = rows[a]
                        if !job.owns(r) { continue }
                        let dst = plane + r &* W
                        let row = src + a &* ps
                        if contiguous {
                            fastAxpy(dst + cols[0], weight, row, ps)
                        } else {
                            for e in 0..<ps {
                                let col = cols[e]
                                if col >= 0 { dst[col] += weight * row[e] }
                            }
                        }
                    }
                }
                if let weightSum {
                    let plane = weightSum + (b &* T &+ t) &* HW
                    for a in 0..<ps {
                        let r = rows[a]
                        if !job.owns(r) { continue }
                        let dst = plane + r &* W
                        if contiguous {
                            fastAddScalar(dst + cols[0], weight, ps)
                        } else {
                            for e in 0..<ps {
                                let col = cols[e]
                                if col >= 0 { dst[col] += weight }
                            }
                        }
                    }
                }
            }
        }
    }
}

// MARK: - Operations

/// `ReferenceBackend.extract`: pure copies, one writer per output patch.
func fastExtract(_ video: [Float], shape s: VideoShape, sites: PatchSites, geometry g: PatchGeometry,
                 tuning: FastTuning) -> [Float]
{
    let B = s.batch, Q = sites.queries, K = sites.k
    let ps = g.patchSize, C = s.channels, T = s.frames
    let H = s.height, W = s.width, HW = H * W, entries = C * ps * ps
    let total = B * Q * K * entries
    if total == 0 { return [] }
    let fg = FastGeometry(g, height: H, width: W), unit = fg.unitStep
    return withSiteTable(sites, tuning: tuning) { table in
        video.withUnsafeBufferPointer { vb in
            let vp = vb.baseAddress!
            return [Float](unsafeUninitializedCapacity: total) { buffer, initialized in
                let out = buffer.baseAddress!
                fastParallelChunks(B * Q, work: K * entries, tuning: tuning) { range in
                    let sc = fg.makeScratch()
                    defer { sc.deallocate() }
                    let rows = sc.rows0, cols = sc.cols0
                    for bq in range {
                        let b = bq / Q, q = bq &- b &* Q
                        for m in 0..<K {
                            let patch = out + (bq &* K &+ m) &* entries
                            let o = table.offset(b, q &* K &+ m)
                            let t = Int(table.base[o])
                            if t < 0 {
                                patch.initialize(repeating: 0, count: entries)
                                continue
                            }
                            _ = sc.resolve(Int(table.base[o &+ 1]), length: H, into: rows)
                            let contiguous = sc.resolve(Int(table.base[o &+ 2]), length: W, into: cols) && unit
                            let frame = vp + (b &* T &+ t) &* C &* HW
                            for c in 0..<C {
                                let plane = frame + c &* HW
                                for a in 0..<ps {
                                    let dst = patch + (c &* ps &+ a) &* ps
                                    let r = rows[a]
                                    if r < 0 {
                                        dst.initialize(repeating: 0, count: ps)
                                        continue
                                    }
                                    let src = plane + r &* W
                                    if contiguous {
                                        fastCopy(dst, src + cols[0], ps)
                                    } else {
                                        for e in 0..<ps {
                                            let col = cols[e]
                                            (dst + e).initialize(to: col >= 0 ? src[col] : 0)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                initialized = total
            }
        }
    }
}

/// `ReferenceBackend.deposit`: a scatter-add over (item, frame, row band) tasks.
func fastDeposit(_ patches: [Float], weights: [Float]?, sites: PatchSites, geometry g: PatchGeometry,
                 into video: inout [Float], shape s: VideoShape, weightSum: inout [Float]?,
                 tuning: FastTuning)
{
    guard s.batch * sites.queries * sites.k > 0 else { return }
    let fg = FastGeometry(g, height: s.height, width: s.width)
    let entries = s.channels * g.patchSize * g.patchSize
    withSiteTable(sites, tuning: tuning) { table in
        patches.withUnsafeBufferPointer { pb in
            video.withUnsafeMutableBufferPointer { vb in
                func run(_ w: UnsafePointer<Float>?, _ sum: UnsafeMutablePointer<Float>?) {
                    fastScatterAdd(values: pb.baseAddress!, queryStride: sites.k * entries, slotStride: entries,
                                   weights: w, table: table, queries: sites.queries, k: sites.k,
                                   shape: s, geometry: fg, video: vb.baseAddress!, weightSum: sum, tuning: tuning)
                }
                func withSum(_ w: UnsafePointer<Float>?) {
                    if weightSum != nil {
                        weightSum!.withUnsafeMutableBufferPointer { run(w, $0.baseAddress!) }
                    } else {
                        run(w, nil)
                    }
                }
                if let weights {
                    weights.withUnsafeBufferPointer { withSum($0.baseAddress!) }
                } else {
                    withSum(nil)
                }
            }
        }
    }
}

/// `ReferenceBackend.weightedSum`: one writer per query, neighbours added in order.
func fastWeightedSum(_ video: [Float], shape s: VideoShape, weights: [Float], sites: PatchSites,
                     geometry g: PatchGeometry, tuning: FastTuning) -> [Float]
{
    let B = s.batch, Q = sites.queries, K = sites.k
    let ps = g.patchSize, C = s.channels, T = s.frames
    let H = s.height, W = s.width, HW = H * W, entries = C * ps * ps
    let total = B * Q * entries
    if total == 0 { return [] }
    let fg = FastGeometry(g, height: H, width: W), unit = fg.unitStep
    return withSiteTable(sites, tuning: tuning) { table in
        video.withUnsafeBufferPointer { vb in
            weights.withUnsafeBufferPointer { wb in
                let vp = vb.baseAddress!, wp = wb.baseAddress
                return [Float](unsafeUninitializedCapacity: total) { buffer, initialized in
                    let out = buffer.baseAddress!
                    fastParallelChunks(B * Q, work: K * entries, tuning: tuning) { range in
                        let sc = fg.makeScratch()
                        defer { sc.deallocate() }
                        let rows = sc.rows0, cols = sc.cols0
                        let zero: Float = 0
                        for bq in range {
                            let b = bq / Q, q = bq &- b &* Q
                            let sum = out + bq &* entries
                            sum.initialize(repeating: 0, count: entries)
                            for m in 0..<K {
                                let o = table.offset(b, q &* K &+ m)
                                let t = Int(table.base[o])
                                if t < 0 { continue }
                                let weight = wp![bq &* K &+ m]
                                _ = sc.resolve(Int(table.base[o &+ 1]), length: H, into: rows)
                                let contiguous = sc.resolve(Int(table.base[o &+ 2]), length: W, into: cols) && unit
                                let frame = vp + (b &* T &+ t) &* C &* HW
                                for c in 0..<C {
                                    let plane = frame + c &* HW
                                    for a in 0..<ps {
                                        let dst = sum + (c &* ps &+ a) &* ps
                                        let r = rows[a]
                                        if r < 0 {
                                            // The reference adds weight · 0 here (NaN for an infinite weight).
                                            for e in 0..<ps { dst[e] += weight * zero }
                                            continue
                                        }
                                        let src = plane + r &* W
                                        if contiguous {
                                            fastAxpy(dst, weight, src + cols[0], ps)
                                        } else {
                                            for e in 0..<ps {
                                                let col = cols[e]
                                                let v = col >= 0 ? src[col] : zero
                                                dst[e] += weight * v
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    initialized = total
                }
            }
        }
    }
}

/// `ReferenceBackend.weightedSumBackward`: the video gradient is a scatter-add (as `deposit`,
/// the K sites of a query sharing one gradient patch); the weight gradient is one dot product per
/// `(b, q, m)`, summed in the reference's order (c, a, e). Four interior sites of a query are
/// summed side by side, each in its own serial order, to hide the latency of the additions.
func fastWeightedSumBackward(_ video: [Float], shape s: VideoShape, weights: [Float], sites: PatchSites,
                             geometry g: PatchGeometry, gradient: [Float], tuning: FastTuning)
    -> (video: [Float], weights: [Float])
{
    let B = s.batch, Q = sites.queries, K = sites.k
    let ps = g.patchSize, C = s.channels, T = s.frames
    let H = s.height, W = s.width, HW = H * W, entries = C * ps * ps
    var gradVideo = [Float](repeating: 0, count: s.count)
    guard B * Q * K > 0 else { return (gradVideo, [Float](repeating: 0, count: weights.count)) }
    let fg = FastGeometry(g, height: H, width: W), unit = fg.unitStep
    let gradWeights: [Float] = withSiteTable(sites, tuning: tuning) { table in
        video.withUnsafeBufferPointer { vb in
            weights.withUnsafeBufferPointer { wb in
                gradient.withUnsafeBufferPointer { gb in
                    let vp = vb.baseAddress!, gp = gb.baseAddress!
                    gradVideo.withUnsafeMutableBufferPointer { ob in
                        fastScatterAdd(values: gp, queryStride: entries, slotStride: 0, weights: wb.baseAddress!,
                                       table: table, queries: Q, k: K, shape: s, geometry: fg,
                                       video: ob.baseAddress!, weightSum: nil, tuning: tuning)
                    }
                    let count = B * Q * K
                    return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                        let out = buffer.baseAddress!
                        fastParallelChunks(B * Q, work: K * entries, tuning: tuning) { range in
                            let sc = fg.makeScratch()
                            defer { sc.deallocate() }
                            let rows = sc.rows0, cols = sc.cols0
                            let offsets = sc.offsets
                            for bq in range {
                                let b = bq / Q, q = bq &- b &* Q
                                let grad = gp + bq &* entries
                                /// Start (row 0 of channel 0, first column) of site m when its whole
                                /// patch is inside the frame with contiguous rows, else nil.
                                func interior(_ m: Int) -> UnsafePointer<Float>? {
                                    let o = table.offset(b, q &* K &+ m)
                                    let t = Int(table.base[o])
                                    let h = Int(table.base[o &+ 1]), w = Int(table.base[o &+ 2])
                                    guard unit, t >= 0, h &+ sc.minOffset >= 0, h &+ sc.maxOffset < H,
                                          w &+ sc.minOffset >= 0, w &+ sc.maxOffset < W else { return nil }
                                    return vp + ((b &* T &+ t) &* C &* HW &+ h &* W &+ w &+ offsets[0])
                                }
                                var m = 0
                                while m < K {
                                    if m &+ 4 <= K, let p0 = interior(m), let p1 = interior(m &+ 1),
                                       let p2 = interior(m &+ 2), let p3 = interior(m &+ 3)
                                    {
                                        var acc0: Float = 0, acc1: Float = 0, acc2: Float = 0, acc3: Float = 0
                                        for c in 0..<C {
                                            for a in 0..<ps {
                                                let shift = c &* HW &+ offsets[a] &* W
                                                let x0 = p0 + shift, x1 = p1 + shift, x2 = p2 + shift, x3 = p3 + shift
                                                let gr = grad + (c &* ps &+ a) &* ps
                                                for e in 0..<ps {
                                                    let gv = gr[e]
                                                    acc0 += gv * x0[e]
                                                    acc1 += gv * x1[e]
                                                    acc2 += gv * x2[e]
                                                    acc3 += gv * x3[e]
                                                }
                                            }
                                        }
                                        let w = bq &* K &+ m
                                        (out + w).initialize(to: acc0)
                                        (out + (w &+ 1)).initialize(to: acc1)
                                        (out + (w &+ 2)).initialize(to: acc2)
                                        (out + (w &+ 3)).initialize(to: acc3)
                                        m &+= 4
                                        continue
                                    }
                                    let w = bq &* K &+ m
                                    let o = table.offset(b, q &* K &+ m)
                                    m &+= 1
                                    let t = Int(table.base[o])
                                    if t < 0 {
                                        (out + w).initialize(to: 0)
                                        continue
                                    }
                                    _ = sc.resolve(Int(table.base[o &+ 1]), length: H, into: rows)
                                    let contiguous = sc.resolve(Int(table.base[o &+ 2]), length: W, into: cols) && unit
                                    let frame = vp + (b &* T &+ t) &* C &* HW
                                    var acc: Float = 0
                                    for c in 0..<C {
                                        let plane = frame + c &* HW
                                        for a in 0..<ps {
                                            let r = rows[a]
                                            if r < 0 { continue }
                                            let src = plane + r &* W
                                            let gr = grad + (c &* ps &+ a) &* ps
                                            if contiguous {
                                                let x = src + cols[0]
                                                for e in 0..<ps { acc += gr[e] * x[e] }
                                            } else {
                                                for e in 0..<ps {
                                                    let col = cols[e]
                                                    if col >= 0 { acc += gr[e] * src[col] }
                                                }
                                            }
                                        }
                                    }
                                    (out + w).initialize(to: acc)
                                }
                            }
                        }
                        initialized = count
                    }
                }
            }
        }
    }
    return (gradVideo, gradWeights)
}
