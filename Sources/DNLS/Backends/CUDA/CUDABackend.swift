import CUDADriver

/// The CUDA backend: every operation as NVRTC-compiled kernels on one GPU.
///
/// Kernels read the geometry from a small table block built from the Swift definitions
/// (``CUDAGeometryBlock``). Scatter-adds run as per-destination gathers over a host-built table of
/// the sites anchored at each pixel, so every backward is deterministic without atomics.
struct CUDABackend: PatchBackend {
    typealias Scalar = Float
    let runtime: CUDARuntime
    var device: Device { .cuda(runtime.context.ordinal) }

    init(ordinal: Int) throws(DNLSError) {
        runtime = try CUDARuntime.shared(ordinal: ordinal)
    }

    // MARK: launching

    private static let threads = 128

    private func launch(_ name: String, constants: [String: String] = [:], count: Int,
                        _ arguments: [CUDAKernel.Argument]) throws(DNLSError) {
        guard count > 0 else { return }
        let kernel = try runtime.kernel(name, constants: constants)
        let blocks = (count + Self.threads - 1) / Self.threads
        try cuda(device) { () throws(CUDAError) in
            try kernel.launch(grid: (blocks, 1, 1), block: (Self.threads, 1, 1), arguments: arguments)
        }
    }

    /// A new device tensor of `shape` (contents undefined until a kernel writes them).
    private func empty<S: TensorScalar>(_ shape: [Int], _: S.Type = S.self) throws(DNLSError) -> Tensor<S> {
        try Tensor<S>(uninitializedOn: device, shape: shape)
    }

    private func zeros(_ shape: [Int]) throws(DNLSError) -> Tensor<Float> {
        try Tensor<Float>.zeros(shape, on: device)
    }

    /// Uploads a host array of `Int32` as a temporary device tensor.
    private func upload(_ values: [Int32]) throws(DNLSError) -> Tensor<Int32> {
        try Tensor<Int32>(uncheckedShape: [values.count], scalars: values).to(device)
    }

    private func address<S>(_ t: Tensor<S>?) -> CUDAKernel.Argument {
        .pointer(t?.deviceStorage?.buffer.address ?? 0)
    }

    /// Query positions on the device, `(B or 1, Q, 3)`, and the stride between batch items.
    private func queryTable(_ queries: QueryList) throws(DNLSError) -> (Tensor<Int32>, Int) {
        switch queries.source {
        case let .explicit(positions):
            return (try upload(positions), queries.count * 3)
        case let .grid(grid, start):
            return (try upload(gridPositions(grid, start: start, count: queries.count)), 0)
        }
    }

    /// Site positions on the device, `(B or 1, S, 3)`, and the stride between batch items.
    private func siteTable(_ sites: PatchSites) throws(DNLSError) -> (Tensor<Int32>, Int) {
        switch sites.source {
        case let .neighbours(triples):
            return (try upload(triples.isEmpty ? [-1, -1, -1] : triples), sites.queries * sites.k * 3)
        case .grid:
            return (try upload([-1, -1, -1]), 0)  // unused: kernels compute grid sites (gridArgument)
        }
    }

    // MARK: search

    func searchForward(_ p: SearchProblem<Float>) throws(DNLSError) -> (distances: Tensor<Float>, indices: Tensor<Int32>) {
        let s = p.shape, Q = p.queries.count, slots = p.slots
        let block = try upload(CUDAGeometryBlock.make(p.geometry, window: p.window, shape: s))
        let distances: Tensor<Float> = try empty([s.batch, Q, slots])
        let indices: Tensor<Int32> = try empty([s.batch, Q, slots, 3])
        let whole = p.k == nil
        let constants = ["KMAX": "\(p.k ?? 1)", "WHOLE": whole ? "1" : "0"]
        if try searchTiled(p, constants: constants, block: block, distances: distances, indices: indices) {
            return (distances, indices)
        }
        let (queries, queryStride) = try queryTable(p.queries)
        try launch("search_forward", constants: constants, count: s.batch * Q, [
            address(p.videoTensor), address(p.keysTensor), address(queries), .int64(Int64(queryStride)),
            address(p.flows.forward), address(p.flows.backward), address(block),
            .int32(Int32(s.batch)), .int32(Int32(s.frames)), .int32(Int32(s.channels)), .int32(Int32(s.height)),
            .int32(Int32(s.width)), .int32(Int32(p.channels)), .int32(Int32(p.geometry.patchSize)),
            .int32(Int32(p.window.size)), .int32(Int32(p.window.frameCount(videoFrames: s.frames))), .int32(Int32(Q)),
            .int32(Int32(slots)), .int32(p.metric == .l2 ? 1 : 0), address(distances), address(indices),
        ])
        return (distances, indices)
    }

