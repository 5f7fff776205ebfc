import CDNLSABI
import DNLS

/// Searches the neighbours of `queries`: distances `(B, Q, K)` and indices `(B, Q, K, 3)` into
/// the caller's tensors. `keys` NULL searches `video` itself; flows may be NULL (no flow).
@c(dnls_search_forward)
public func dnlsSearchForward(
    _ search: UnsafePointer<DNLSSearch>?, _ video: UnsafePointer<DNLSTensor>?, _ keys: UnsafePointer<DNLSTensor>?,
    _ queries: UnsafePointer<DNLSQueries>?, _ forwardFlow: UnsafePointer<DNLSTensor>?,
    _ backwardFlow: UnsafePointer<DNLSTensor>?, _ distances: UnsafeMutablePointer<DNLSTensor>?,
    _ indices: UnsafeMutablePointer<DNLSTensor>?, _ call: UnsafeMutablePointer<DNLSCall>?
) -> Int32 {
    abiEntry(call) { () throws(DNLSError) in
        let op = try PatchSearch(search)
        let job = SearchForward(
            op: op, call: try ABICall(call), video: try ABITensor(required: video, "video"), keys: try ABITensor(keys, "keys"),
            queries: try ABIQueries(queries, geometry: op.geometry),
            forwardFlow: try ABITensor(forwardFlow, "forward_flow"), backwardFlow: try ABITensor(backwardFlow, "backward_flow"),
            distances: try ABITensor(required: distances, "distances"), indices: try ABITensor(required: indices, "indices"))
        try job.call.run(on: job.video.device) { () throws(DNLSError) in try job.video.dispatch(job) }
    }
}

struct SearchForward: FloatGeneric {
    let op: PatchSearch, call: ABICall
    let video: ABITensor, keys: ABITensor?, queries: ABIQueries, forwardFlow: ABITensor?, backwardFlow: ABITensor?
    let distances: ABITensor, indices: ABITensor

    func run<S: PatchScalar>(_: S.Type) throws(DNLSError) {
        let p = call.planning
        let flows = Flows(forward: try forwardFlow?.input(S.self, planning: p), backward: try backwardFlow?.input(S.self, planning: p))
        var result = SearchResult(distances: try distances.output(S.self, planning: p),
                                  indices: try indices.output(Int32.self, planning: p))
        try op(try video.input(S.self, planning: p), keys: try keys?.input(S.self, planning: p),
               queries: try queries.queries(planning: p), flows: flows, implementation: call.implementation, into: &result)
        try distances.store(result.distances)
        try indices.store(result.indices)
    }
}

/// Gradients of a loss w.r.t. the videos of a search, from its gradient w.r.t. the distances.
/// With `keys` NULL (a self-search) `keys_gradient` must be NULL and `video_gradient` receives
/// the summed gradient.
@c(dnls_search_backward)
public func dnlsSearchBackward(
    _ search: UnsafePointer<DNLSSearch>?, _ distanceGradient: UnsafePointer<DNLSTensor>?,
    _ indices: UnsafePointer<DNLSTensor>?, _ video: UnsafePointer<DNLSTensor>?, _ keys: UnsafePointer<DNLSTensor>?,
    _ queries: UnsafePointer<DNLSQueries>?, _ videoGradient: UnsafeMutablePointer<DNLSTensor>?,
    _ keysGradient: UnsafeMutablePointer<DNLSTensor>?, _ call: UnsafeMutablePointer<DNLSCall>?
) -> Int32 {
    abiEntry(call) { () throws(DNLSError) in
        let op = try PatchSearch(search)
        let keys = try ABITensor(keys, "keys"), keysGradient = try ABITensor(keysGradient, "keys_gradient")
        guard (keys == nil) == (keysGradient == nil) else {
            throw .invalidArgument(argument: "keys_gradient", expected: keys == nil ? "NULL for a self-search" : "a tensor, as keys was given",
                                   actual: keysGradient == nil ? "NULL" : "a tensor")
        }
        let job = SearchBackward(
            op: op, call: try ABICall(call), distanceGradient: try ABITensor(required: distanceGradient, "distance_gradient"),
            indices: try ABITensor(required: indices, "indices"), video: try ABITensor(required: video, "video"), keys: keys,
            queries: try ABIQueries(queries, geometry: op.geometry),
            videoGradient: try ABITensor(required: videoGradient, "video_gradient"), keysGradient: keysGradient)
        try job.call.run(on: job.video.device) { () throws(DNLSError) in try job.video.dispatch(job) }
    }
}

struct SearchBackward: FloatGeneric {
    let op: PatchSearch, call: ABICall
    let distanceGradient: ABITensor, indices: ABITensor, video: ABITensor, keys: ABITensor?, queries: ABIQueries
    let videoGradient: ABITensor, keysGradient: ABITensor?

    func run<S: PatchScalar>(_: S.Type) throws(DNLSError) {
        let p = call.planning
        var gradients = SearchGradients(video: try videoGradient.output(S.self, planning: p),
                                        keys: try keysGradient?.output(S.self, planning: p))
        try op.backward(distanceGradient: try distanceGradient.input(S.self, planning: p),
                        indices: try indices.input(Int32.self, planning: p), video: try video.input(S.self, planning: p),
                        keys: try keys?.input(S.self, planning: p), queries: try queries.queries(planning: p),
                        implementation: call.implementation, into: &gradients)
        try videoGradient.store(gradients.video)
        if let keysGradient, let g = gradients.keys { try keysGradient.store(g) }
    }
}
