import DNLS
import DNLSTestSupport
import Testing

/// Flow tensors of zeros move no window: on the CPU the search drops them and takes the no-flow
/// path, bit for bit; a flow with one moving value still takes the flow path.
@Suite("Zero flows")
struct ZeroFlowTests {
    @Test("Host flows of zeros give the no-flow search's bits; one moving value does not", arguments: Implementation.allCases)
    func zeroFlowsTakeTheNoFlowPath(implementation: Implementation) throws {
        var rng = SplitMix64(seed: 77)
        let (T, C, H, W) = (3, 2, 14, 12)
        let video: Tensor<Float> = randomTensor([T, C, H, W], &rng)
        let zeros = Tensor<Float>(zeros: [T, 2, H, W])
        let search = PatchSearch(geometry: PatchGeometry(patchSize: 3), window: SearchWindow(size: 5, temporalRadius: 1), k: nil)
        let grid = try QueryGrid(region: .whole(frames: T, height: H, width: W), stride: 1)
        let none = try search(video, queries: .grid(grid), implementation: implementation)
        for flows in [Flows(forward: zeros, backward: zeros), Flows(forward: zeros), Flows(backward: zeros)] {
            let zero = try search(video, queries: .grid(grid), flows: flows, implementation: implementation)
            #expect(zero.indices == none.indices)
            #expect(zero.distances.scalars.map(\.bitPattern) == none.distances.scalars.map(\.bitPattern))
        }
        // A forward flow of one pixel at query (t 0, h 5, w 4) moves its window in frame 1.
        var values = zeros.scalars
        values[5 * W + 4] = 1
        let moving = try search(video, queries: .grid(grid), flows: Flows(forward: try Tensor(shape: zeros.shape, scalars: values)),
                                implementation: implementation)
        #expect(moving.indices != none.indices)
    }
}
