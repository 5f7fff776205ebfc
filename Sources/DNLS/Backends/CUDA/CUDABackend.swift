import CUDADriver
internal import CDNLSKernels

/// The CUDA backend: every operation as NVRTC-compiled kernels on one GPU.
///
/// Kernels read the geometry from a small table block built from the Swift definitions
/// (``CUDAGeometryBlock``). Scatter-adds aggregate, per anchor, the contributions of the sites listed
/// in a device-built table (integer atomics for counts only, members sorted), then fold them per
/// pixel in a fixed order, so every backward is deterministic without float atomics.
struct CUDABackend: PatchBackend {
    typealias Scalar = Float
    let runtime: CUDARuntime
    var device: Device { .cuda(runtime.context.ordinal) }
    /// The stream every launch, copy and allocation of this call is queued on: the calling scope's
    /// (``withStream(_:checking:_:)``), else the legacy default stream (`nil`).
    let stream: CUDAStream?

    init(ordinal: Int) throws(DNLSError) {
        runtime = try CUDARuntime.shared(ordinal: ordinal)
        stream = Device.cuda(ordinal).currentStream
    }

    // MARK: launching

    static let threads = 128

    /// Launches `entry`, specialised with `constants`, on a grid of `blocks` × `gridRows` blocks of
    /// `threads` threads with `sharedBytes` of dynamic shared memory (opted into above the default
    /// 48 KiB), with its one parameter struct (declared in `dnls_kernels.h`).
    func launch<Parameters: BitwiseCopyable>(_ entry: CUDAKernelEntry, constants: CUDAKernelConstants = CUDAKernelConstants(),
                                             blocks: Int, gridRows: Int = 1, threads: Int, sharedBytes: Int = 0,
                                             parameters: Parameters) throws(DNLSError) {
        try withKernel(entry, constants: constants, blocks: blocks, gridRows: gridRows, sharedBytes: sharedBytes) {
            (kernel) throws(CUDAError) in
            try kernel.launch(grid: (blocks, gridRows, 1), block: (threads, 1, 1), sharedBytes: sharedBytes, stream: stream,
                              parameters: parameters)
        }
    }

    /// Launches `entry` with one thread per item of `count`, in blocks of ``threads``, with its
    /// parameter struct.
    func launch<Parameters: BitwiseCopyable>(_ entry: CUDAKernelEntry, constants: CUDAKernelConstants = CUDAKernelConstants(),
                                             count: Int, parameters: Parameters) throws(DNLSError) {
        try launch(entry, constants: constants, blocks: (count + Self.threads - 1) / Self.threads, threads: Self.threads,
                   parameters: parameters)
    }

    /// Runs `body` with the loaded kernel of `entry` for a non-empty grid, outside a planning run,
    /// opted into `sharedBytes` of dynamic shared memory above the default 48 KiB. Under deferred
    /// checking a kernel may run on a table whose check has failed, so every position it reads is
    /// tested in full (`GUARDED`); under eager checking every table has passed its check before any
    /// kernel reads it.
    private func withKernel(_ entry: CUDAKernelEntry, constants: CUDAKernelConstants, blocks: Int, gridRows: Int,
                            sharedBytes: Int, _ body: (CUDAKernel) throws(CUDAError) -> Void) throws(DNLSError) {
        guard blocks > 0, gridRows > 0, !device.isPlanning else { return }
        var constants = constants
        constants.guarded = device.inputChecking == .deferred
        let kernel = try runtime.kernel(entry, constants: constants)
        try cuda(device) { () throws(CUDAError) in
            if sharedBytes > 48 * 1024 { try kernel.allowSharedMemory(bytes: sharedBytes) }
            try body(kernel)
        }
    }

    /// Threads of a block in which consecutive threads take consecutive entries of a patch
    /// (`entries` per site): one per entry, in whole warps, up to 256.
    static func entryThreads(entries: Int) -> Int { min(256, (entries + 31) / 32 * 32) }

