extension CUDAKernelSource {
    /// Search backward: both videos' gradients as aggregated patches per anchor, then folds.
    static let searchBackward = #"""
// Gradient of Σ_o grad[o]·d_o, aggregated per anchor slot n into P[n, c − c0, a, e]; fold_slots
// adds P into the gradient video.
// side 0 (query side): the anchor is a query (slot of a grid chunk, queries queryOffset + n % count;
// or table members, the explicit queries at the anchor pixel); each query adds, over its K
// neighbours, 2·g·(v0 − v1) (L2) or g·v1 (inner product), v0 its own sample at (a, e), v1 the
// neighbour's. side 1 (key side): the anchor is a table pixel; each (query, neighbour) site there
// adds −2·g·(v0 − v1) (L2) or g·v0, v1 the anchor's sample at (a, e), v0 the query's (queryGrid
// or the query table). Members in ascending order, so sums are reproducible.
extern "C" __global__ void aggregate_search(
    int side, const float* video, const float* keys, const int* inds, const float* grad,
    const int* queries, i64 queryBatchStride, Grid queryGrid, Grid slotGrid, Anchors anchors, i64 slot0,
    i64 queryOffset, const int* block, int T, int C, int H, int W, int ps, int Q, int K, int l2,
    int c0, int cs, i64 slots, i64 count, int slotsPerBlock, float* P)
{
    EntryTask k;
    if (!entry_task(c0, cs, ps, slots, slotsPerBlock, k)) return;
    Geometry g = geometry(block, H, W, ps, 0);
    int da = g.patch[k.a], de = g.patch[k.e];
    i64 HW = (i64)H * W, S = (i64)Q * K;
    SlotWalk at;
    at.start(anchors, slotGrid, slot0, k.n0, count, T, H, W);
    for (i64 n = k.n0; n < k.n1; ++n) {
        int r = g.rows[at.h + da], col = g.cols[at.w + de];
        float own = 0.0f;  // the anchor's sample: v0 (query side) or v1 (key side)
        if (r >= 0 && col >= 0) own = (side == 0 ? video : keys)[(((i64)at.b * T + at.t) * C + k.c) * HW + (i64)r * W + col];
        float acc = 0.0f;
        if (side == 0) {
            auto query = [&](i64 q) {
                i64 o = ((i64)at.b * Q + q) * K;
                for (int m = 0; m < K; ++m, ++o) {
                    const int* nb = inds + 3 * o;
                    if (nb[0] < 0) continue;
                    int r1 = g.rows[nb[1] + da], c1 = g.cols[nb[2] + de];
                    float v1 = (r1 >= 0 && c1 >= 0) ? keys[(((i64)at.b * T + nb[0]) * C + k.c) * HW + (i64)r1 * W + c1] : 0.0f;
                    float gm = grad[o];
                    acc += l2 ? 2.0f * gm * (own - v1) : gm * v1;
                }
            };
            if (anchors.starts) {
                i64 base = anchors.first - (i64)at.b * Q;
                for (int i = anchors.starts[slot0 + n], end = anchors.starts[slot0 + n + 1]; i < end; ++i)
                    query(base + anchors.members[i]);
            } else {
                query(queryOffset + at.q);
            }
        } else {
            i64 base = anchors.first - (i64)at.b * S;
            const int* table = queries + at.b * queryBatchStride;
            for (int i = anchors.starts[slot0 + n], end = anchors.starts[slot0 + n + 1]; i < end; ++i) {
                i64 s = base + anchors.members[i];
                i64 q = s < 0x7fffffff ? (i64)((int)s / K) : s / K;
                int qp[3];
                site_position(queryGrid, table, q, qp);
                int r0 = g.rows[qp[1] + da], c0q = g.cols[qp[2] + de];
                float v0 = (r0 >= 0 && c0q >= 0) ? video[(((i64)at.b * T + qp[0]) * C + k.c) * HW + (i64)r0 * W + c0q] : 0.0f;
                float gm = grad[(i64)at.b * S + s];
                acc += l2 ? -2.0f * gm * (v0 - own) : gm * v0;
            }
        }
        P[n * k.per + k.j] = acc;
        at.next(anchors, slotGrid, count, T, H, W);
    }
}

"""#
}
