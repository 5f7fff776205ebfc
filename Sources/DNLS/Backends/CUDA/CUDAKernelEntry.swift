// The typed names of the kernels and of the constants they are compiled with. A launch hashes an
// enum and a few integers to find its loaded kernel, instead of strings and dictionaries of
// strings (which cost about half of a small search's host time).

/// A kernel entry point: the typed name a launch gives, spelled as its family's CUDA source
/// declares it (`extern "C" __global__ void <rawValue>(…)`). A test checks that the cases and the
/// declarations are the same set, so a launch can only name a kernel that exists.
enum CUDAKernelEntry: String, CaseIterable, Sendable {
    // The patch search (`search`)
    case searchForward = "search_forward"
    case searchForwardBox = "search_forward_box"
    case searchBoxMerge = "search_box_merge"
    // Anchor tables (`anchors`)
    case foldSlots = "fold_slots"
    case anchorCount = "anchor_count"
    case anchorClear = "anchor_clear"
    case scanBlocks = "scan_blocks"
    case scanTotals = "scan_totals"
    case scanAdd = "scan_add"
    case anchorRows = "anchor_rows"
    case anchorFill = "anchor_fill"
    case anchorSort = "anchor_sort"
    case anchorSortBig = "anchor_sort_big"
    // The search backward (`searchBackward`)
    case aggregateSearch = "aggregate_search"
    case aggregateSearchHubs = "aggregate_search_hubs"
    // Patches, unfolds and weighted sums (`patches`)
    case extractPatches = "extract_patches"
    case unfoldRuns = "unfold_runs"
    case unfoldGrid = "unfold_grid"
    case unfoldGrid32 = "unfold_grid32"
    case gatherWeightGradient = "gather_weight_gradient"
    case weightedSum = "weighted_sum"
    case weightedSumWeightGradient = "weighted_sum_weight_gradient"
    // Deposits (`deposit`)
    case aggregateDeposit = "aggregate_deposit"
    case depositDirect = "deposit_direct"
    // Input checks and the deferred-failure record (`checks`)
    case firstInvalidTriple = "first_invalid_triple"
    case copyFirstTriple = "copy_first_triple"
    case recordFirstTriple = "record_first_triple"
    case firstNonfinite = "first_nonfinite"
    case recordFailure = "record_failure"
    case recordChecks = "record_checks"
    case flowsMove = "flows_move"
    // Differentiable tensor math (`tensorMath`)
    case mathFill = "tm_fill"
    case mathCombine = "tm_combine"
    case mathScale = "tm_scale"
    case mathExp = "tm_exp"
    case mathSoftmax = "tm_softmax"
    case mathSoftmaxBackward = "tm_softmax_backward"
    case mathSumAxis = "tm_sum_axis"
    case mathSumChunks = "tm_sum_chunks"
    case mathBroadcast = "tm_broadcast"
    case mathChannelMix = "tm_channel_mix"
    case mathChannelMixInput = "tm_channel_mix_input"
    case mathChannelMixPartials = "tm_channel_mix_partials"
    // The denoisers' steps (`denoise`)
    case bayesGroups = "bayes_groups"
    case bayesFlat = "bayes_flat"
    case colourBasis = "colour_basis"
    case normaliseSums = "normalise_sums"
    case meansWeights = "means_weights"
    case pyramidCorrection = "pyramid_correction"
    case pyramidExpand = "pyramid_expand"
    // Flow estimation's steps (`flow`)
    case flowBlur = "flow_blur"
    case flowHalve = "flow_halve"
    case flowDouble = "flow_double"
    case flowMedian = "flow_median"
    case flowClip = "flow_clip"
    case flowUpdate = "flow_update"
    case flowAssemble = "flow_assemble"
}

/// The compile-time constants a kernel module is specialised with. Each field is one NVRTC
/// definition (named in its comment); ``definitions`` spells them out when a module is compiled.
/// Kernels that use none of a family's constants share the module built with the defaults.
struct CUDAKernelConstants: Hashable, Sendable {
    /// Neighbours a query keeps (`KMAX`).
    var kept = 1
    /// Whether the search keeps every candidate of the window (`WHOLE`).
    var wholeWindow = false
    /// Whether every position a kernel reads is range-checked first (`GUARDED`): under deferred
    /// checking a kernel may run on a table whose check has failed.
    var guarded = false
    /// The box-filtered search's tiling (`BOX_*`).
    var box: BoxSearchConstants?
    /// The fold's patch size (`FOLD_PS`).
    var foldPatchSize: Int?
    /// The stride of the fold's query grid (`FOLD_STRIDE`), for folds over a grid.
    var foldGridStride: Int?
    /// The unfold's patch size (`UNF_PS`).
    var unfoldPatchSize: Int?
    /// Output columns an unfold thread writes in a run (`UNF_RUN`).
    var unfoldRun: Int?
    /// Entries per patch channel of a Bayes group estimate (`GE_D`) and its warps per block (`GE_WARPS`).
    var groupEntries: Int?
    var groupWarps: Int?