    /// The tiled search (`search_forward_tiled`) when it applies: no flow, a stride-1 query grid,
    /// and tiles that fit in shared memory. Returns false to fall back to the general kernel.
    private func searchTiled(_ p: SearchProblem<Float>, constants: [String: String], block: Tensor<Int32>,
                             distances: Tensor<Float>, indices: Tensor<Int32>) throws(DNLSError) -> Bool {
        guard p.flows.isZero, case let .grid(grid, start) = p.queries.source, grid.stride == 1 else { return false }
        let tile = 16, s = p.shape, g = p.geometry, window = p.window
        let dmin = window.offset(0), reach = window.offset(window.size - 1) - dmin
        let sideQ = tile + g.span - 1, sideK = tile + reach + g.span - 1
        let bytes = p.channels * (sideQ * sideQ + sideK * sideK) * MemoryLayout<Float>.size
        guard bytes <= runtime.context.maxSharedMemoryPerBlock else { return false }
        let kernel = try runtime.kernel("search_forward_tiled", constants: constants)
        let tiles = ((grid.rows + tile - 1) / tile) * ((grid.columns + tile - 1) / tile) * grid.frames * s.batch
        try cuda(device) { () throws(CUDAError) in
            if bytes > 48 * 1024 { try kernel.allowSharedMemory(bytes: bytes) }
            try kernel.launch(grid: (tiles, 1, 1), block: (tile * tile, 1, 1), sharedBytes: bytes, arguments: [
                address(p.videoTensor), address(p.keysTensor), gridArgument(PatchSites(grid: grid, batch: start..<start + p.queries.count)),
                address(block),
            ] + dims(s) + [
                .int32(Int32(p.channels)), .int32(Int32(g.patchSize)), .int32(Int32(window.size)),
                .int32(Int32(window.frameCount(videoFrames: s.frames))), .int32(Int32(p.queries.count)), .int32(Int32(p.slots)),
                .int32(p.metric == .l2 ? 1 : 0), .int32(Int32(dmin)), .int32(Int32(reach)), .int32(Int32(g.span)),
                .int32(Int32(g.dilation)), address(distances), address(indices),
            ])
        }
        return true
    }

    func searchBackward(_ p: SearchProblem<Float>, indices: Tensor<Int32>, gradient: Tensor<Float>,
                        selfSearch: Bool) throws(DNLSError) -> (video: Tensor<Float>, keys: Tensor<Float>?) {
        let s = p.shape, Q = p.queries.count, K = p.slots, ps = p.geometry.patchSize
        let block = try upload(CUDAGeometryBlock.make(p.geometry, window: nil, shape: s))
        let (queries, queryStride) = try queryTable(p.queries)
        let indices = try indices.to(device), gradient = try gradient.to(device)
        // Query side: per-query patch of gradients, then deposited at the query positions.
        let queryPatches: Tensor<Float> = try empty([s.batch, Q, 1, s.channels, ps, ps])
        try launch("search_backward_queries", count: s.batch * Q * s.channels * ps * ps, [
            address(p.videoTensor), address(p.keysTensor), address(queries), .int64(Int64(queryStride)),
            address(indices), address(gradient), address(block),
        ] + dims(s) + [.int32(Int32(p.channels)), .int32(Int32(ps)), .int32(Int32(Q)), .int32(Int32(K)),
                       .int32(p.metric == .l2 ? 1 : 0), address(queryPatches)])
        var gradVideo = try zeros([s.batch, s.frames, s.channels, s.height, s.width])
        let querySites = PatchSites(positions: p.queries)
        try gatherDeposit(mode: 0, patches: queryPatches, weights: nil, sites: querySites, geometry: p.geometry,
                          into: &gradVideo, shape: s)
        // Key side: every (query, neighbour) pair adds its distance gradient at the neighbour.
        var gradKeys = selfSearch ? gradVideo : try zeros([s.batch, s.frames, s.channels, s.height, s.width])
        let neighbourSites = PatchSites(neighbours: try indices.hostElements(), queries: Q, k: K)
        try gatherDeposit(mode: 2, patches: nil, weights: gradient, sites: neighbourSites, geometry: p.geometry,
                          into: &gradKeys, shape: s, search: (p, queries, queryStride))
        return selfSearch ? (gradKeys, nil) : (gradVideo, gradKeys)
    }

