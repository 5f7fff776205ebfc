import DNLS
import DNLSTestSupport

extension ConformanceSuite {
    /// Flow tensors of zeros take exactly the no-flow search on the device (the same bits, on the
    /// legacy default stream and on a stream with deferred checking, with both flows or one); a
    /// flow that moves one window by a pixel takes the flow search and matches the CPU reference.
    static func checkZeroFlows(_ device: Device) -> [String] {
        var problems: [String] = []
        do {
            var rng = SplitMix64(seed: 53)
            let (B, T, C, H, W) = (2, 3, 3, 24, 20)
            let video: Tensor<Float> = randomTensor([B, T, C, H, W], &rng)
            let zeros = Tensor<Float>(zeros: [B, T, 2, H, W])
            let dv = try video.to(device), dz = try zeros.to(device)
            for (k, stride) in [(Optional(4), 1), (nil, 2)] {
                let search = PatchSearch(geometry: PatchGeometry(patchSize: 5), window: SearchWindow(size: 5, temporalRadius: 1),
                                         k: k)
                let grid = try QueryGrid(region: .whole(frames: T, height: H, width: W), stride: stride)
                let label = "k \(k.map(String.init) ?? "all"), query stride \(stride)"
                let none = try search(dv, queries: .grid(grid))
                let stream = try GPUStream(on: device)
                let deferred = try withStream(stream, checking: .deferred) { () throws(DNLSError) in
                    try search(dv, queries: .grid(grid), flows: Flows(forward: dz, backward: dz))
                }
                try stream.synchronize()
                for (name, result) in [("zero flows", try search(dv, queries: .grid(grid), flows: Flows(forward: dz, backward: dz))),
                                       ("a zero forward flow", try search(dv, queries: .grid(grid), flows: Flows(forward: dz))),
                                       ("zero flows on a stream, deferred checking", deferred)] {
                    if try result.distances.to(.cpu) != none.distances.to(.cpu) || result.indices.to(.cpu) != none.indices.to(.cpu) {
                        problems.append("\(name) (\(label)): not the no-flow search's result")
                    }
                }
                // One forward flow value of one pixel, at a query of frame 0: its window in frame 1 moves.
                var values = zeros.scalars
                values[(4 * W) + 6] = 1
                let flow = try Tensor<Float>(shape: zeros.shape, scalars: values)
                let flows = Flows(forward: flow, backward: zeros)
                let got = try search(dv, queries: .grid(grid), flows: Flows(forward: try flow.to(device), backward: dz))
                let want = try search(video, queries: .grid(grid), flows: flows, implementation: .reference)
                var whole = search
                whole.k = nil
                let table = k == nil ? nil : try whole(video, queries: .grid(grid), flows: flows, implementation: .reference)
                if let mismatch = try searchMismatch(got, want, wholeWindow: table, metric: .l2, tolerance: .float32) {
                    problems.append("a moving flow (\(label)): \(mismatch)")
                }
                if k == nil, try got.indices.to(.cpu) == none.indices.to(.cpu) {
                    problems.append("a moving flow (\(label)): the no-flow search's windows")
                }
            }
        } catch {
            problems.append("\(error)")
        }
        return problems
    }
}
