/// The fast CPU backend: multithreaded `Float` kernels, bit-identical to ``ReferenceBackend``
/// for every method but `search` (see `FastSearch.swift`), and deterministic: every output
/// element has a single writer task that adds in the reference's order.
struct FastCPUBackend: HostPatchKernels {
    typealias Scalar = Float

    /// How the kernels split their work across cores; results never depend on it.
    var tuning = FastTuning()

    func search(_ problem: SearchProblem<Float>) -> (distances: [Float], indices: [Int32]) { fastSearch(problem) }

    func searchBackward(_ problem: SearchProblem<Float>, indices: [Int32], gradient: [Float]) -> (video: [Float], keys: [Float]) {
        fastSearchBackward(problem, indices: indices, gradient: gradient, tuning: tuning)
    }

    func extract(_ video: [Float], shape: VideoShape, sites: PatchSites, geometry: PatchGeometry) -> [Float] {
        fastExtract(video, shape: shape, sites: sites, geometry: geometry, tuning: tuning)
    }

    func deposit(_ patches: [Float], weights: [Float]?, sites: PatchSites, geometry: PatchGeometry,
                 into video: inout [Float], shape: VideoShape, weightSum: inout [Float]?) {
        fastDeposit(patches, weights: weights, sites: sites, geometry: geometry, into: &video, shape: shape,
                    weightSum: &weightSum, tuning: tuning)
    }

    func weightedSum(_ video: [Float], shape: VideoShape, weights: [Float], sites: PatchSites, geometry: PatchGeometry) -> [Float] {
        fastWeightedSum(video, shape: shape, weights: weights, sites: sites, geometry: geometry, tuning: tuning)
    }

    func weightedSumBackward(_ video: [Float], shape: VideoShape, weights: [Float], sites: PatchSites,
                             geometry: PatchGeometry, gradient: [Float]) -> (video: [Float], weights: [Float]) {
        fastWeightedSumBackward(video, shape: shape, weights: weights, sites: sites, geometry: geometry,
                                gradient: gradient, tuning: tuning)
    }
}