    // MARK: patches

    func extractPatches(_ video: Tensor<Float>, shape s: VideoShape, sites: PatchSites, geometry g: PatchGeometry) throws(DNLSError) -> Tensor<Float> {
        let ps = g.patchSize
        let block = try upload(CUDAGeometryBlock.make(g, window: nil, shape: s))
        let (table, stride) = try siteTable(sites)
        let out: Tensor<Float> = try empty([s.batch, sites.queries, sites.k, s.channels, ps, ps])
        let S = sites.queries * sites.k
        try launch("extract_patches", count: out.count, [
            address(video), .pointer(0), address(table), .int64(Int64(stride)), gridArgument(sites), address(block),
        ] + dims(s) + [.int32(Int32(ps)), .int64(Int64(S)), address(out)])
        return out
    }

    func depositPatches(_ patches: Tensor<Float>, weights: Tensor<Float>?, sites: PatchSites, geometry g: PatchGeometry,
                 into video: inout Tensor<Float>, shape s: VideoShape, weightSum: inout Tensor<Float>?) throws(DNLSError) {
        try gatherDeposit(mode: 0, patches: patches, weights: weights, sites: sites, geometry: g, into: &video, shape: s)
        if var sum = weightSum {
            weightSum = nil
            let single = VideoShape(batch: s.batch, frames: s.frames, channels: 1, height: s.height, width: s.width, batched: true)
            try gatherDeposit(mode: 1, patches: nil, weights: weights, sites: sites, geometry: g, into: &sum, shape: single)
            weightSum = sum
        }
    }

    func weightedPatchSum(_ video: Tensor<Float>, shape s: VideoShape, weights: Tensor<Float>, sites: PatchSites,
                     geometry g: PatchGeometry) throws(DNLSError) -> Tensor<Float> {
        let ps = g.patchSize
        let block = try upload(CUDAGeometryBlock.make(g, window: nil, shape: s))
        let (table, stride) = try siteTable(sites)
        let weights = try weights.to(device)
        let out: Tensor<Float> = try empty([s.batch, sites.queries, 1, s.channels, ps, ps])
        try launch("weighted_sum", count: out.count, [
            address(video), address(weights), address(table), .int64(Int64(stride)), address(block),
        ] + dims(s) + [.int32(Int32(ps)), .int32(Int32(sites.queries)), .int32(Int32(sites.k)), address(out)])
        return out
    }

    func weightedPatchSumBackward(_ video: Tensor<Float>, shape s: VideoShape, weights: Tensor<Float>, sites: PatchSites,
                             geometry g: PatchGeometry, gradient: Tensor<Float>) throws(DNLSError) -> (video: Tensor<Float>, weights: Tensor<Float>) {
        let ps = g.patchSize
        let weights = try weights.to(device), gradient = try gradient.to(device)
        var gradVideo = try zeros([s.batch, s.frames, s.channels, s.height, s.width])
        try gatherDeposit(mode: 3, patches: gradient, weights: weights, sites: sites, geometry: g, into: &gradVideo, shape: s)
        let block = try upload(CUDAGeometryBlock.make(g, window: nil, shape: s))
        let (table, stride) = try siteTable(sites)
        let gradWeights: Tensor<Float> = try empty([s.batch, sites.queries, sites.k])
        try launch("weighted_sum_weight_gradient", count: gradWeights.count, [
            address(video), address(gradient), address(table), .int64(Int64(stride)), address(block),
        ] + dims(s) + [.int32(Int32(ps)), .int32(Int32(sites.queries)), .int32(Int32(sites.k)), address(gradWeights)])
        return (gradVideo, gradWeights)
    }