    /// The `-D NAME=VALUE` definitions, by name.
    var definitions: [String: String] {
        var d = ["KMAX": "\(kept)", "WHOLE": wholeWindow ? "1" : "0", "GUARDED": guarded ? "1" : "0"]
        if let box { d.merge(box.definitions) { $1 } }
        if let foldPatchSize { d["FOLD_PS"] = "\(foldPatchSize)" }
        if let foldGridStride { d["FOLD_STRIDE"] = "\(foldGridStride)" }
        if let unfoldPatchSize { d["UNF_PS"] = "\(unfoldPatchSize)" }
        if let unfoldRun { d["UNF_RUN"] = "\(unfoldRun)" }
        if let groupEntries { d["GE_D"] = "\(groupEntries)" }
        if let groupWarps { d["GE_WARPS"] = "\(groupWarps)" }
        return d
    }
}

/// The compile-time constants of the box-filtered search (`search_forward_box` and its merge),
/// fixed by its ``BoxSearchPlan``.
struct BoxSearchConstants: Hashable, Sendable {
    /// Query tile side (`BOX_TQ`), threads per block (`BOX_NT`), window size (`BOX_WS`), patch
    /// size (`BOX_PS`), dilation (`BOX_DIL`) and query-grid stride (`BOX_STRIDE`).
    var tile, threads, windowSize, patchSize, dilation, gridStride: Int
    /// Channels per shared-memory chunk (`BOX_CC`) and held in registers (`BOX_CI`), query
    /// columns per column group (`BOX_JG`), window stride (`BOX_WSTEP`).
    var channelChunk, registerChannels, columnGroup, windowStride: Int
    /// Rows per group (`BOX_RG`) and of them in registers (`BOX_RA`), shared buffers (`BOX_NBUF`),
    /// blocks per multiprocessor for the register bound (`BOX_MINB`), row-sum stride (`BOX_TQP`).
    var rowGroup, rowsInRegisters, buffers, residentBlocks, sumStride: Int
    /// Whether one pass holds every channel (`BOX_ONCE`).
    var onePass: Bool
    /// Whether the search follows flows (`BOX_FLOW`): ``windowSize`` is then the side of the union
    /// window a block box-filters, and ``queryWindowSize`` that of each query's own window (`BOX_QWS`).
    var flow: Bool = false
    var queryWindowSize: Int
    /// Whether blocks share tiles, splitting the window's segments (`BOX_SPLIT`); set per launch.
    var sharesTiles: Bool?
    /// Whether the metric is the squared L2 distance rather than the inner product (`BOX_L2`); set
    /// per launch.
    var l2: Bool?

    /// The `-D` definitions, by name.
    var definitions: [String: String] {
        var d = [
            "BOX_TQ": "\(tile)", "BOX_NT": "\(threads)", "BOX_WS": "\(windowSize)", "BOX_PS": "\(patchSize)",
            "BOX_DIL": "\(dilation)", "BOX_STRIDE": "\(gridStride)", "BOX_CC": "\(channelChunk)",
            "BOX_CI": "\(registerChannels)", "BOX_JG": "\(columnGroup)", "BOX_WSTEP": "\(windowStride)",
            "BOX_RG": "\(rowGroup)", "BOX_RA": "\(rowsInRegisters)", "BOX_NBUF": "\(buffers)",
            "BOX_MINB": "\(residentBlocks)", "BOX_TQP": "\(sumStride)", "BOX_ONCE": onePass ? "1" : "0",
            "BOX_FLOW": flow ? "1" : "0", "BOX_QWS": "\(queryWindowSize)",
        ]
        if let sharesTiles { d["BOX_SPLIT"] = sharesTiles ? "1" : "0" }
        if let l2 { d["BOX_L2"] = l2 ? "1" : "0" }
        return d
    }
}
