import Testing
@testable import DNLS

@Test func smokeSearch() throws {
    var v = Tensor<Float>(zeros: [3, 2, 12, 12])
    for i in 0..<v.count { v.scalars[i] = Float((i * 7919) % 101) / 101 }
    let search = PatchSearch(geometry: PatchGeometry(patchSize: 3), window: SearchWindow(size: 5, temporalRadius: 1), k: 4)
    let grid = try QueryGrid(region: .whole(frames: 3, height: 12, width: 12), stride: 2)
    let r = try search(v, queries: .grid(grid))
    #expect(r.distances.shape == [grid.count, 4])
    #expect(r.distances[0, 0] == 0)
}
