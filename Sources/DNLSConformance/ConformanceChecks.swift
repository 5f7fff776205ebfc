import DNLS
import DNLSTestSupport

extension ConformanceCase {
    /// Runs every operation of this case on `device` and on the CPU reference; returns what differed.
    package func check(on device: Device, implementation: Implementation) -> [String] {
        var problems = Problems()
        do {
            try checkAll(device: device, implementation: device == .cpu ? implementation : .automatic, &problems)
        } catch {
            problems.add("threw: \(error)")
        }
        return problems.lines
    }

    private func checkAll(device: Device, implementation impl: Implementation, _ problems: inout Problems) throws {
        var rng = SplitMix64(seed: seed)
        let shape = [batch, frames, channels, height, width]
        let video = floats(shape, &rng), keys = floats(shape, &rng)
        let flowShape = [batch, frames, 2, height, width]
        let flows = self.flows ? Flows(forward: floats(flowShape, &rng, -3, 3), backward: floats(flowShape, &rng, -3, 3))
                               : Flows<Float>.none
        let grid = try QueryGrid(region: region, stride: queryStride)
        let queries = Queries.grid(grid)
        let Q = grid.count
        let candidates = window.candidateCount(videoFrames: frames)
        let search = PatchSearch(geometry: geometry, window: window, k: k.map { min($0, candidates) }, metric: metric)
        let K = search.k ?? candidates

        // Inputs on the device under test.
        let dVideo = try video.to(device), dKeys = try keys.to(device)
        let dFlows = Flows(forward: try flows.forward?.to(device), backward: try flows.backward?.to(device))

        // Search forward: robust comparison (sums may round differently), then determinism.
        let reference = try search(video, keys: keys, queries: queries, flows: flows, implementation: .reference)
        var whole = search; whole.k = nil
        let table = try whole(video, keys: keys, queries: queries, flows: flows, implementation: .reference)
        let run = { () throws in try search(dVideo, keys: dKeys, queries: queries, flows: dFlows, implementation: impl) }
        let got = try run(), again = try run()
        if let mismatch = try searchMismatch(got, reference, wholeWindow: k == nil ? nil : table, metric: metric,
                                             tolerance: .float32) {
            problems.add("search: \(mismatch)")
        }
        try problems.expectIdentical("search distances", got.distances, again.distances)
        try problems.expectIdentical("search indices", got.indices, again.indices)
        try checkWildFlowSearch(search, video: video, keys: keys, grid: grid, device: device, implementation: impl,
                                rng: &rng, &problems)

        // Search backward, for the reference's neighbours: cross search and self-search.
        let indices = reference.indices
        let dIndices = try indices.to(device)
        let gradient = floats([batch, Q, K], &rng, -1, 1)
        let dGradient = try gradient.to(device)
        let cross = try search.backward(distanceGradient: gradient, indices: indices, video: video, keys: keys,
                                        queries: queries, implementation: .reference)
        let backward = { () throws in
            try search.backward(distanceGradient: dGradient, indices: dIndices, video: dVideo, keys: dKeys,
                                queries: queries, implementation: impl)
        }
        let gotCross = try backward(), againCross = try backward()
        try problems.expectClose("search backward (video)", gotCross.video, cross.video)
        try problems.expectClose("search backward (keys)", gotCross.keys!, cross.keys!)
        try problems.expectIdentical("search backward", gotCross.video, againCross.video)
        try problems.expectIdentical("search backward (keys)", gotCross.keys!, againCross.keys!)
        let selfWant = try search.backward(distanceGradient: gradient, indices: indices, video: video, queries: queries,
                                           implementation: .reference)
        let selfGot = try search.backward(distanceGradient: dGradient, indices: dIndices, video: dVideo, queries: queries,
                                          implementation: impl)
        try problems.expectClose("self-search backward", selfGot.video, selfWant.video)
        // The same queries as an explicit position table (B, Q, 3): the backends take another
        // path for the query side (an anchor table instead of the grid's inverse).
        let explicit = (0..<batch).flatMap { _ in (0..<Q).flatMap { q -> [Int32] in
            let p = grid.position(q)
            return [Int32(p.t), Int32(p.h), Int32(p.w)]
        } }
        let positions = Queries.positions(try Tensor<Int32>(shape: [batch, Q, 3], scalars: explicit).to(device))
        let explicitGot = try search.backward(distanceGradient: dGradient, indices: dIndices, video: dVideo, keys: dKeys,
                                              queries: positions, implementation: impl)
        try problems.expectClose("search backward, explicit queries (video)", explicitGot.video, cross.video)
        try problems.expectClose("search backward, explicit queries (keys)", explicitGot.keys!, cross.keys!)

        // Scatter and its adjoint at the neighbour indices (empty slots included).
        let scatter = PatchScatter(geometry: geometry)
        let patches = try scatter(video, indices: indices, implementation: .reference)
        try problems.expectPair("scatter", try scatter(dVideo, indices: dIndices, implementation: impl),
                                try scatter(dVideo, indices: dIndices, implementation: impl), patches)
        let patchGradient = floats(patches.shape, &rng, -1, 1)
        let dPatchGradient = try patchGradient.to(device)
        try problems.expectPair(
            "scatter backward",
            try scatter.backward(patchGradient: dPatchGradient, indices: dIndices, videoShape: shape, implementation: impl),
            try scatter.backward(patchGradient: dPatchGradient, indices: dIndices, videoShape: shape, implementation: impl),
            try scatter.backward(patchGradient: patchGradient, indices: indices, videoShape: shape, implementation: .reference))

        // Gather with weights, forward and backward.
        let gather = PatchGather(geometry: geometry)
        let weights = floats([batch, Q, K], &rng, 0, 1)
        let dWeights = try weights.to(device)
        let gathered = try gather(patchGradient, weights: weights, indices: indices, videoShape: shape, implementation: .reference)
        let gatherRun = { () throws in
            try gather(dPatchGradient, weights: dWeights, indices: dIndices, videoShape: shape, implementation: impl)
        }
        let g1 = try gatherRun(), g2 = try gatherRun()
        try problems.expectPair("gather (video)", g1.video, g2.video, gathered.video)
        try problems.expectPair("gather (weight sum)", g1.weightSum, g2.weightSum, gathered.weightSum)
        let videoGradient = floats(shape, &rng, -1, 1)
        let sumGradient = floats([batch, frames, 1, height, width], &rng, -1, 1)
        let dVideoGradient = try videoGradient.to(device), dSumGradient = try sumGradient.to(device)
        let gatherBack = try gather.backward(videoGradient: videoGradient, weightSumGradient: sumGradient, patches: patchGradient,
                                             weights: weights, indices: indices, implementation: .reference)
        let gatherBackRun = { () throws in
            try gather.backward(videoGradient: dVideoGradient, weightSumGradient: dSumGradient, patches: dPatchGradient,
                                weights: dWeights, indices: dIndices, implementation: impl)
        }
        let b1 = try gatherBackRun(), b2 = try gatherBackRun()
        try problems.expectPair("gather backward (patches)", b1.patches, b2.patches, gatherBack.patches)
        try problems.expectPair("gather backward (weights)", b1.weights!, b2.weights!, gatherBack.weights!)

        // Weighted patch sum, forward and backward.
        let wpsum = WeightedPatchSum(geometry: geometry)
        let sums = try wpsum(video, weights: weights, indices: indices, implementation: .reference)
        try problems.expectPair("wpsum", try wpsum(dVideo, weights: dWeights, indices: dIndices, implementation: impl),
                                try wpsum(dVideo, weights: dWeights, indices: dIndices, implementation: impl), sums)
        let sumsGradient = floats(sums.shape, &rng, -1, 1)
        let dSumsGradient = try sumsGradient.to(device)
        let wBack = try wpsum.backward(outputGradient: sumsGradient, video: video, weights: weights, indices: indices,
                                       implementation: .reference)
        let wRun = { () throws in
            try wpsum.backward(outputGradient: dSumsGradient, video: dVideo, weights: dWeights, indices: dIndices,
                               implementation: impl)
        }
        let w1 = try wRun(), w2 = try wRun()
        try problems.expectPair("wpsum backward (video)", w1.video, w2.video, wBack.video)
        try problems.expectPair("wpsum backward (weights)", w1.weights, w2.weights, wBack.weights)

        // Unfold and fold over the region, in two batches of queries.
        let unfold = PatchUnfold(geometry: geometry), fold = PatchFold(geometry: geometry)
        let half = Q / 2
        for batchRange in [0..<half, half..<Q] where !batchRange.isEmpty {
            let unfolded = try unfold(video, grid: grid, batch: batchRange, implementation: .reference)
            try problems.expectPair("iunfold", try unfold(dVideo, grid: grid, batch: batchRange, implementation: impl),
                                    try unfold(dVideo, grid: grid, batch: batchRange, implementation: impl), unfolded)
            let folded = try fold(unfolded, grid: grid, batch: batchRange, videoShape: shape, implementation: .reference)
            let dUnfolded = try unfolded.to(device)
            try problems.expectPair(
                "ifold", try fold(dUnfolded, grid: grid, batch: batchRange, videoShape: shape, implementation: impl),
                try fold(dUnfolded, grid: grid, batch: batchRange, videoShape: shape, implementation: impl), folded)
            try problems.expectPair(
                "ifold backward", try fold.backward(videoGradient: dVideoGradient, grid: grid, batch: batchRange, implementation: impl),
                try fold.backward(videoGradient: dVideoGradient, grid: grid, batch: batchRange, implementation: impl),
                try fold.backward(videoGradient: videoGradient, grid: grid, batch: batchRange, implementation: .reference))
            try problems.expectPair(
                "iunfold backward",
                try unfold.backward(patchGradient: dUnfolded, grid: grid, batch: batchRange, videoShape: shape, implementation: impl),
                try unfold.backward(patchGradient: dUnfolded, grid: grid, batch: batchRange, videoShape: shape, implementation: impl),
                try unfold.backward(patchGradient: unfolded, grid: grid, batch: batchRange, videoShape: shape, implementation: .reference))
        }
    }

