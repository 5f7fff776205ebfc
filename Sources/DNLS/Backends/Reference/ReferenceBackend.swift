/// The reference backend: plain loops written for clarity, generic over `Float` and `Double`.
///
/// It is the oracle of every test: each other backend must agree with it within Float32
/// rounding. Loops run in the order (batch, query, neighbour, channel, row, column), so its sums
/// are also the serial order that deterministic backends reproduce.
struct ReferenceBackend<Scalar: PatchScalar>: HostPatchKernels {

    /// Video value at a patch sample, zero where the border rule reads nothing.
    @inline(__always)
    func sample(_ video: [Scalar], _ s: VideoShape, _ b: Int, _ t: Int, _ c: Int, _ y: Int, _ x: Int,
                _ border: Border) -> Scalar {
        let i = location(s, b, t, c, y, x, border)
        return i < 0 ? 0 : video[i]
    }

    /// Flat index of the pixel a patch sample reads, or −1 when it reads zero.
    @inline(__always)
    func location(_ s: VideoShape, _ b: Int, _ t: Int, _ c: Int, _ y: Int, _ x: Int, _ border: Border) -> Int {
        let r = border.resolve(y, length: s.height), col = border.resolve(x, length: s.width)
        return (r < 0 || col < 0) ? -1 : s.index(b, t, c, r, col)
    }

    // MARK: search

    /// Distance between the patch at `p` in `video` and the patch at `n` in `keys`.
    func distance(_ problem: SearchProblem<Scalar>, _ b: Int, _ p: Position, _ n: Position) -> Scalar {
        let g = problem.geometry, s = problem.shape
        var d: Scalar = 0
        for c in 0..<problem.channels {
            for a in 0..<g.patchSize {
                for e in 0..<g.patchSize {
                    let v0 = sample(problem.video, s, b, p.t, c, p.h + g.offset(a), p.w + g.offset(e), g.border)
                    let v1 = sample(problem.keys, s, b, n.t, c, n.h + g.offset(a), n.w + g.offset(e), g.border)
                    switch problem.metric {
                    case .l2: d += (v0 - v1) * (v0 - v1)
                    case .innerProduct: d += v0 * v1
                    }
                }
            }
        }
        return d
    }

    /// Every candidate of a query in enumeration order: position, or `nil` when outside the frame.
    func candidates(_ problem: SearchProblem<Scalar>, chain: FlowChain<Scalar>, _ b: Int, _ q: Position) -> [Position?] {
        let s = problem.shape, window = problem.window
        let range = window.frameRange(queryFrame: q.t, videoFrames: s.frames)
        var centres = [Position](repeating: q, count: range.count)
        chain.centres(batch: b, query: q, window: window, range: range, into: &centres)
        var list: [Position?] = []
        for centre in centres {
            for i in 0..<window.size {
                for j in 0..<window.size {
                    let h = centre.h + window.offset(i), w = centre.w + window.offset(j)
                    let inside = h >= 0 && h < s.height && w >= 0 && w < s.width
                    list.append(inside ? Position(t: centre.t, h: h, w: w) : nil)
                }
            }
        }
        return list
    }

    func search(_ problem: SearchProblem<Scalar>) -> (distances: [Scalar], indices: [Int32]) {
        let s = problem.shape, slots = problem.slots, Q = problem.queries.count
        let chain = FlowChain(problem.flows, frames: s.frames, height: s.height, width: s.width)
        var distances = [Scalar](repeating: problem.emptyDistance, count: s.batch * Q * slots)
        var indices = [Int32](repeating: -1, count: s.batch * Q * slots * 3)
        for b in 0..<s.batch {
            for q in 0..<Q {
                let p = problem.queries.position(batch: b, q)
                let scored = candidates(problem, chain: chain, b, p).enumerated().compactMap { e, n in
                    n.map { (enumeration: e, position: $0, distance: distance(problem, b, p, $0)) }
                }
                let kept: [(enumeration: Int, position: Position, distance: Scalar)]
                if problem.k == nil {
                    kept = scored // whole window: stored at their enumeration slot below
                } else {
                    kept = Array(scored.sorted {
                        problem.ranksAhead($0.distance, $0.enumeration, of: $1.distance, $1.enumeration)
                    }.prefix(slots))
                }
                for (rank, entry) in kept.enumerated() {
                    let slot = problem.k == nil ? entry.enumeration : rank
                    let o = (b * Q + q) * slots + slot
                    distances[o] = entry.distance
                    indices[3 * o] = Int32(entry.position.t)
                    indices[3 * o + 1] = Int32(entry.position.h)
                    indices[3 * o + 2] = Int32(entry.position.w)
                }
            }
        }
        return (distances, indices)
    }

