import CDNLSABI
import DNLS

/// The patches `(B, Q, K, C, ps, ps)` at neighbour indices `(B, Q, K, 3)` (video → patches).
@c(dnls_scatter_forward)
public func dnlsScatterForward(
    _ geometry: UnsafePointer<DNLSGeometry>?, _ video: UnsafePointer<DNLSTensor>?, _ indices: UnsafePointer<DNLSTensor>?,
    _ patches: UnsafeMutablePointer<DNLSTensor>?, _ call: UnsafeMutablePointer<DNLSCall>?
) -> Int32 {
    abiEntry(call) { () throws(DNLSError) in
        let job = ScatterForward(op: PatchScatter(geometry: try PatchGeometry(geometry)), call: try ABICall(call),
                                 video: try ABITensor(required: video, "video"), indices: try ABITensor(required: indices, "indices"),
                                 patches: try ABITensor(required: patches, "patches"))
        try job.call.run(on: job.video.device) { () throws(DNLSError) in try job.video.dispatch(job) }
    }
}

struct ScatterForward: FloatGeneric {
    let op: PatchScatter, call: ABICall, video: ABITensor, indices: ABITensor, patches: ABITensor

    func run<S: PatchScalar>(_: S.Type) throws(DNLSError) {
        let p = call.planning
        var out = try patches.output(S.self, planning: p)
        try op(try video.input(S.self, planning: p), indices: try indices.input(Int32.self, planning: p),
               implementation: call.implementation, into: &out)
        try patches.store(out)
    }
}

/// The adjoint of the scatter: patch gradients added back into a video gradient whose shape is
/// `video_gradient`'s.
@c(dnls_scatter_backward)
public func dnlsScatterBackward(
    _ geometry: UnsafePointer<DNLSGeometry>?, _ patchGradient: UnsafePointer<DNLSTensor>?,
    _ indices: UnsafePointer<DNLSTensor>?, _ videoGradient: UnsafeMutablePointer<DNLSTensor>?,
    _ call: UnsafeMutablePointer<DNLSCall>?
) -> Int32 {
    abiEntry(call) { () throws(DNLSError) in
        let job = ScatterBackward(op: PatchScatter(geometry: try PatchGeometry(geometry)), call: try ABICall(call),
                                  patchGradient: try ABITensor(required: patchGradient, "patch_gradient"),
                                  indices: try ABITensor(required: indices, "indices"),
                                  videoGradient: try ABITensor(required: videoGradient, "video_gradient"))
        try job.call.run(on: job.patchGradient.device) { () throws(DNLSError) in try job.patchGradient.dispatch(job) }
    }
}

struct ScatterBackward: FloatGeneric {
    let op: PatchScatter, call: ABICall, patchGradient: ABITensor, indices: ABITensor, videoGradient: ABITensor

    func run<S: PatchScalar>(_: S.Type) throws(DNLSError) {
        let p = call.planning
        var out = try videoGradient.output(S.self, planning: p)
        try op.backward(patchGradient: try patchGradient.input(S.self, planning: p),
                        indices: try indices.input(Int32.self, planning: p), implementation: call.implementation, into: &out)
        try videoGradient.store(out)
    }
}

/// Weighted patches put back at their indices: the video and the weight sum `(B, T, 1, H, W)`,
/// overwritten, or added to with `accumulate ≠ 0`. `weights` NULL means unit weights.
@c(dnls_gather_forward)
public func dnlsGatherForward(
    _ geometry: UnsafePointer<DNLSGeometry>?, _ patches: UnsafePointer<DNLSTensor>?, _ weights: UnsafePointer<DNLSTensor>?,
    _ indices: UnsafePointer<DNLSTensor>?, _ video: UnsafeMutablePointer<DNLSTensor>?,
    _ weightSum: UnsafeMutablePointer<DNLSTensor>?, _ accumulate: Int32, _ call: UnsafeMutablePointer<DNLSCall>?
) -> Int32 {
    abiEntry(call) { () throws(DNLSError) in
        let job = GatherForward(op: PatchGather(geometry: try PatchGeometry(geometry)), call: try ABICall(call),
                                patches: try ABITensor(required: patches, "patches"), weights: try ABITensor(weights, "weights"),
                                indices: try ABITensor(required: indices, "indices"), video: try ABITensor(required: video, "video"),
                                weightSum: try ABITensor(required: weightSum, "weight_sum"), accumulate: accumulate != 0)
        try job.call.run(on: job.patches.device) { () throws(DNLSError) in try job.patches.dispatch(job) }
    }
}

