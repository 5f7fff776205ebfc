internal import CDNLSKernels

/// A frame, row and column position in a video.
public struct Position: Sendable, Hashable, CustomStringConvertible {
    /// Frame, row and column.
    public var t: Int, h: Int, w: Int
    /// A position from its frame, row and column.
    public init(t: Int, h: Int, w: Int) { self.t = t; self.h = h; self.w = w }
    /// `(t, h, w)`.
    public var description: String { "(\(t), \(h), \(w))" }
}

/// Patch positions on a strided grid over a ``Region``, numbered in raster order (frame, then
/// row, then column). A batch of queries is a range of these numbers.
///
/// Every frame of the region is used; rows and columns step by ``stride`` from the grid origin.
/// With ``init(region:stride:fullPatchesOf:)`` only positions whose whole patch lies inside the
/// region are kept (for a `.topLeft` anchor this is the count of `torch.nn.functional.unfold`).
public struct QueryGrid: Sendable, Hashable {
    /// The region the grid covers.
    public let region: Region
    /// Spacing of grid positions along rows and columns, at least 1.
    public let stride: Int
    /// Position of query number 0.
    public let origin: Position
    /// Number of grid frames, rows and columns.
    public let frames: Int, rows: Int, columns: Int

    /// Every `stride`-th row and column of the region, starting at its top-left corner.
    public init(region: Region, stride: Int = 1) throws(DNLSError) {
        try QueryGrid.check(region: region, stride: stride)
        self.region = region
        self.stride = stride
        origin = Position(t: region.t0, h: region.top, w: region.left)
        frames = region.t1 - region.t0
        rows = (region.bottom - region.top - 1) / stride + 1
        columns = (region.right - region.left - 1) / stride + 1
    }

    /// Only the positions whose whole patch (under `geometry`) lies inside the region, stepping by
    /// `stride` from the first such position. May be empty when the patch is larger than the region.
    public init(region: Region, stride: Int = 1, fullPatchesOf geometry: PatchGeometry) throws(DNLSError) {
        try QueryGrid.check(region: region, stride: stride)
        guard geometry.patchSize >= 1, geometry.dilation >= 1 else {
            throw .invalidArgument(argument: "geometry", expected: "patchSize ≥ 1 and dilation ≥ 1",
                                   actual: "patchSize \(geometry.patchSize), dilation \(geometry.dilation)")
        }
        self.region = region
        self.stride = stride
        let before = -geometry.offset(0)
        origin = Position(t: region.t0, h: region.top + before, w: region.left + before)
        frames = region.t1 - region.t0
        let fit = { (extent: Int) in extent >= geometry.span ? (extent - geometry.span) / stride + 1 : 0 }
        rows = fit(region.bottom - region.top)
        columns = fit(region.right - region.left)
    }

    private static func check(region: Region, stride: Int) throws(DNLSError) {
        guard stride >= 1 else {
            throw .invalidArgument(argument: "stride", expected: "at least 1", actual: "\(stride)")
        }
        guard region.t0 < region.t1, region.top < region.bottom, region.left < region.right else {
            throw .invalidArgument(argument: "region", expected: "a non-empty region", actual: "\(region)")
        }
    }

    /// Number of queries on the grid.
    public var count: Int { frames * rows * columns }

    /// Position of query number `q` (raster order). `q` must be in `0..<count`.
    public func position(_ q: Int) -> Position {
        // The numbering the CUDA kernels use too (dnls_rules.h).
        let p = dnls_grid_position(Int64(q), Int64(origin.t), Int64(origin.h), Int64(origin.w), Int64(stride),
                                   Int64(rows), Int64(columns))
        return Position(t: Int(p.t), h: Int(p.h), w: Int(p.w))
    }

    /// Query number at a position, or `nil` when the position is not on the grid.
    public func queryNumber(at p: Position) -> Int? {
        let n = dnls_grid_query(Int64(p.t), Int64(p.h), Int64(p.w), Int64(origin.t), Int64(origin.h), Int64(origin.w),
                                Int64(stride), Int64(frames), Int64(rows), Int64(columns))
        return n < 0 ? nil : Int(n)
    }

    /// Checks that `batch` is a range of query numbers of this grid.
    func validate(batch: Range<Int>) throws(DNLSError) {
        guard batch.lowerBound >= 0, batch.upperBound <= count else {
            throw .outOfRange(argument: "batch", value: "\(batch)", valid: "the grid's queries 0..<\(count)")
        }
    }
}
