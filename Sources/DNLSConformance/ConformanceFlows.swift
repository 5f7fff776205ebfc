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

extension ConformanceSuite {
    /// A search along flows on a query grid matches the CPU reference with every kind of flow:
    /// smooth (a camera motion of a few pixels and ±0.5 of noise), random (±2.5 per pixel) and
    /// wild (blocks of 4 × 4 pixels displaced by up to the frame's size, many windows clamped at a
    /// border); under the standard tuning (the box-filtered search of the union of each tile's
    /// flow-moved windows in chunks of reach 8: most tiles' union in one chunk), on the general
    /// kernel (one thread per query), and in chunks of reach 1 (most tiles' union in several,
    /// candidates met out of order).
    static func checkFlowSearch(_ device: Device) -> [String] {
        var problems: [String] = []
        do {
            var rng = SplitMix64(seed: 59)
            let (B, T, C, H, W) = (2, 4, 3, 30, 27)
            let flowShape = [B, T, 2, H, W]
            let count = flowShape.reduce(1, *)
            let video: Tensor<Float> = randomTensor([B, T, C, H, W], &rng)
            let keys: Tensor<Float> = randomTensor([B, T, C, H, W], &rng)
            func flow(_ kind: String) throws -> Tensor<Float> {
                var values = [Float](repeating: 0, count: count)
                let (bh, bw) = ((H + 3) / 4, (W + 3) / 4)
                let blocks = (0..<B * T * 2 * bh * bw).map { e in Float(rng.uniform(-1, 1)) * Float(e / (bh * bw) % 2 == 0 ? W : H) }
                for e in 0..<count {
                    let x = e % W, y = e / W % H, plane = e / (H * W)
                    switch kind {
                    case "smooth": values[e] = (plane % 2 == 0 ? 2.6 : -1.4) + Float(rng.uniform(-0.5, 0.5))
                    case "random": values[e] = Float(rng.uniform(-2.5, 2.5))
                    default: values[e] = blocks[(plane * bh + y / 4) * bw + x / 4]
                    }
                }
                return try Tensor(shape: flowShape, scalars: values)
            }
            for kind in ["smooth", "random", "wild"] {
                let flows = Flows(forward: try flow(kind), backward: try flow(kind))
                let deviceFlows = Flows(forward: try flows.forward!.to(device), backward: try flows.backward!.to(device))
                for (k, stride, metric) in [(Optional(4), 1, SearchMetric.l2), (nil, 3, .l2), (5, 2, .innerProduct)] {
                    let search = PatchSearch(geometry: PatchGeometry(patchSize: 5), window: SearchWindow(size: 7, temporalRadius: 2),
                                             k: k, metric: metric)
                    let grid = try QueryGrid(region: .whole(frames: T, height: H, width: W), stride: stride)
                    let want = try search(video, keys: keys, queries: .grid(grid), flows: flows, implementation: .reference)
                    var whole = search
                    whole.k = nil
                    let table = k == nil ? nil : try whole(video, keys: keys, queries: .grid(grid), flows: flows, implementation: .reference)
                    for (name, tuning) in [("the standard search (union chunks of reach 8)", CUDATuning.standard),
                                           ("the general search", CUDATuning.generalFlowSearch),
                                           ("union chunks of reach 1", CUDATuning.stress)] {
                        let got = try CUDATuning.with(tuning) { () throws(DNLSError) in
                            try search(try video.to(device), keys: try keys.to(device), queries: .grid(grid), flows: deviceFlows)
                        }
                        if let mismatch = try searchMismatch(got, want, wholeWindow: table, metric: metric, tolerance: .float32) {
                            problems.append("\(kind) flows, k \(k.map(String.init) ?? "all"), query stride \(stride), \(name): \(mismatch)")
                        }
                    }
                }
            }
        } catch {
            problems.append("\(error)")
        }
        return problems
    }
}