struct GatherForward: FloatGeneric {
    let op: PatchGather, call: ABICall, patches: ABITensor, weights: ABITensor?, indices: ABITensor
    let video: ABITensor, weightSum: ABITensor, accumulate: Bool

    func run<S: PatchScalar>(_: S.Type) throws(DNLSError) {
        let p = call.planning
        var v = try video.output(S.self, accumulating: accumulate, planning: p)
        var sum = try weightSum.output(S.self, accumulating: accumulate, planning: p)
        let patches = try patches.input(S.self, planning: p), weights = try weights?.input(S.self, planning: p)
        let indices = try indices.input(Int32.self, planning: p)
        if accumulate {
            try op.accumulate(patches, weights: weights, indices: indices, into: &v, weightSum: &sum,
                              implementation: call.implementation)
        } else {
            try op(patches, weights: weights, indices: indices, implementation: call.implementation, into: &v, weightSum: &sum)
        }
        try video.store(v)
        try weightSum.store(sum)
    }
}

/// Gradients of a gather w.r.t. the patches and (when weights were given) the weights, from the
/// gradients w.r.t. the video and, optionally (NULL: none), the weight sum.
@c(dnls_gather_backward)
public func dnlsGatherBackward(
    _ geometry: UnsafePointer<DNLSGeometry>?, _ videoGradient: UnsafePointer<DNLSTensor>?,
    _ weightSumGradient: UnsafePointer<DNLSTensor>?, _ patches: UnsafePointer<DNLSTensor>?,
    _ weights: UnsafePointer<DNLSTensor>?, _ indices: UnsafePointer<DNLSTensor>?,
    _ patchGradient: UnsafeMutablePointer<DNLSTensor>?, _ weightGradient: UnsafeMutablePointer<DNLSTensor>?,
    _ call: UnsafeMutablePointer<DNLSCall>?
) -> Int32 {
    abiEntry(call) { () throws(DNLSError) in
        let weights = try ABITensor(weights, "weights"), weightGradient = try ABITensor(weightGradient, "weight_gradient")
        guard (weights == nil) == (weightGradient == nil) else {
            throw .invalidArgument(argument: "weight_gradient", expected: weights == nil ? "NULL without weights" : "a tensor, as weights were given",
                                   actual: weightGradient == nil ? "NULL" : "a tensor")
        }
        let job = GatherBackward(op: PatchGather(geometry: try PatchGeometry(geometry)), call: try ABICall(call),
                                 videoGradient: try ABITensor(required: videoGradient, "video_gradient"),
                                 weightSumGradient: try ABITensor(weightSumGradient, "weight_sum_gradient"),
                                 patches: try ABITensor(required: patches, "patches"), weights: weights,
                                 indices: try ABITensor(required: indices, "indices"),
                                 patchGradient: try ABITensor(required: patchGradient, "patch_gradient"), weightGradient: weightGradient)
        try job.call.run(on: job.videoGradient.device) { () throws(DNLSError) in try job.videoGradient.dispatch(job) }
    }
}

struct GatherBackward: FloatGeneric {
    let op: PatchGather, call: ABICall, videoGradient: ABITensor, weightSumGradient: ABITensor?, patches: ABITensor
    let weights: ABITensor?, indices: ABITensor, patchGradient: ABITensor, weightGradient: ABITensor?

    func run<S: PatchScalar>(_: S.Type) throws(DNLSError) {
        let p = call.planning
        var gp = try patchGradient.output(S.self, planning: p)
        var gw = try weightGradient?.output(S.self, planning: p)
        try op.backward(videoGradient: try videoGradient.input(S.self, planning: p),
                        weightSumGradient: try weightSumGradient?.input(S.self, planning: p),
                        patches: try patches.input(S.self, planning: p), weights: try weights?.input(S.self, planning: p),
                        indices: try indices.input(Int32.self, planning: p), implementation: call.implementation,
                        into: &gp, weightGradient: &gw)
        try patchGradient.store(gp)
        if let weightGradient, let gw { try weightGradient.store(gw) }
    }
}

