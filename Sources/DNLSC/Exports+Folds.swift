import CDNLSABI
import DNLS

/// The patches `(B, Q, 1, C, ps, ps)` of a grid batch (video → patches).
@c(dnls_unfold_forward)
public func dnlsUnfoldForward(
    _ geometry: UnsafePointer<DNLSGeometry>?, _ grid: UnsafePointer<DNLSQueries>?, _ video: UnsafePointer<DNLSTensor>?,
    _ patches: UnsafeMutablePointer<DNLSTensor>?, _ call: UnsafeMutablePointer<DNLSCall>?
) -> Int32 {
    abiEntry(call) { () throws(DNLSError) in
        let g = try PatchGeometry(geometry)
        let job = UnfoldForward(op: PatchUnfold(geometry: g), call: try ABICall(call), grid: try ABIQueries(grid, geometry: g).grid(),
                                video: try ABITensor(required: video, "video"), patches: try ABITensor(required: patches, "patches"))
        try job.call.run(on: job.video.device) { () throws(DNLSError) in try job.video.dispatch(job) }
    }
}

struct UnfoldForward: FloatGeneric {
    let op: PatchUnfold, call: ABICall, grid: (QueryGrid, Range<Int>), video: ABITensor, patches: ABITensor

    func run<S: PatchScalar>(_: S.Type) throws(DNLSError) {
        let p = call.planning
        var out = try patches.output(S.self, planning: p)
        try op(try video.input(S.self, planning: p), grid: grid.0, batch: grid.1, implementation: call.implementation, into: &out)
        try patches.store(out)
    }
}

/// The adjoint of the unfold: patch gradients folded into a video gradient whose shape is
/// `video_gradient`'s.
@c(dnls_unfold_backward)
public func dnlsUnfoldBackward(
    _ geometry: UnsafePointer<DNLSGeometry>?, _ grid: UnsafePointer<DNLSQueries>?,
    _ patchGradient: UnsafePointer<DNLSTensor>?, _ videoGradient: UnsafeMutablePointer<DNLSTensor>?,
    _ call: UnsafeMutablePointer<DNLSCall>?
) -> Int32 {
    abiEntry(call) { () throws(DNLSError) in
        let g = try PatchGeometry(geometry)
        let job = UnfoldBackward(op: PatchUnfold(geometry: g), call: try ABICall(call), grid: try ABIQueries(grid, geometry: g).grid(),
                                 patchGradient: try ABITensor(required: patchGradient, "patch_gradient"),
                                 videoGradient: try ABITensor(required: videoGradient, "video_gradient"))
        try job.call.run(on: job.patchGradient.device) { () throws(DNLSError) in try job.patchGradient.dispatch(job) }
    }
}

struct UnfoldBackward: FloatGeneric {
    let op: PatchUnfold, call: ABICall, grid: (QueryGrid, Range<Int>), patchGradient: ABITensor, videoGradient: ABITensor

    func run<S: PatchScalar>(_: S.Type) throws(DNLSError) {
        let p = call.planning
        var out = try videoGradient.output(S.self, planning: p)
        try op.backward(patchGradient: try patchGradient.input(S.self, planning: p), grid: grid.0, batch: grid.1,
                        implementation: call.implementation, into: &out)
        try videoGradient.store(out)
    }
}

/// Patches `(B, Q, 1, C, ps, ps)` of a grid batch folded into a video (overlaps summed),
/// overwriting it, or adding to it with `accumulate ≠ 0`.
@c(dnls_fold_forward)
public func dnlsFoldForward(
    _ geometry: UnsafePointer<DNLSGeometry>?, _ grid: UnsafePointer<DNLSQueries>?, _ patches: UnsafePointer<DNLSTensor>?,
    _ video: UnsafeMutablePointer<DNLSTensor>?, _ accumulate: Int32, _ call: UnsafeMutablePointer<DNLSCall>?
) -> Int32 {
    abiEntry(call) { () throws(DNLSError) in
        let g = try PatchGeometry(geometry)
        let job = FoldForward(op: PatchFold(geometry: g), call: try ABICall(call), grid: try ABIQueries(grid, geometry: g).grid(),
                              patches: try ABITensor(required: patches, "patches"), video: try ABITensor(required: video, "video"),
                              accumulate: accumulate != 0)
        try job.call.run(on: job.patches.device) { () throws(DNLSError) in try job.patches.dispatch(job) }
    }
}

struct FoldForward: FloatGeneric {
    let op: PatchFold, call: ABICall, grid: (QueryGrid, Range<Int>), patches: ABITensor, video: ABITensor, accumulate: Bool

    func run<S: PatchScalar>(_: S.Type) throws(DNLSError) {
        let p = call.planning
        var out = try video.output(S.self, accumulating: accumulate, planning: p)
        let patches = try patches.input(S.self, planning: p)
        if accumulate {
            try op.accumulate(patches, grid: grid.0, batch: grid.1, into: &out, implementation: call.implementation)
        } else {
            try op(patches, grid: grid.0, batch: grid.1, implementation: call.implementation, into: &out)
        }
        try video.store(out)
    }
}

/// The adjoint of the fold: the patch gradients `(B, Q, 1, C, ps, ps)` read from a video gradient.
@c(dnls_fold_backward)
public func dnlsFoldBackward(
    _ geometry: UnsafePointer<DNLSGeometry>?, _ grid: UnsafePointer<DNLSQueries>?,
    _ videoGradient: UnsafePointer<DNLSTensor>?, _ patchGradient: UnsafeMutablePointer<DNLSTensor>?,
    _ call: UnsafeMutablePointer<DNLSCall>?
) -> Int32 {
    abiEntry(call) { () throws(DNLSError) in
        let g = try PatchGeometry(geometry)
        let job = FoldBackward(op: PatchFold(geometry: g), call: try ABICall(call), grid: try ABIQueries(grid, geometry: g).grid(),
                               videoGradient: try ABITensor(required: videoGradient, "video_gradient"),
                               patchGradient: try ABITensor(required: patchGradient, "patch_gradient"))
        try job.call.run(on: job.videoGradient.device) { () throws(DNLSError) in try job.videoGradient.dispatch(job) }
    }
}

struct FoldBackward: FloatGeneric {
    let op: PatchFold, call: ABICall, grid: (QueryGrid, Range<Int>), videoGradient: ABITensor, patchGradient: ABITensor

    func run<S: PatchScalar>(_: S.Type) throws(DNLSError) {
        let p = call.planning
        var out = try patchGradient.output(S.self, planning: p)
        try op.backward(videoGradient: try videoGradient.input(S.self, planning: p), grid: grid.0, batch: grid.1,
                        implementation: call.implementation, into: &out)
        try patchGradient.store(out)
    }
}
