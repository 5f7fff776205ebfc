import DNLS

/// Compares a search result with the reference backend's result of the same search and returns
/// the first disagreement as a sentence, or `nil` when they agree.
///
/// - With `wholeWindow` `nil`, both are whole-window results (k = nil): every slot must hold the
///   same neighbour, with distances within `tolerance`.
/// - Otherwise both are top-K results and `wholeWindow` is the reference's whole-window result
///   for the same queries. Ties and near-ties may resolve differently between summation orders,
///   so slots are not compared neighbour by neighbour. Instead: empty slots match, each query's
///   sorted distances agree, no neighbour is returned twice, and every returned neighbour is a
///   candidate of the window whose reference distance is the one returned.
///
/// Results on a GPU are copied to the host first.
package func searchMismatch<S: PatchScalar>(_ got: SearchResult<S>, _ want: SearchResult<S>,
                                            wholeWindow table: SearchResult<S>?, metric: SearchMetric,
                                            tolerance: Tolerance) throws(DNLSError) -> String? {
    guard got.distances.shape == want.distances.shape, got.indices.shape == want.indices.shape else {
        return "shapes \(got.distances.shape) / \(got.indices.shape) against \(want.distances.shape) / \(want.indices.shape)"
    }
    let slots = got.distances.shape.last ?? 0
    let rows = slots == 0 ? 0 : got.distances.count / slots
    let gd = try got.distances.to(.cpu).scalars.map(Double.init), gi = try got.indices.to(.cpu).scalars
    let wd = try want.distances.to(.cpu).scalars.map(Double.init), wi = try want.indices.to(.cpu).scalars
    func position(_ i: [Int32], _ o: Int) -> [Int32] { [i[3 * o], i[3 * o + 1], i[3 * o + 2]] }

    guard let table else {
        for o in 0..<(rows * slots) {
            if position(gi, o) != position(wi, o) {
                return "slot \(o): neighbour \(position(gi, o)), reference \(position(wi, o))"
            }
            if !tolerance.accepts(gd[o], wd[o]) { return "slot \(o): distance \(gd[o]), reference \(wd[o])" }
        }
        return nil
    }
    let candidates = table.distances.shape.last ?? 0
    let td = try table.distances.to(.cpu).scalars.map(Double.init), ti = try table.indices.to(.cpu).scalars
    let ahead: (Double, Double) -> Bool = metric == .l2 ? { $0 < $1 } : { $0 > $1 }
    for row in 0..<rows {
        var truth: [[Int32]: Double] = [:]
        for e in 0..<candidates where ti[3 * (row * candidates + e)] >= 0 {
            truth[position(ti, row * candidates + e)] = td[row * candidates + e]
        }
        var returned = Set<[Int32]>()
        for m in 0..<slots {
            let o = row * slots + m
            let empty = gi[3 * o] < 0
            guard empty == (wi[3 * o] < 0) else {
                return "query row \(row) slot \(m): \(empty ? "empty" : "a neighbour"), reference \(empty ? "a neighbour" : "empty")"
            }
            if empty {
                if gd[o] != wd[o] { return "query row \(row) slot \(m): empty slot holds \(gd[o]), reference \(wd[o])" }
                continue
            }
            let p = position(gi, o)
            guard returned.insert(p).inserted else { return "query row \(row): neighbour \(p) returned twice" }
            guard let d = truth[p] else { return "query row \(row) slot \(m): neighbour \(p) is not in the window" }
            if !tolerance.accepts(gd[o], d) {
                return "query row \(row) slot \(m): neighbour \(p) has distance \(d), not \(gd[o])"
            }
        }
        let mine = gd[(row * slots)..<((row + 1) * slots)].sorted(by: ahead)
        let theirs = wd[(row * slots)..<((row + 1) * slots)].sorted(by: ahead)
        if let m = tolerance.firstMismatch(mine, theirs) {
            return "query row \(row): sorted distance \(m) is \(mine[m]), reference \(theirs[m])"
        }
    }
    return nil
}