/// Per query, the weighted sum of its K neighbour patches: `(B, Q, 1, C, ps, ps)`.
@c(dnls_wpsum_forward)
public func dnlsWpsumForward(
    _ geometry: UnsafePointer<DNLSGeometry>?, _ video: UnsafePointer<DNLSTensor>?, _ weights: UnsafePointer<DNLSTensor>?,
    _ indices: UnsafePointer<DNLSTensor>?, _ output: UnsafeMutablePointer<DNLSTensor>?, _ call: UnsafeMutablePointer<DNLSCall>?
) -> Int32 {
    abiEntry(call) { () throws(DNLSError) in
        let job = WpsumForward(op: WeightedPatchSum(geometry: try PatchGeometry(geometry)), call: try ABICall(call),
                               video: try ABITensor(required: video, "video"), weights: try ABITensor(required: weights, "weights"),
                               indices: try ABITensor(required: indices, "indices"), output: try ABITensor(required: output, "output"))
        try job.call.run(on: job.video.device) { () throws(DNLSError) in try job.video.dispatch(job) }
    }
}

struct WpsumForward: FloatGeneric {
    let op: WeightedPatchSum, call: ABICall, video: ABITensor, weights: ABITensor, indices: ABITensor, output: ABITensor

    func run<S: PatchScalar>(_: S.Type) throws(DNLSError) {
        let p = call.planning
        var out = try output.output(S.self, planning: p)
        try op(try video.input(S.self, planning: p), weights: try weights.input(S.self, planning: p),
               indices: try indices.input(Int32.self, planning: p), implementation: call.implementation, into: &out)
        try output.store(out)
    }
}

/// Gradients of a weighted patch sum w.r.t. the video and the weights.
@c(dnls_wpsum_backward)
public func dnlsWpsumBackward(
    _ geometry: UnsafePointer<DNLSGeometry>?, _ outputGradient: UnsafePointer<DNLSTensor>?,
    _ video: UnsafePointer<DNLSTensor>?, _ weights: UnsafePointer<DNLSTensor>?, _ indices: UnsafePointer<DNLSTensor>?,
    _ videoGradient: UnsafeMutablePointer<DNLSTensor>?, _ weightGradient: UnsafeMutablePointer<DNLSTensor>?,
    _ call: UnsafeMutablePointer<DNLSCall>?
) -> Int32 {
    abiEntry(call) { () throws(DNLSError) in
        let job = WpsumBackward(op: WeightedPatchSum(geometry: try PatchGeometry(geometry)), call: try ABICall(call),
                                outputGradient: try ABITensor(required: outputGradient, "output_gradient"),
                                video: try ABITensor(required: video, "video"), weights: try ABITensor(required: weights, "weights"),
                                indices: try ABITensor(required: indices, "indices"),
                                videoGradient: try ABITensor(required: videoGradient, "video_gradient"),
                                weightGradient: try ABITensor(required: weightGradient, "weight_gradient"))
        try job.call.run(on: job.video.device) { () throws(DNLSError) in try job.video.dispatch(job) }
    }
}

struct WpsumBackward: FloatGeneric {
    let op: WeightedPatchSum, call: ABICall, outputGradient: ABITensor, video: ABITensor, weights: ABITensor
    let indices: ABITensor, videoGradient: ABITensor, weightGradient: ABITensor

    func run<S: PatchScalar>(_: S.Type) throws(DNLSError) {
        let p = call.planning
        var gv = try videoGradient.output(S.self, planning: p)
        var gw = try weightGradient.output(S.self, planning: p)
        try op.backward(outputGradient: try outputGradient.input(S.self, planning: p), video: try video.input(S.self, planning: p),
                        weights: try weights.input(S.self, planning: p), indices: try indices.input(Int32.self, planning: p),
                        implementation: call.implementation, into: &gv, weightGradient: &gw)
        try videoGradient.store(gv)
        try weightGradient.store(gw)
    }
}