    /// Search forward with wild flows at a listed, shuffled copy of the grid's queries: flows
    /// constant on blocks of 4 × 4 pixels (discontinuous at every block edge), each block's
    /// displacement uniform in ± the frame's size, so that many windows are clamped at a border.
    private func checkWildFlowSearch(_ search: PatchSearch, video: Tensor<Float>, keys: Tensor<Float>, grid: QueryGrid,
                                     device: Device, implementation impl: Implementation, rng: inout SplitMix64,
                                     _ problems: inout Problems) throws {
        let flowShape = [batch, frames, 2, height, width]
        func wild() throws -> Tensor<Float> {
            let bh = (height + 3) / 4, bw = (width + 3) / 4
            let blocks = (0..<batch * frames * 2 * bh * bw).map { e in
                Float(rng.uniform(-1, 1)) * Float(e / (bh * bw) % 2 == 0 ? width : height)
            }
            var values = [Float](repeating: 0, count: flowShape.reduce(1, *))
            for plane in 0..<batch * frames * 2 {
                for y in 0..<height {
                    for x in 0..<width {
                        values[(plane * height + y) * width + x] = blocks[(plane * bh + y / 4) * bw + x / 4]
                    }
                }
            }
            return try Tensor(shape: flowShape, scalars: values)
        }
        let flows = Flows(forward: try wild(), backward: try wild())
        var listed: [Int32] = []
        for _ in 0..<batch {
            var order = Array(0..<grid.count)
            order.shuffle(using: &rng)
            for q in order {
                let p = grid.position(q)
                listed += [Int32(p.t), Int32(p.h), Int32(p.w)]
            }
        }
        let positions = try Tensor<Int32>(shape: [batch, grid.count, 3], scalars: listed)
        let want = try search(video, keys: keys, queries: .positions(positions), flows: flows, implementation: .reference)
        var whole = search
        whole.k = nil
        let table = search.k == nil ? nil : try whole(video, keys: keys, queries: .positions(positions), flows: flows,
                                                        implementation: .reference)
        let got = try search(try video.to(device), keys: try keys.to(device), queries: .positions(try positions.to(device)),
                             flows: Flows(forward: try flows.forward!.to(device), backward: try flows.backward!.to(device)),
                             implementation: impl)
        if let mismatch = try searchMismatch(got, want, wholeWindow: table, metric: search.metric, tolerance: .float32) {
            problems.add("search, wild flows at shuffled listed queries: \(mismatch)")
        }
    }
}

