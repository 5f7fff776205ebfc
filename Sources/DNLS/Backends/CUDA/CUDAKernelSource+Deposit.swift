extension CUDAKernelSource {
    /// Scatter-adds at table sites: each anchor pixel's patch of summed contributions, then a fold.
    static let deposit = #"""
// What a deposit adds for site s (= q · K + m), entry (a, e), channel c.
enum { DEPOSIT_PATCHES = 0, DEPOSIT_WEIGHTS = 1, DEPOSIT_WEIGHTED_GRADIENT = 3 };

// P[n, c − c0, a, e] = Σ over the sites s at anchor slot n (ascending) of weight · patches[b, s]
// (PATCHES, patches (B, S, C, ps, ps)), weight alone (WEIGHTS, C = 1) or weight · patches[b, s / K]
// (WEIGHTED_GRADIENT, patches (B, Q, C, ps, ps)); weight = weights[b, s] or 1. fold_slots then adds
// P into the video.
extern "C" __global__ void aggregate_deposit(
    int mode, const float* patches, const float* weights, int K, Anchors anchors, i64 slot0,
    int T, int C, int H, int W, int ps, i64 S, int c0, int cs, i64 slots, int slotsPerBlock, float* P)
{
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
            float wt = weights ? weights[(i64)at.b * S + s] : 1.0f;
            if (mode == DEPOSIT_WEIGHTS) { acc += wt; continue; }
            i64 row = mode == DEPOSIT_PATCHES ? (i64)at.b * S + s : (i64)at.b * Q + s / K;
            acc += wt * patches[(row * C + k.c) * pp + entry];
        }
        P[n * k.per + k.j] = acc;
        at.next(anchors, none, 1, T, H, W);
    }
}

"""#
}
