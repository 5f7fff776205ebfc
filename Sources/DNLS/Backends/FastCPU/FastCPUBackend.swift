/// The fast CPU backend (placeholder: delegates to the reference until the fast kernels land).
struct FastCPUBackend: PatchBackend {
    typealias Scalar = Float
    let reference = ReferenceBackend<Float>()

    func search(_ problem: SearchProblem<Float>) -> (distances: [Float], indices: [Int32]) { fastSearch(problem) }
    func searchBackward(_ problem: SearchProblem<Float>, indices: [Int32], gradient: [Float]) -> (video: [Float], keys: [Float]) {
        reference.searchBackward(problem, indices: indices, gradient: gradient)
    }
    func extract(_ video: [Float], shape: VideoShape, sites: PatchSites, geometry: PatchGeometry) -> [Float] {
        reference.extract(video, shape: shape, sites: sites, geometry: geometry)
    }
    func deposit(_ patches: [Float], weights: [Float]?, sites: PatchSites, geometry: PatchGeometry,
                 into video: inout [Float], shape: VideoShape, weightSum: inout [Float]?) {
        reference.deposit(patches, weights: weights, sites: sites, geometry: geometry, into: &video, shape: shape, weightSum: &weightSum)
    }
    func weightedSum(_ video: [Float], shape: VideoShape, weights: [Float], sites: PatchSites, geometry: PatchGeometry) -> [Float] {
        reference.weightedSum(video, shape: shape, weights: weights, sites: sites, geometry: geometry)
    }
    func weightedSumBackward(_ video: [Float], shape: VideoShape, weights: [Float], sites: PatchSites,
                             geometry: PatchGeometry, gradient: [Float]) -> (video: [Float], weights: [Float]) {
        reference.weightedSumBackward(video, shape: shape, weights: weights, sites: sites, geometry: geometry, gradient: gradient)
    }
}
