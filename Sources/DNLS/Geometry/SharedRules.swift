internal import CDNLSKernels

/// The rules of `dnls_rules.h`, the header the CUDA kernels compile, for the CPU backends: a flow
/// hop and the ranking of two search candidates in the scalar's own precision. `Float` calls the
/// header's float functions, so a Float search on the CPU hops and ranks exactly as the kernels
/// do; `Double` calls its double ones.
extension PatchScalar {
    /// One hop of the flow chain: `clamp(floor(x + d + 0.5), 0, last)`, with `x` and `last`
    /// integers held in this type.
    @inline(__always)
    static func flowHop(_ x: Self, _ d: Self, last: Self) -> Self {
        if Self.self == Float.self {
            return unsafeBitCast(dnls_flow_hop(unsafeBitCast(x, to: Float.self), unsafeBitCast(d, to: Float.self),
                                               unsafeBitCast(last, to: Float.self)), to: Self.self)
        }
        return Self(dnls_flow_hop_double(Double(x), Double(d), Double(last)))
    }

    /// Whether candidate `(ka, ea)` ranks ahead of `(kb, eb)`: the smaller key (a distance, or a
    /// negated similarity), ties to the smaller candidate number, NaN after every number.
    @inline(__always)
    static func ranksAhead(_ ka: Self, _ ea: Int, of kb: Self, _ eb: Int) -> Bool {
        if Self.self == Float.self {
            return dnls_ahead(unsafeBitCast(ka, to: Float.self), Int64(ea), unsafeBitCast(kb, to: Float.self), Int64(eb))
        }
        return dnls_ahead_double(Double(ka), Int64(ea), Double(kb), Int64(eb))
    }
}

/// Candidate numbering (`dnls_rules.h`): frame slot by frame slot of the visiting order, then
/// window row, then window column.
enum CandidateNumber {
    /// The number of the candidate at window row `row`, column `col` of frame slot `slot`.
    @inline(__always)
    static func of(slot: Int, row: Int, col: Int, windowSize ws: Int) -> Int {
        Int(dnls_candidate_number(Int32(truncatingIfNeeded: slot), Int32(truncatingIfNeeded: row),
                                  Int32(truncatingIfNeeded: col), Int32(truncatingIfNeeded: ws)))
    }

    /// The frame slot, window row and column of candidate `number`.
    @inline(__always)
    static func position(of number: Int, windowSize ws: Int) -> (slot: Int, row: Int, col: Int) {
        let c = dnls_candidate(Int32(truncatingIfNeeded: number), Int32(truncatingIfNeeded: ws))
        return (Int(c.slot), Int(c.row), Int(c.col))
    }
}
