import CCUDA
@testable import CUDADriver
@testable import DNLS
import DNLSConformance
import Testing

/// Operations in a caller's memory, against the fake driver table: a planning run touches
/// nothing, and the `into:` forms inside a workspace of the planned size allocate nothing and
/// write the caller's memory. Part of the serialised `FakeDriverTests`.
extension FakeDriverTests {
    /// Every op and direction on a small video, each through its `into:` form into `outputs`
    /// (caller memory), in the order of `CallerOutputs.shapes`.
    private struct Chain {
        let device: Device
        let video: Tensor<Float>, indices: Tensor<Int32>, weights: Tensor<Float>
        let grid: QueryGrid
        let geometry = PatchGeometry(patchSize: 3)
        var search: PatchSearch { PatchSearch(geometry: geometry, window: SearchWindow(size: 3, temporalRadius: 1), k: 2) }

        /// Shapes of the outputs, by name.
        var shapes: [(String, [Int])] {
            let Q = grid.count, v = video.shape
            return [("distances", [1, Q, 2]), ("videoGradient", v), ("patches", [1, Q, 1, 2, 3, 3]), ("scatterGradient", v),
                    ("gathered", v), ("weightSum", [1, 2, 1, 8, 8]), ("patchGradient", [1, Q, 1, 2, 3, 3]),
                    ("weightGradient", [1, Q, 1]), ("sums", [1, Q, 1, 2, 3, 3]), ("sumVideoGradient", v),
                    ("sumWeightGradient", [1, Q, 1]), ("unfolded", [1, Q, 1, 2, 3, 3]), ("folded", v),
                    ("foldGradient", [1, Q, 1, 2, 3, 3])]
        }

        func run(into out: inout [String: Tensor<Float>], indicesOut: inout Tensor<Int32>) throws(DNLSError) {
            var found = SearchResult(distances: out["distances"]!, indices: indicesOut)
            try search(video, queries: .grid(grid), into: &found)
            out["distances"] = found.distances; indicesOut = found.indices
            var gradients = SearchGradients(video: out["videoGradient"]!)
            try search.backward(distanceGradient: found.distances, indices: found.indices, video: video,
                                queries: .grid(grid), into: &gradients)
            out["videoGradient"] = gradients.video
            let scatter = PatchScatter(geometry: geometry), gather = PatchGather(geometry: geometry)
            try scatter(video, indices: indices, into: &out["patches"]!)
            try scatter.backward(patchGradient: out["patches"]!, indices: indices, into: &out["scatterGradient"]!)
            var (gathered, weightSum) = (out["gathered"]!, out["weightSum"]!)
            try gather(out["patches"]!, weights: weights, indices: indices, into: &gathered, weightSum: &weightSum)
            (out["gathered"], out["weightSum"]) = (gathered, weightSum)
            var weightGradient: Tensor<Float>? = out["weightGradient"]!
            try gather.backward(videoGradient: video, patches: out["patches"]!, weights: weights, indices: indices,
                                into: &out["patchGradient"]!, weightGradient: &weightGradient)
            out["weightGradient"] = weightGradient
            let wpsum = WeightedPatchSum(geometry: geometry)
            try wpsum(video, weights: weights, indices: indices, into: &out["sums"]!)
            var (sumVideo, sumWeights) = (out["sumVideoGradient"]!, out["sumWeightGradient"]!)
            try wpsum.backward(outputGradient: out["sums"]!, video: video, weights: weights, indices: indices,
                               into: &sumVideo, weightGradient: &sumWeights)
            (out["sumVideoGradient"], out["sumWeightGradient"]) = (sumVideo, sumWeights)
            try PatchUnfold(geometry: geometry)(video, grid: grid, into: &out["unfolded"]!)
            try PatchFold(geometry: geometry)(out["unfolded"]!, grid: grid, into: &out["folded"]!)
            try PatchFold(geometry: geometry).backward(videoGradient: video, grid: grid, into: &out["foldGradient"]!)
        }
    }

    private func chain(ordinal: Int) throws -> Chain {
        let device = try fakeDevice(ordinal: ordinal)
        let grid = try QueryGrid(region: .whole(frames: 2, height: 8, width: 8))
        var triples: [Int32] = []
        for q in 0..<grid.count { triples += [Int32(q / 64), Int32(q / 8 % 8), Int32(q % 8)] }
        return Chain(device: device, video: try randomVideo([1, 2, 2, 8, 8]).to(device),
                     indices: try Tensor<Int32>(shape: [1, grid.count, 1, 3], scalars: triples).to(device),
                     weights: try Tensor<Float>(repeating: 0.5, shape: [1, grid.count, 1]).to(device), grid: grid)
    }

    /// Caller-owned tensors over memory the test takes from the fake device directly.
    private func callerOutputs(_ chain: Chain) throws -> ([String: Tensor<Float>], Tensor<Int32>) {
        var out: [String: Tensor<Float>] = [:]
        for (name, shape) in chain.shapes {
            let address = try #require(Fake.bumpAllocate(shape.reduce(1, *) * 4))
            out[name] = try Tensor<Float>(unsafeDeviceAddress: UInt(address), shape: shape, on: chain.device)
        }
        let indices = try #require(Fake.bumpAllocate(chain.grid.count * 2 * 3 * 4))
        return (out, try Tensor<Int32>(unsafeDeviceAddress: UInt(indices), shape: [1, chain.grid.count, 2, 3], on: chain.device))
    }

