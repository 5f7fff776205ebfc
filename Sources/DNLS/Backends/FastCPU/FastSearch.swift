import Dispatch

/// Fast CPU patch search.
///
/// Queries are grouped by batch item and frame, sorted into row bands, and cut into chunks that
/// run on all cores; each chunk owns its queries' output rows, so results do not depend on
/// scheduling. Within a chunk, queries whose windows are displaced alike share each displacement's
/// per-pixel difference image, so their distances come from a box filter over it
/// (``BoxFilteredSearch``): O(C + 2·ps) work per query and candidate instead of O(C·ps²). Without
/// flow that is the whole chunk; with flow, runs of queries whose flow-moved windows overlap.
func fastSearch(_ problem: SearchProblem<Float>) -> (distances: [Float], indices: [Int32]) {
    let s = problem.shape, Q = problem.queries.count, slots = problem.slots
    var distances = [Float](repeating: problem.emptyDistance, count: s.batch * Q * slots)
    var indices = [Int32](repeating: -1, count: s.batch * Q * slots * 3)
    let chunks = SearchChunk.partition(problem)
    distances.withUnsafeMutableBufferPointer { d in
        indices.withUnsafeMutableBufferPointer { i in
            let out = SearchOutput(distances: d.baseAddress!, indices: i.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: chunks.count) { c in
                BoxFilteredSearch(problem: problem, chunk: chunks[c]).run(into: out)
            }
        }
    }
    return (distances, indices)
}

/// Output arrays of a search, written by chunks that own disjoint query rows.
struct SearchOutput: @unchecked Sendable {
    let distances: UnsafeMutablePointer<Float>
    let indices: UnsafeMutablePointer<Int32>
}

/// A query of a chunk: its number within the batch and its position.
struct ChunkQuery {
    let number: Int
    let h: Int, w: Int
}

/// Queries of one batch item and one frame, in row-major position order.
struct SearchChunk: Sendable {
    let batch: Int
    let frame: Int
    let queries: [ChunkQuery]

    /// Splits a problem's queries into chunks of one (batch item, frame), ordered by row then
    /// column so that each chunk covers a compact band, and sized to keep every core busy.
    static func partition(_ problem: SearchProblem<Float>) -> [SearchChunk] {
        let s = problem.shape, Q = problem.queries.count
        var chunks: [SearchChunk] = []
        let target = max(64, min(2048, (s.batch * Q) / (8 * max(1, activeProcessorCount()))))
        for b in 0..<s.batch {
            var byFrame = [[ChunkQuery]](repeating: [], count: s.frames)
            for q in 0..<Q {
                let p = problem.queries.position(batch: b, q)
                byFrame[p.t].append(ChunkQuery(number: q, h: p.h, w: p.w))
            }
            for (t, var list) in byFrame.enumerated() where !list.isEmpty {
                list.sort { ($0.h, $0.w, $0.number) < ($1.h, $1.w, $1.number) }
                var start = 0
                while start < list.count {
                    var end = min(list.count, start + target)
                    // Finish the row, so that chunks are whole rows of queries when possible.
                    while end < list.count, list[end].h == list[end - 1].h, end - start < 2 * target { end += 1 }
                    chunks.append(SearchChunk(batch: b, frame: t, queries: Array(list[start..<end])))
                    start = end
                }
            }
        }
        return chunks
    }
}

/// The best `k` candidates of each query of a chunk, kept sorted as they stream in.
///
/// Keys are distances for L2 and negated similarities for inner product, so smaller is always
/// better; ties go to the earlier enumeration number and NaN ranks after every number. Candidates
/// must be offered in increasing enumeration order, which lets a full list reject a key that is
/// not strictly smaller than its worst with one comparison (``threshold``).
struct TopK {
    let k: Int
    let keys: UnsafeMutablePointer<Float>
    let enumerations: UnsafeMutablePointer<Int32>
    let filled: UnsafeMutablePointer<Int32>
    /// Per query: the worst kept key once the list is full, NaN before (so nothing is rejected).
    let threshold: UnsafeMutablePointer<Float>

    init(queries: Int, k: Int) {
        self.k = k
        keys = .allocate(capacity: queries * k)
        enumerations = .allocate(capacity: queries * k)
        filled = .allocate(capacity: queries)
        filled.initialize(repeating: 0, count: queries)
        threshold = .allocate(capacity: queries)
        threshold.initialize(repeating: .nan, count: queries)
    }

    func deallocate() {
        keys.deallocate(); enumerations.deallocate(); filled.deallocate(); threshold.deallocate()
    }

    @inline(__always)
    static func ahead(_ ka: Float, _ ea: Int32, of kb: Float, _ eb: Int32) -> Bool {
        Float.ranksAhead(ka, Int(ea), of: kb, Int(eb))
    }

    /// Offers candidate `enumeration` with `key` to query `q`.
    @inline(__always)
    func offer(_ q: Int, key: Float, enumeration: Int32) {
        if key >= threshold[q] { return }
        insert(q, key: key, enumeration: enumeration)
    }

    private func insert(_ q: Int, key: Float, enumeration: Int32) {
        let base = keys + q * k, order = enumerations + q * k
        let n = Int(filled[q])
        if n == k {
            if !TopK.ahead(key, enumeration, of: base[k - 1], order[k - 1]) { return }
        } else {
            filled[q] = Int32(n + 1)
        }
        var slot = min(n, k - 1)
        while slot > 0, TopK.ahead(key, enumeration, of: base[slot - 1], order[slot - 1]) {
            base[slot] = base[slot - 1]
            order[slot] = order[slot - 1]
            slot -= 1
        }
        base[slot] = key
        order[slot] = enumeration
        if Int(filled[q]) == k { threshold[q] = base[k - 1] }
    }
}

extension SearchProblem where Scalar == Float {
    /// Writes one output slot: distance and the `(t, h, w)` of the candidate.
    @inline(__always)
    func store(_ out: SearchOutput, batch b: Int, query q: Int, slot: Int, distance: Float, at p: Position) {
        let o = (b * queries.count + q) * slots + slot
        out.distances[o] = distance
        out.indices[3 * o] = Int32(p.t)
        out.indices[3 * o + 1] = Int32(p.h)
        out.indices[3 * o + 2] = Int32(p.w)
    }

    /// Key of a score for ``TopK`` (smaller is better) and back.
    @inline(__always)
    func key(_ score: Float) -> Float { metric == .l2 ? score : -score }
}

/// Number of cores the scheduler can use.
func activeProcessorCount() -> Int {
    #if canImport(Glibc)
    return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    #else
    return 1
    #endif
}

#if canImport(Glibc)
import Glibc
#endif