/// Uniform Float values in [lo, hi).
private func floats(_ shape: [Int], _ rng: inout SplitMix64, _ lo: Double = 0, _ hi: Double = 1) -> Tensor<Float> {
    randomTensor(shape, &rng, lo, hi)
}

/// What a case found wrong.
struct Problems {
    var lines: [String] = []

    mutating func add(_ line: String) { lines.append(line) }

    @discardableResult
    mutating func expect(_ condition: Bool, _ line: @autoclosure () -> String) -> Bool {
        if !condition { lines.append(line()) }
        return condition
    }

    /// Elementwise agreement within Float32 rounding, relative to the largest reference value.
    mutating func expectClose(_ what: String, _ got: Tensor<Float>, _ want: Tensor<Float>) throws {
        let g = try got.to(.cpu).scalars, w = want.scalars
        guard expect(got.shape == want.shape, "\(what): shape \(got.shape) vs \(want.shape)") else { return }
        let scale = w.reduce(Float(0)) { max($0, abs($1)) }
        if let i = Tolerance.float32.scaled(Double(scale)).firstMismatch(g, w) {
            add("\(what): element \(i) is \(g[i]), reference \(w[i])")
        }
    }

    /// Bitwise equality of two runs.
    mutating func expectIdentical<S: TensorScalar>(_ what: String, _ a: Tensor<S>, _ b: Tensor<S>) throws {
        expect(try a.to(.cpu) == b.to(.cpu), "\(what): two runs differ (not deterministic)")
    }

    /// Two runs identical and close to the reference.
    mutating func expectPair(_ what: String, _ first: Tensor<Float>, _ second: Tensor<Float>, _ want: Tensor<Float>) throws {
        try expectClose(what, first, want)
        try expectIdentical(what, first, second)
    }
}