    private var allocations: Int { Fake.count(.memAlloc) + Fake.count(.memAllocAsync) }

    @Test func aPlanningRunLaunchesCopiesAndAllocatesNothing() throws {
        let chain = try chain(ordinal: 7)
        var (out, indices) = try callerOutputs(chain)
        try chain.run(into: &out, indicesOut: &indices)  // kernels compiled, geometry blocks made
        let (launches, allocated) = (Fake.count(.launch), allocations)
        Fake.streamCalls = []
        Fake.hostWaits = []
        let bytes = try GPUWorkspace.bytesNeeded(on: chain.device) { () throws(DNLSError) in
            try chain.run(into: &out, indicesOut: &indices)
        }
        #expect(Fake.count(.launch) == launches)
        #expect(allocations == allocated)
        #expect(Fake.streamCalls.map(\.call) == [])
        #expect(Fake.hostWaits == [])
        #expect(bytes > 0 && bytes % GPUWorkspace.alignment == 0)
        #expect(bytes <= 64 << 20)
        // The answer depends on the calls only.
        #expect(try GPUWorkspace.bytesNeeded(on: chain.device) { () throws(DNLSError) in
            try chain.run(into: &out, indicesOut: &indices)
        } == bytes)
    }

    @Test func intoFormsInAWorkspaceOfThePlannedSizeAllocateNothingAndWriteTheCallersMemory() throws {
        let chain = try chain(ordinal: 8)
        var (out, indices) = try callerOutputs(chain)
        let addresses = out.mapValues(\.unsafeDeviceAddress)
        let indexAddress = indices.unsafeDeviceAddress
        try chain.run(into: &out, indicesOut: &indices)  // kernels compiled, geometry blocks made
        let bytes = try GPUWorkspace.bytesNeeded(on: chain.device) { () throws(DNLSError) in
            try chain.run(into: &out, indicesOut: &indices)
        }
        let base = try #require(Fake.bumpAllocate(bytes))
        let workspace = try GPUWorkspace(unsafeAddress: UInt(base), byteCount: bytes, on: chain.device)
        let (launches, allocated, frees) = (Fake.count(.launch), allocations, Fake.count(.memFreeAsync))
        try withWorkspace(workspace) { () throws(DNLSError) in try chain.run(into: &out, indicesOut: &indices) }
        #expect(Fake.count(.launch) > launches + 10)
        #expect(allocations == allocated)
        #expect(Fake.count(.memFreeAsync) == frees)
        #expect(out.mapValues(\.unsafeDeviceAddress) == addresses)
        #expect(indices.unsafeDeviceAddress == indexAddress)
        // The plan is exact: one block less and the same calls do not fit.
        let short = try GPUWorkspace(unsafeAddress: UInt(base), byteCount: bytes - GPUWorkspace.alignment, on: chain.device)
        let error = #expect(throws: DNLSError.self) {
            try withWorkspace(short) { () throws(DNLSError) in try chain.run(into: &out, indicesOut: &indices) }
        }
        guard case let .workspaceTooSmall(device, _, capacity)? = error else {
            Issue.record("expected workspaceTooSmall, got \(String(describing: error))")
            return
        }
        #expect(device == chain.device && capacity == bytes - GPUWorkspace.alignment)
    }

    @Test func anIntoTensorOfTheWrongSizeIsRefusedBeforeAnyKernelWritesIt() throws {
        let chain = try chain(ordinal: 9)
        var (out, _) = try callerOutputs(chain)
        try PatchUnfold(geometry: chain.geometry)(chain.video, grid: chain.grid, into: &out["unfolded"]!)  // warm
        let launches = Fake.count(.launch)
        var wrong = out["folded"]!  // the video's size, not the patches'
        #expect(throws: DNLSError.shapeMismatch(argument: "patches", expected: "\(chain.grid.count * 18) elements, as [1, 128, 1, 2, 3, 3]",
                                                actual: chain.video.shape)) {
            try PatchUnfold(geometry: chain.geometry)(chain.video, grid: chain.grid, into: &wrong)
        }
        #expect(Fake.count(.launch) == launches)
        var onTheCPU = Tensor<Float>(zeros: [1, chain.grid.count, 1, 2, 3, 3])
        #expect(throws: DNLSError.deviceMismatch(argument: "patches", expected: chain.device, actual: .cpu)) {
            try PatchUnfold(geometry: chain.geometry)(chain.video, grid: chain.grid, into: &onTheCPU)
        }
    }

    @Test func thePlannedWorkspaceOfEightFramesOf1080pStaysWithin64MiB() throws {
        let device = try fakeDevice(ordinal: 10)
        let launches = Fake.count(.launch)
        let bytes = try ConformanceSuite.plannedHD8Workspace(on: device)
        #expect(bytes > 1 << 20 && bytes <= 64 << 20)
        #expect(Fake.count(.launch) == launches)
    }
}
