import CDNLSABI
import DNLS

/// The ABI version: the layout of the structs in `dnls_types.h` and the functions' signatures.
@c(dnls_abi_version)
public func dnlsABIVersion() -> Int32 { Int32(DNLS_ABI_VERSION) }

/// Writes the library's version (for example "0.6.0") into `buffer`, NUL-terminated.
@c(dnls_library_version)
public func dnlsLibraryVersion(_ buffer: UnsafeMutablePointer<CChar>?, _ capacity: UInt64) -> Int32 {
    var call = DNLSCall()
    call.message = buffer
    call.message_capacity = capacity
    writeMessage(DNLSVersion.string, to: &call)
    return Int32(DNLS_OK)
}

/// The number of queries `queries` names in a video of `frames × height × width` (a grid
/// batch's size, or the Q of a positions tensor), for shape functions that have no data.
@c(dnls_query_count)
public func dnlsQueryCount(_ queries: UnsafePointer<DNLSQueries>?, _ geometry: UnsafePointer<DNLSGeometry>?,
                           _ frames: Int64, _ height: Int64, _ width: Int64, _ count: UnsafeMutablePointer<Int64>?,
                           _ call: UnsafeMutablePointer<DNLSCall>?) -> Int32 {
    abiEntry(call) { () throws(DNLSError) in
        let g = try PatchGeometry(geometry)
        switch try ABIQueries(queries, geometry: g) {
        case let .grid(grid, batch):
            let r = grid.region
            guard r.t0 >= 0, r.t1 <= frames, r.top >= 0, r.bottom <= height, r.left >= 0, r.right <= width else {
                throw .outOfRange(argument: "grid.region", value: "\(r)",
                                  valid: "the video [0, \(frames)) × [0, \(height)) × [0, \(width))")
            }
            count?.pointee = Int64(batch.count)
        case let .positions(tensor):
            guard tensor.shape.count >= 2, tensor.shape.last == 3 else {
                throw .shapeMismatch(argument: "queries", expected: "(B, Q, 3) or (Q, 3)", actual: tensor.shape)
            }
            count?.pointee = Int64(tensor.shape[tensor.shape.count - 2])
        }
    }
}

/// The number of neighbours K a search returns per query in a video of `frames` frames (its `k`,
/// or the whole window's candidates when `k ≤ 0`), for shape functions that have no data.
@c(dnls_search_slots)
public func dnlsSearchSlots(_ search: UnsafePointer<DNLSSearch>?, _ frames: Int64, _ height: Int64, _ width: Int64,
                            _ slots: UnsafeMutablePointer<Int64>?, _ call: UnsafeMutablePointer<DNLSCall>?) -> Int32 {
    abiEntry(call) { () throws(DNLSError) in
        let s = try PatchSearch(search)
        guard frames >= 1, height >= 1, width >= 1 else {
            throw .invalidArgument(argument: "video", expected: "at least one frame, row and column",
                                   actual: "\(frames) × \(height) × \(width)")
        }
        slots?.pointee = Int64(s.k ?? s.window.candidateCount(videoFrames: Int(frames)))
    }
}

/// Waits for the work queued on `stream` of `device` and reports (status and message) the first
/// input failure that calls with deferred checking recorded there.
@c(dnls_synchronize)
public func dnlsSynchronize(_ device: DNLSDevice, _ stream: UInt64, _ call: UnsafeMutablePointer<DNLSCall>?) -> Int32 {
    abiEntry(call) { () throws(DNLSError) in
        guard Int(device.device_type) == Int(DNLS_DEVICE_CUDA) else { return }
        try GPUStream(borrowing: UInt(stream), on: .cuda(Int(device.device_id))).synchronize()
    }
}
