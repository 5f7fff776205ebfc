extension CUDAKernelSource {
    /// Scatter-adds at table sites: each anchor pixel's patch of summed contributions, then a fold.
    static let deposit = #"""
// What a deposit adds for site s (= q · K + m), entry (a, e), channel c.
enum { DEPOSIT_PATCHES = 0, DEPOSIT_WEIGHTS = 1, DEPOSIT_WEIGHTED_GRADIENT = 3 };

// P[n, c − c0, a, e] = Σ over the sites s at anchor slot n (ascending) of weight · patches[b, s]
// (PATCHES, patches (B, S, C, ps, ps)), weight alone (WEIGHTS, C = 1) or weight · patches[b, s / K]
// (WEIGHTED_GRADIENT, patches (B, Q, C, ps, ps)); weight = weights[b, s] or 1. fold_slots then adds
// P into the video.
extern "C" __global__ void aggregate_deposit(const DNLSAggregateDeposit p)
{
    EntryTask k;
    if (!entry_task(p.c0, p.cs, p.ps, p.slots, p.slotsPerBlock, k)) return;
    Grid none = {};
    SlotWalk at;
    at.start(p.anchors, none, p.slot0, k.n0, 1, p.T, p.H, p.W);
    i64 Q = p.S / p.K;
    int pp = p.ps * p.ps, entry = k.a * p.ps + k.e;
    for (i64 n = k.n0; n < k.n1; ++n) {
        i64 base = p.anchors.first - (i64)at.b * p.S;
        float acc = 0.0f;
        for (int i = p.anchors.starts[p.slot0 + n], end = p.anchors.starts[p.slot0 + n + 1]; i < end; ++i) {
            i64 s = base + p.anchors.members[i];
            float wt = p.weights ? p.weights[(i64)at.b * p.S + s] : 1.0f;
            if (p.mode == DEPOSIT_WEIGHTS) { acc += wt; continue; }
            i64 row = p.mode == DEPOSIT_PATCHES ? (i64)at.b * p.S + s : (i64)at.b * Q + s / p.K;
            acc += wt * p.patches[(row * p.C + k.c) * pp + entry];
        }
        p.P[n * k.per + k.j] = acc;
        at.next(p.anchors, none, 1, p.T, p.H, p.W);
    }
}

"""#
}