    func gatherBackward(videoGradient: Tensor<Float>, weightSumGradient: Tensor<Float>?, patches: Tensor<Float>,
                        weights: Tensor<Float>?, sites: PatchSites, geometry g: PatchGeometry, shape s: VideoShape)
        throws(DNLSError) -> (patches: Tensor<Float>, weights: Tensor<Float>?) {
        let ps = g.patchSize, S = sites.queries * sites.k
        let block = try upload(CUDAGeometryBlock.make(g, window: nil, shape: s))
        let (table, stride) = try siteTable(sites)
        let weights = try weights?.to(device), gradient = try videoGradient.to(device)
        let gradPatches: Tensor<Float> = try empty([s.batch, sites.queries, sites.k, s.channels, ps, ps])
        try launch("extract_patches", count: gradPatches.count, [
            address(gradient), address(weights), address(table), .int64(Int64(stride)), gridArgument(sites), address(block),
        ] + dims(s) + [.int32(Int32(ps)), .int64(Int64(S)), address(gradPatches)])
        guard weights != nil else { return (gradPatches, nil) }
        let gradWeights: Tensor<Float> = try empty([s.batch, sites.queries, sites.k])
        let sumGradient = try weightSumGradient?.to(device), patches = try patches.to(device)
        try launch("gather_weight_gradient", count: gradWeights.count, [
            address(patches), address(gradient), address(sumGradient), address(table), .int64(Int64(stride)), address(block),
        ] + dims(s) + [.int32(Int32(ps)), .int64(Int64(S)), address(gradWeights)])
        return (gradPatches, gradWeights)
    }

    /// The kernels' `Grid` struct: the grid of `sites` computed on the device (`on = 0` for
    /// neighbour sites, which come from the site table instead).
    private func gridArgument(_ sites: PatchSites) -> CUDAKernel.Argument {
        var words: [Int32] = Array(repeating: 0, count: 8)
        var start: Int64 = 0
        if case let .grid(grid, first) = sites.source {
            words = [1, Int32(grid.origin.t), Int32(grid.origin.h), Int32(grid.origin.w), Int32(grid.stride),
                     Int32(grid.frames), Int32(grid.rows), Int32(grid.columns)]
            start = Int64(first)
        }
        let bytes = (words.flatMap { CUDAKernel.Argument.int32($0).bytes }) + CUDAKernel.Argument.int64(start).bytes
        return .structure(bytes)
    }

    private func dims(_ s: VideoShape) -> [CUDAKernel.Argument] {
        [.int32(Int32(s.batch)), .int32(Int32(s.frames)), .int32(Int32(s.channels)), .int32(Int32(s.height)), .int32(Int32(s.width))]
    }

    /// Adds the contributions of every site into `video` (the deposit_gather kernel, see its comment):
    /// mode 0 patches × weights, 1 weights alone, 2 search key-side gradient, 3 weighted output gradient.
    private func gatherDeposit(mode: Int32, patches: Tensor<Float>?, weights: Tensor<Float>?, sites: PatchSites,
                               geometry g: PatchGeometry, into video: inout Tensor<Float>, shape s: VideoShape,
                               search: (SearchProblem<Float>, Tensor<Int32>, Int)? = nil) throws(DNLSError) {
        try video.makeDeviceStorageUnique()
        // Grid sites need no anchor table: the kernel inverts the grid.
        let (starts, members) = sites.isShared ? ([0, 0], [0]) : try AnchorTable.make(sites, shape: s)
        let startsOnDevice = try upload(starts), membersOnDevice = try upload(members.isEmpty ? [0] : members)
        let block = try upload(CUDAGeometryBlock.make(g, window: nil, shape: s))
        let patches = try patches?.to(device), weights = try weights?.to(device)
        let (problem, queries, queryStride) = (search?.0, search?.1, search?.2 ?? 0)
        try launch("deposit_gather", count: s.count, [
            .int32(mode), address(patches), address(weights), address(problem?.videoTensor), address(problem?.keysTensor),
            address(queries), .int64(Int64(queryStride)), .int32(Int32(sites.k)), .int32(Int32(problem?.channels ?? 0)),
            .int32(problem?.metric == .innerProduct ? 0 : 1), address(block), address(startsOnDevice), address(membersOnDevice),
            gridArgument(sites),
        ] + dims(s) + [.int32(Int32(g.patchSize)), .int64(Int64(sites.queries * sites.k)), address(video)])
    }
}
