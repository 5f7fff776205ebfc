extension CUDAKernelSource {
    /// Scatter-adds at table sites: each anchor pixel's patch of summed contributions, then a fold.
    static let deposit = #"""
// What a deposit adds for site s (= q · K + m), entry (a, e), channel c.
enum { DEPOSIT_PATCHES = 0, DEPOSIT_WEIGHTS = 1, DEPOSIT_WEIGHTED_GRADIENT = 3 };

// P[n, c − c0, a, e] = Σ over the sites s at anchor slot n (ascending) of weight · patches[b, s]
// (PATCHES, patches (B, S, C, ps, ps)), weight alone (WEIGHTS, C = 1) or weight · patches[b, s / K]
// (WEIGHTED_GRADIENT, patches (B, Q, C, ps, ps)); weight = weights[b, s] or 1. fold_slots then adds
// P into the video. MODE is p.mode at compile time and WEIGHTED whether there are weights: the
// loop over a slot's sites has no branch on either. The fields are read into locals first, before
// the loops, as separate kernel parameters would be (read inside the loops, the compiler was seen to
// reload them there and to unroll the loops less).
template <int MODE, bool WEIGHTED> __device__ __forceinline__ void deposit_slots(const DNLSAggregateDeposit& p)
{
    const int mode = MODE;
    const float* patches = p.patches;
    const float* weights = p.weights;
    const int K = p.K;
    const Anchors anchors = p.anchors;
    const i64 slot0 = p.slot0;
    const int T = p.T, C = p.C, H = p.H, W = p.W, ps = p.ps;
    const i64 S = p.S;
    const int c0 = p.c0, cs = p.cs;
    const i64 slots = p.slots;
    const int slotsPerBlock = p.slotsPerBlock;
    float* P = p.P;
    EntryTask k;
    if (!entry_task(c0, cs, ps, slots, slotsPerBlock, k)) return;
    Grid none = {};
    SlotWalk at;
    at.start(anchors, none, slot0, k.n0, 1, T, H, W);
    i64 Q = S / K;
    int pp = ps * ps, entry = k.a * ps + k.e;
    for (i64 n = k.n0; n < k.n1; ++n) {
        i64 base = anchors.first - (i64)at.b * S;
        float acc = 0.0f;
        for (int i = anchors.starts[slot0 + n], end = anchors.starts[slot0 + n + 1]; i < end; ++i) {
            i64 s = base + anchors.members[i];
            float wt = WEIGHTED ? weights[(i64)at.b * S + s] : 1.0f;
            if (mode == DEPOSIT_WEIGHTS) { acc += wt; continue; }
            i64 row = mode == DEPOSIT_PATCHES ? (i64)at.b * S + s : (i64)at.b * Q + s / K;
            acc += wt * patches[(row * C + k.c) * pp + entry];
        }
        P[n * k.per + k.j] = acc;
        at.next(anchors, none, 1, T, H, W);
    }
}

extern "C" __global__ void aggregate_deposit(const DNLSAggregateDeposit p)
{
    bool weighted = p.weights != nullptr;
    switch (p.mode) {
    case DEPOSIT_PATCHES: weighted ? deposit_slots<DEPOSIT_PATCHES, true>(p) : deposit_slots<DEPOSIT_PATCHES, false>(p); break;
    case DEPOSIT_WEIGHTS: weighted ? deposit_slots<DEPOSIT_WEIGHTS, true>(p) : deposit_slots<DEPOSIT_WEIGHTS, false>(p); break;
    default:
        weighted ? deposit_slots<DEPOSIT_WEIGHTED_GRADIENT, true>(p) : deposit_slots<DEPOSIT_WEIGHTED_GRADIENT, false>(p);
    }
}


// A deposit too small to pay for an anchor table (a few sites × entries per output element): one
// thread per element of out, then (when weightSum is given) one per pixel of weightSum, each adding
// (or, with overwrite, storing) what the sites of its batch item put there, sites ascending, entries
// row-major. One launch, no table, every element written by one thread: deterministic.
extern "C" __global__ void deposit_direct(const DNLSDepositDirect p)
{
    const int T = p.T, C = p.C, H = p.H, W = p.W, ps = p.ps, K = p.K;
    const i64 S = p.S, HW = (i64)H * W, videoCount = (i64)p.B * T * C * HW;
    i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    const bool toSum = i >= videoCount;
    const i64 j = toSum ? i - videoCount : i;
    if (toSum && (p.weightSum == nullptr || j >= (i64)p.B * T * HW)) return;
    const int channels = toSum ? 1 : C;
    const int x = (int)(j % W), y = (int)(j / W % H);
    const i64 r = j / HW, bt = r / channels;
    const int c = (int)(r - bt * channels), t = (int)(bt % T), b = (int)(bt / T);
    const bool weightOnly = toSum || p.mode == DEPOSIT_WEIGHTS;
    const Geometry g = geometry(p.block, H, W, ps, 0);
    const Grid grid = grid_value(p.grid);
    const int* table = p.sites == nullptr ? nullptr : p.sites + b * p.siteBatchStride;
    const int pp = ps * ps;
    const i64 Q = S / K;
    float acc = 0.0f;
    for (i64 s = 0; s < S; ++s) {
        int at[3];
        site_position(grid, table, s, at);
        if (!site_inside(at, T, H, W) || at[0] != t) continue;
        float wt = p.weights != nullptr ? p.weights[(i64)b * S + s] : 1.0f;
        i64 row = p.mode == DEPOSIT_WEIGHTED_GRADIENT ? (i64)b * Q + s / K : (i64)b * S + s;
        const float* patch = weightOnly ? nullptr : p.patches + (row * C + c) * pp;
        for (int a = 0; a < ps; ++a) {
            if (resolved(g.rows, at[1] + g.patch[a], H) != y) continue;
            for (int e = 0; e < ps; ++e) {
                if (resolved(g.cols, at[2] + g.patch[e], W) != x) continue;
                acc += weightOnly ? wt : wt * patch[a * ps + e];
            }
        }
    }
    float* dst = toSum ? p.weightSum : p.out;
    dst[j] = p.overwrite ? acc : dst[j] + acc;
}
"""#
}