    func searchBackward(_ problem: SearchProblem<Scalar>, indices: [Int32], gradient: [Scalar])
        -> (video: [Scalar], keys: [Scalar])
    {
        let s = problem.shape, g = problem.geometry, slots = problem.slots, Q = problem.queries.count
        var gradVideo = [Scalar](repeating: 0, count: s.count)
        var gradKeys = [Scalar](repeating: 0, count: s.count)
        for b in 0..<s.batch {
            for q in 0..<Q {
                let p = problem.queries.position(batch: b, q)
                for m in 0..<slots {
                    let o = (b * Q + q) * slots + m
                    guard indices[3 * o] >= 0 else { continue }
                    let n = Position(t: Int(indices[3 * o]), h: Int(indices[3 * o + 1]), w: Int(indices[3 * o + 2]))
                    let weight = gradient[o]
                    for c in 0..<problem.channels {
                        for a in 0..<g.patchSize {
                            for e in 0..<g.patchSize {
                                let l0 = location(s, b, p.t, c, p.h + g.offset(a), p.w + g.offset(e), g.border)
                                let l1 = location(s, b, n.t, c, n.h + g.offset(a), n.w + g.offset(e), g.border)
                                let v0 = l0 < 0 ? 0 : problem.video[l0]
                                let v1 = l1 < 0 ? 0 : problem.keys[l1]
                                switch problem.metric {
                                case .l2:
                                    let delta = 2 * weight * (v0 - v1)
                                    if l0 >= 0 { gradVideo[l0] += delta }
                                    if l1 >= 0 { gradKeys[l1] -= delta }
                                case .innerProduct:
                                    if l0 >= 0 { gradVideo[l0] += weight * v1 }
                                    if l1 >= 0 { gradKeys[l1] += weight * v0 }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (gradVideo, gradKeys)
    }

    // MARK: patches

    func extract(_ video: [Scalar], shape s: VideoShape, sites: PatchSites, geometry g: PatchGeometry) -> [Scalar] {
        let ps = g.patchSize
        var patches = [Scalar](repeating: 0, count: s.batch * sites.queries * sites.k * s.channels * ps * ps)
        var o = 0
        for b in 0..<s.batch {
            for q in 0..<sites.queries {
                for m in 0..<sites.k {
                    let p = sites.site(b, q, m)
                    for c in 0..<s.channels {
                        for a in 0..<ps {
                            for e in 0..<ps {
                                if p.t >= 0 {
                                    patches[o] = sample(video, s, b, p.t, c, p.h + g.offset(a), p.w + g.offset(e), g.border)
                                }
                                o += 1
                            }
                        }
                    }
                }
            }
        }
        return patches
    }

    func deposit(_ patches: [Scalar], weights: [Scalar]?, sites: PatchSites, geometry g: PatchGeometry,
                 into video: inout [Scalar], shape s: VideoShape, weightSum: inout [Scalar]?)
    {
        let ps = g.patchSize
        let counts = VideoShape(batch: s.batch, frames: s.frames, channels: 1, height: s.height, width: s.width, batched: true)
        var o = 0
        for b in 0..<s.batch {
            for q in 0..<sites.queries {
                for m in 0..<sites.k {
                    let p = sites.site(b, q, m)
                    let weight = weights?[(b * sites.queries + q) * sites.k + m] ?? 1
                    for c in 0..<s.channels {
                        for a in 0..<ps {
                            for e in 0..<ps {
                                defer { o += 1 }
                                guard p.t >= 0 else { continue }
                                let l = location(s, b, p.t, c, p.h + g.offset(a), p.w + g.offset(e), g.border)
                                guard l >= 0 else { continue }
                                video[l] += weight * patches[o]
                                if c == 0, weightSum != nil {
                                    weightSum![location(counts, b, p.t, 0, p.h + g.offset(a), p.w + g.offset(e), g.border)] += weight
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    func weightedSum(_ video: [Scalar], shape s: VideoShape, weights: [Scalar], sites: PatchSites,
                     geometry g: PatchGeometry) -> [Scalar]
    {
        let ps = g.patchSize, entries = s.channels * ps * ps
        var out = [Scalar](repeating: 0, count: s.batch * sites.queries * entries)
        for b in 0..<s.batch {
            for q in 0..<sites.queries {
                for m in 0..<sites.k {
                    let p = sites.site(b, q, m)
                    guard p.t >= 0 else { continue }
                    let weight = weights[(b * sites.queries + q) * sites.k + m]
                    var o = (b * sites.queries + q) * entries
                    for c in 0..<s.channels {
                        for a in 0..<ps {
                            for e in 0..<ps {
                                out[o] += weight * sample(video, s, b, p.t, c, p.h + g.offset(a), p.w + g.offset(e), g.border)
                                o += 1
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    func weightedSumBackward(_ video: [Scalar], shape s: VideoShape, weights: [Scalar], sites: PatchSites,
                             geometry g: PatchGeometry, gradient: [Scalar]) -> (video: [Scalar], weights: [Scalar])
    {
        let ps = g.patchSize, entries = s.channels * ps * ps
        var gradVideo = [Scalar](repeating: 0, count: s.count)
        var gradWeights = [Scalar](repeating: 0, count: weights.count)
        for b in 0..<s.batch {
            for q in 0..<sites.queries {
                for m in 0..<sites.k {
                    let p = sites.site(b, q, m)
                    guard p.t >= 0 else { continue }
                    let w = (b * sites.queries + q) * sites.k + m
                    var o = (b * sites.queries + q) * entries
                    for c in 0..<s.channels {
                        for a in 0..<ps {
                            for e in 0..<ps {
                                defer { o += 1 }
                                let l = location(s, b, p.t, c, p.h + g.offset(a), p.w + g.offset(e), g.border)
                                guard l >= 0 else { continue }
                                gradVideo[l] += weights[w] * gradient[o]
                                gradWeights[w] += gradient[o] * video[l]
                            }
                        }
                    }
                }
            }
        }
        return (gradVideo, gradWeights)
    }
}

/// ``ReferenceBackend`` for `Float`, as a concrete type so that its loops are specialised.
struct FloatReferenceBackend: HostPatchKernels {
    typealias Scalar = Float
    private let reference = ReferenceBackend<Float>()

    func search(_ problem: SearchProblem<Float>) -> (distances: [Float], indices: [Int32]) {
        reference.search(problem)
    }
    func searchBackward(_ problem: SearchProblem<Float>, indices: [Int32], gradient: [Float]) -> (video: [Float], keys: [Float]) {
        reference.searchBackward(problem, indices: indices, gradient: gradient)
    }
    func extract(_ video: [Float], shape: VideoShape, sites: PatchSites, geometry: PatchGeometry) -> [Float] {
        reference.extract(video, shape: shape, sites: sites, geometry: geometry)
    }
    func deposit(_ patches: [Float], weights: [Float]?, sites: PatchSites, geometry: PatchGeometry,
                 into video: inout [Float], shape: VideoShape, weightSum: inout [Float]?) {
        reference.deposit(patches, weights: weights, sites: sites, geometry: geometry, into: &video, shape: shape,
                          weightSum: &weightSum)
    }
    func weightedSum(_ video: [Float], shape: VideoShape, weights: [Float], sites: PatchSites,
                     geometry: PatchGeometry) -> [Float] {
        reference.weightedSum(video, shape: shape, weights: weights, sites: sites, geometry: geometry)
    }
    func weightedSumBackward(_ video: [Float], shape: VideoShape, weights: [Float], sites: PatchSites,
                             geometry: PatchGeometry, gradient: [Float]) -> (video: [Float], weights: [Float]) {
        reference.weightedSumBackward(video, shape: shape, weights: weights, sites: sites, geometry: geometry,
                                      gradient: gradient)
    }
}
