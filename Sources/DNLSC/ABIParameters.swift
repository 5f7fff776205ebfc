import CDNLSABI
import DNLS

extension PatchGeometry {
    /// The geometry a caller's `DNLSGeometry` describes.
    init(_ pointer: UnsafePointer<DNLSGeometry>?) throws(DNLSError) {
        guard let g = pointer?.pointee else {
            throw .invalidArgument(argument: "geometry", expected: "a geometry", actual: "a null pointer")
        }
        try self.init(g)
    }

    init(_ g: DNLSGeometry) throws(DNLSError) {
        let anchor: PatchAnchor
        switch g.anchor {
        case 0: anchor = .center
        case 1: anchor = .topLeft
        default: throw .invalidArgument(argument: "anchor", expected: "0 (center) or 1 (top-left)", actual: "\(g.anchor)")
        }
        let border: Border
        switch g.border {
        case 0: border = .reflect
        case 1: border = .zero
        default: throw .invalidArgument(argument: "border", expected: "0 (reflect) or 1 (zero)", actual: "\(g.border)")
        }
        self.init(patchSize: Int(g.patch_size), dilation: Int(g.dilation), anchor: anchor, border: border)
    }
}

extension PatchSearch {
    /// The search a caller's `DNLSSearch` describes.
    init(_ pointer: UnsafePointer<DNLSSearch>?) throws(DNLSError) {
        guard let s = pointer?.pointee else {
            throw .invalidArgument(argument: "search", expected: "search parameters", actual: "a null pointer")
        }
        let metric: SearchMetric
        switch s.metric {
        case 0: metric = .l2
        case 1: metric = .innerProduct
        default: throw .invalidArgument(argument: "metric", expected: "0 (L2) or 1 (inner product)", actual: "\(s.metric)")
        }
        self.init(geometry: try PatchGeometry(s.geometry),
                  window: SearchWindow(size: Int(s.window_size), stride: Int(s.window_stride),
                                       temporalRadius: Int(s.temporal_radius)),
                  k: s.k > 0 ? Int(s.k) : nil, metric: metric, channels: s.channels > 0 ? Int(s.channels) : nil)
    }
}

/// A caller's `DNLSQueries`: a batch of a grid, or explicit positions.
enum ABIQueries {
    case grid(QueryGrid, batch: Range<Int>)
    case positions(ABITensor)

    init(_ pointer: UnsafePointer<DNLSQueries>?, geometry: PatchGeometry) throws(DNLSError) {
        guard let q = pointer?.pointee else {
            throw .invalidArgument(argument: "queries", expected: "queries", actual: "a null pointer")
        }
        switch q.kind {
        case 0:
            guard q.t0 < q.t1, q.top < q.bottom, q.left < q.right else {
                throw .invalidArgument(argument: "grid.region", expected: "a non-empty region t0 < t1, top < bottom, left < right",
                                       actual: "[\(q.t0), \(q.t1)) × [\(q.top), \(q.bottom)) × [\(q.left), \(q.right))")
            }
            let region = Region(frames: Int(q.t0)..<Int(q.t1), rows: Int(q.top)..<Int(q.bottom),
                                columns: Int(q.left)..<Int(q.right))
            let grid = q.full_patches != 0
                ? try QueryGrid(region: region, stride: Int(q.stride), fullPatchesOf: geometry)
                : try QueryGrid(region: region, stride: Int(q.stride))
            let start = Int(q.start), end = q.count < 0 ? grid.count : Int(q.start) &+ Int(q.count)
            guard start >= 0, start <= end, end <= grid.count else {
                throw .outOfRange(argument: "grid.batch", value: "queries \(q.start) ..< \(q.count < 0 ? "the end" : "\(end)")",
                                  valid: "the grid's 0 ..< \(grid.count)")
            }
            self = .grid(grid, batch: start..<end)
        case 1:
            self = .positions(try ABITensor(required: q.positions, "queries"))
        default:
            throw .invalidArgument(argument: "queries.kind", expected: "0 (grid) or 1 (positions)", actual: "\(q.kind)")
        }
    }

    /// The queries for an operation (positions read as `Int32`).
    func queries(planning: Bool) throws(DNLSError) -> Queries {
        switch self {
        case let .grid(grid, batch): return .grid(grid, batch: batch)
        case let .positions(tensor): return .positions(try tensor.input(Int32.self, planning: planning))
        }
    }

    /// The grid of a fold or unfold, which take no explicit positions.
    func grid() throws(DNLSError) -> (QueryGrid, Range<Int>) {
        guard case let .grid(grid, batch) = self else {
            throw .invalidArgument(argument: "grid", expected: "a query grid (kind 0)", actual: "explicit positions")
        }
        return (grid, batch)
    }

    var device: Device? {
        if case let .positions(t) = self { return t.device }
        return nil
    }
}
