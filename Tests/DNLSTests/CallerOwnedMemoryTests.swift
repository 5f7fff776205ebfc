@testable import DNLS
import DNLSTestSupport
import Testing

/// The `into:` forms and the workspace on the host: the same results as the returning forms, the
/// arena's placement rule, and clear errors for memory that cannot be a GPU's. (On the GPU the
/// fake-driver tests and the conformance suite cover them.)
@Suite("Caller-owned memory")
struct CallerOwnedMemoryTests {
    static let (B, T, C, H, W, K) = (2, 3, 2, 9, 8, 3)

    @Test("Every into: form gives what the returning form gives", arguments: [Implementation.reference, .fast])
    func intoFormsMatch(implementation: Implementation) throws {
        var rng = SplitMix64(seed: 91)
        let g = PatchGeometry(patchSize: 3)
        let shape = [Self.B, Self.T, Self.C, Self.H, Self.W]
        let video: Tensor<Float> = randomTensor(shape, &rng, -1, 1)
        let keys: Tensor<Float> = randomTensor(shape, &rng, -1, 1)
        let grid = try QueryGrid(region: .whole(frames: Self.T, height: Self.H, width: Self.W), stride: 2)
        let search = PatchSearch(geometry: g, window: SearchWindow(size: 3, temporalRadius: 1), k: Self.K)
        let found = try search(video, keys: keys, queries: .grid(grid), implementation: implementation)
        var into = SearchResult<Float>(distances: Tensor(zeros: [1]), indices: Tensor(zeros: [1]))
        #expect(throws: DNLSError.self) { try search(video, keys: keys, queries: .grid(grid), implementation: implementation, into: &into) }
        into = SearchResult(distances: Tensor(zeros: found.distances.shape), indices: Tensor(zeros: found.indices.shape))
        try search(video, keys: keys, queries: .grid(grid), implementation: implementation, into: &into)
        #expect(into.distances == found.distances && into.indices == found.indices)

        let Q = grid.count, gradient: Tensor<Float> = randomTensor(found.distances.shape, &rng)
        let gradients = try search.backward(distanceGradient: gradient, indices: found.indices, video: video, keys: keys,
                                            queries: .grid(grid), implementation: implementation)
        var intoGradients = SearchGradients<Float>(video: Tensor(zeros: shape))  // keys: nil gets a new tensor
        try search.backward(distanceGradient: gradient, indices: found.indices, video: video, keys: keys, queries: .grid(grid),
                            implementation: implementation, into: &intoGradients)
        #expect(intoGradients.video == gradients.video && intoGradients.keys == gradients.keys)

        let scatter = PatchScatter(geometry: g), gather = PatchGather(geometry: g), wpsum = WeightedPatchSum(geometry: g)
        let patches = try scatter(video, indices: found.indices, implementation: implementation)
        var intoPatches = Tensor<Float>(zeros: patches.shape)
        try scatter(video, indices: found.indices, implementation: implementation, into: &intoPatches)
        #expect(intoPatches == patches)
        var intoVideo = Tensor<Float>(zeros: shape)
        try scatter.backward(patchGradient: patches, indices: found.indices, implementation: implementation, into: &intoVideo)
        #expect(intoVideo == (try scatter.backward(patchGradient: patches, indices: found.indices, videoShape: shape,
                                                    implementation: implementation)))

        let weights: Tensor<Float> = randomTensor([Self.B, Q, Self.K], &rng, 0.1, 1)
        let gathered = try gather(patches, weights: weights, indices: found.indices, videoShape: shape, implementation: implementation)
        var (gVideo, gSum) = (Tensor<Float>(zeros: shape), Tensor<Float>(zeros: [Self.B, Self.T, 1, Self.H, Self.W]))
        try gather(patches, weights: weights, indices: found.indices, implementation: implementation, into: &gVideo, weightSum: &gSum)
        #expect(gVideo == gathered.video && gSum == gathered.weightSum)
        let gatherGradients = try gather.backward(videoGradient: video, patches: patches, weights: weights, indices: found.indices,
                                                  implementation: implementation)
        var (gPatches, gWeights) = (Tensor<Float>(zeros: patches.shape), Optional(Tensor<Float>(zeros: weights.shape)))
        try gather.backward(videoGradient: video, patches: patches, weights: weights, indices: found.indices,
                            implementation: implementation, into: &gPatches, weightGradient: &gWeights)
        #expect(gPatches == gatherGradients.patches && gWeights == gatherGradients.weights)

        let sums = try wpsum(video, weights: weights, indices: found.indices, implementation: implementation)
        var intoSums = Tensor<Float>(zeros: sums.shape)
        try wpsum(video, weights: weights, indices: found.indices, implementation: implementation, into: &intoSums)
        #expect(intoSums == sums)
        let sumGradients = try wpsum.backward(outputGradient: sums, video: video, weights: weights, indices: found.indices,
                                              implementation: implementation)
        var (sVideo, sWeights) = (Tensor<Float>(zeros: shape), Tensor<Float>(zeros: weights.shape))
        try wpsum.backward(outputGradient: sums, video: video, weights: weights, indices: found.indices,
                           implementation: implementation, into: &sVideo, weightGradient: &sWeights)
        #expect(sVideo == sumGradients.video && sWeights == sumGradients.weights)

        let unfold = PatchUnfold(geometry: g), fold = PatchFold(geometry: g)
        let unfolded = try unfold(video, grid: grid, implementation: implementation)
        var intoUnfolded = Tensor<Float>(zeros: unfolded.shape)
        try unfold(video, grid: grid, implementation: implementation, into: &intoUnfolded)
        #expect(intoUnfolded == unfolded)
        var folded = Tensor<Float>(repeating: 7, shape: shape)  // overwritten, not added to
        try fold(unfolded, grid: grid, implementation: implementation, into: &folded)
        #expect(folded == (try fold(unfolded, grid: grid, videoShape: shape, implementation: implementation)))
        var unfoldGradient = Tensor<Float>(zeros: shape)
        try unfold.backward(patchGradient: unfolded, grid: grid, implementation: implementation, into: &unfoldGradient)
        #expect(unfoldGradient == folded)
        var foldGradient = Tensor<Float>(zeros: unfolded.shape)
        try fold.backward(videoGradient: video, grid: grid, implementation: implementation, into: &foldGradient)
        #expect(foldGradient == unfolded)
    }

    @Test("A result that the given tensor cannot hold is refused, naming the argument")
    func wrongSize() throws {
        let g = PatchGeometry(patchSize: 3)
        let video = Tensor<Float>(zeros: [2, 1, 6, 6])
        let grid = try QueryGrid(region: .whole(frames: 2, height: 6, width: 6))
        var small = Tensor<Float>(zeros: [3])
        expectDNLSError(.shapeMismatch, argument: "patches") { try PatchUnfold(geometry: g)(video, grid: grid, into: &small) }
        #expect(small.shape == [3])
    }

    @Test("The arena reuses freed blocks first fit, aligned, and counts its high-water mark")
    func arena() {
        let arena = WorkspaceArena(base: 4096, capacity: 4 * GPUWorkspace.alignment)
        let a = arena.allocate(1), b = arena.allocate(GPUWorkspace.alignment + 1)
        #expect(a == 0 && b == GPUWorkspace.alignment)
        #expect(arena.highWater == 3 * GPUWorkspace.alignment)
        #expect(arena.allocate(2 * GPUWorkspace.alignment) == nil)  // one block left
        arena.release(0)
        #expect(arena.allocate(GPUWorkspace.alignment) == 0)  // the freed block, first fit
        #expect(arena.allocate(GPUWorkspace.alignment) == 3 * GPUWorkspace.alignment)
        #expect(arena.highWater == 4 * GPUWorkspace.alignment)
        #expect(arena.allocate(0) == nil)  // even an empty temporary takes a block
        #expect(arena.allocate(.max) == nil)
    }

    @Test("Memory that cannot be a GPU's is refused; the CPU needs no workspace")
    func cpuMemory() throws {
        expectDNLSError(.invalidArgument, argument: "device") { _ = try GPUWorkspace(unsafeAddress: 0, byteCount: 256, on: .cpu) }
        expectDNLSError(.invalidArgument, argument: "device") {
            _ = try Tensor<Float>(unsafeDeviceAddress: 256, shape: [4], on: .cpu)
        }
        #expect(try GPUWorkspace.bytesNeeded(on: .cpu) { () throws(DNLSError) in
            _ = try PatchUnfold(geometry: PatchGeometry(patchSize: 3))(Tensor<Float>(zeros: [1, 1, 4, 4]),
                                                                      grid: try QueryGrid(region: .whole(frames: 1, height: 4, width: 4)))
        } == 0)
        #expect(Tensor<Float>(zeros: [2]).unsafeDeviceAddress == nil)
        #expect(DNLSError.workspaceTooSmall(device: .cuda(0), bytes: 512, capacity: 256).description.contains("bytesNeeded"))
    }
}