    /// Blocks and threads for kernels in which consecutive threads take consecutive entries of a
    /// patch (`entries` per site, coalesced) and each block walks `sitesPerBlock` sites.
    func entryLaunch(entries: Int, sites: Int, sitesPerBlock: Int) -> (blocks: Int, threads: Int) {
        let threads = Self.entryThreads(entries: entries), chunks = (entries + threads - 1) / threads
        return ((sites + sitesPerBlock - 1) / sitesPerBlock * chunks, threads)
    }

    /// A temporary of this call (contents undefined until a kernel writes them): from the
    /// caller's workspace inside ``withWorkspace(_:_:)``, else newly allocated.
    func scratch<S: TensorScalar>(_ shape: [Int], _: S.Type = S.self) throws(DNLSError) -> Tensor<S> {
        try Tensor<S>(scratchOn: device, shape: shape)
    }

    /// The output `role` of this call (contents undefined): the caller's tensor of an `into:`
    /// form, else newly allocated.
    func output<S: TensorScalar>(_ role: OutputRole, _ shape: [Int], _: S.Type = S.self) throws(DNLSError) -> Tensor<S> {
        try Tensor<S>.output(role, shape: shape, on: device)
    }

    /// ``output(_:_:_:)`` filled with zeros.
    func zeroOutput(_ role: OutputRole, _ shape: [Int]) throws(DNLSError) -> Tensor<Float> {
        try Tensor<Float>.zeroOutput(role, shape: shape, on: device)
    }

    /// Uploads a host array of `Int32` as a temporary device tensor (a stream-ordered copy).
    func upload(_ values: [Int32]) throws(DNLSError) -> Tensor<Int32> {
        let table: Tensor<Int32> = try scratch([values.count])
        try table.upload(values)
        return table
    }

    /// The device address of `t` for a parameter struct's pointer field (0, a null pointer, for nil).
    func pointer<S>(_ t: Tensor<S>?) -> UInt64 {
        t?.deviceStorage?.buffer.address ?? 0
    }

    /// Explicit query positions on the device, `(B, Q, 3)`, and the stride between batch items; `nil`
    /// for grid queries, which kernels compute from the grid in their parameters (no table the size of the
    /// queries). A caller's GPU tensor is used in place; only host lists are uploaded.
    func queryTable(_ queries: QueryList) throws(DNLSError) -> (Tensor<Int32>?, Int) {
        switch queries.source {
        case let .explicit(positions):
            return (try upload(positions), queries.count * 3)
        case let .deviceExplicit(positions):
            // An empty tensor may have no memory; kernels never read it (null pointer).
            return (positions.count == 0 ? nil : positions, queries.count * 3)
        case .grid:
            return (nil, 0)
        }
    }

    /// Site positions on the device, `(B or 1, S, 3)`, and the stride between batch items; `nil`
    /// for grid sites (kernels compute them from ``kernelGrid(_:)``) and for no sites (kernels
    /// never read the table; its pointer is null). A caller's GPU index tensor is used in place (no
    /// copy); only host triples are uploaded.
    func siteTable(_ sites: PatchSites) throws(DNLSError) -> (Tensor<Int32>?, Int) {
        let stride = sites.queries * sites.k * 3
        switch sites.source {
        case let .neighbours(triples):
            return (triples.isEmpty ? nil : try upload(triples), stride)
        case let .deviceNeighbours(tensor):
            return (tensor.count == 0 ? nil : tensor, stride)
        case .grid:
            return (nil, 0)
        }
    }

    /// The kernels' grid of `sites` computed on the device (all zero, `on = 0`, for neighbour
    /// sites, which come from the site table instead).
    func kernelGrid(_ sites: PatchSites) -> DNLSGrid {
        guard case let .grid(grid, first) = sites.source else { return DNLSGrid() }
        return DNLSGrid(on: 1, t0: Int32(grid.origin.t), h0: Int32(grid.origin.h), w0: Int32(grid.origin.w),
                        stride: Int32(grid.stride), frames: Int32(grid.frames), rows: Int32(grid.rows),
                        cols: Int32(grid.columns), start: Int64(first))
    }
}
