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
//
// A block's slots read one contiguous range of "site numbers" (side 1: table members; side 0:
// K per query), so the block first stages each site's weight and other sample (its pixel, and
// its flat channel-0 offset when the whole patch is inside the frame) in shared memory, all
// threads loading in parallel. Each entry thread then walks them with no dependent global loads
// but the sample itself, so the loads of consecutive sites overlap: a hub pixel with thousands of
// sites costs one pass of independent loads instead of thousands of serial load chains.
#define AGG_STAGE 256
#define AGG_MAX_SLOTS 64
enum { SITE_BORDER = -1, SITE_EMPTY = -2 };

struct AggregateArgs {
    const float* video; const float* keys; const int* inds; const float* grad;
    const int* queries; i64 queryBatchStride; Grid queryGrid; Grid slotGrid; Anchors anchors;
    i64 slot0, queryOffset; int T, C, H, W, Q, K; i64 count;
};

// Shared staging of AGG_STAGE sites. The kernels declare it once and hand it to their template
// instances: __shared__ arrays inside each instance would each take their own memory.
struct Stage { i64 base[AGG_STAGE]; int plane[AGG_STAGE], h[AGG_STAGE], w[AGG_STAGE]; float grad[AGG_STAGE]; };

// First site number of block slot n (n in [0, slots]).
__device__ __forceinline__ i64 site_start(int side, const AggregateArgs& x, i64 n) {
    if (!x.anchors.starts) return n * x.K;
    i64 m = x.anchors.starts[x.slot0 + n];
    return side == 0 ? m * x.K : m;
}

// Stages site i: the plane, row and column of its other sample, that sample's flat channel-0
// offset (or SITE_BORDER: resolve per entry; SITE_EMPTY: no neighbour, or a neighbour or query
// position outside the video) and its weight.
__device__ __forceinline__ void stage_site(int side, const AggregateArgs& x, i64 i, int reach,
                                           i64& base, int& plane, int& h, int& w, float& gm) {
    int b, t;
    i64 o;
    if (side == 1) {
        i64 S = (i64)x.Q * x.K, f = x.anchors.first + x.anchors.members[i];
        b = (int)(f / S);
        i64 s = f - (i64)b * S, q = s < 0x7fffffff ? (i64)((int)s / x.K) : s / x.K;
        int qp[3];
        site_position(x.queryGrid, x.queries + b * x.queryBatchStride, q, qp);
        t = qp[0]; h = qp[1]; w = qp[2];
        o = f;
    } else {
        i64 fq, m = i % x.K;
        if (x.anchors.starts) {
            fq = x.anchors.first + x.anchors.members[i / x.K];
        } else {
            i64 n = i / x.K, bb = n / x.count;
            fq = bb * x.Q + x.queryOffset + (n - bb * x.count);
        }
        b = (int)(fq / x.Q);
        o = fq * x.K + m;
        const int* nb = x.inds + 3 * o;
        t = nb[0]; h = nb[1]; w = nb[2];
    }
    gm = x.grad[o];
    // No neighbour (or query) there: the marker, or a position outside the video.
    if (!site_inside(t, h, w, x.T, x.H, x.W)) { base = SITE_EMPTY; plane = 0; return; }
    plane = b * x.T + t;
    bool inside = h >= reach && h < x.H - reach && w >= reach && w < x.W - reach;
    base = inside ? (i64)plane * x.C * x.H * x.W + (i64)h * x.W + w : SITE_BORDER;
}

// Sums staged sites a0 ..< a1 into acc for one entry (channel c, offsets da, de), own being the
// anchor's sample there. Loads of consecutive sites are independent, so the unrolled loop keeps
// several in flight.
template <int SIDE, int L2>
__device__ __forceinline__ float walk_sites(const float* src, const Stage& st, int a0, int a1, const Geometry& g,
                                            int C, int H, int W, int c, int da, int de, float own, float acc) {
    const i64* sBase = st.base; const int *sPlane = st.plane, *sH = st.h, *sW = st.w; const float* sGrad = st.grad;
    i64 HW = (i64)H * W, off = c * HW + (i64)da * W + de;
#pragma unroll 4
    for (int a = a0; a < a1; ++a) {
        i64 base = sBase[a];
        float v = 0.0f;
        if (base >= 0) {
            v = src[base + off];
        } else if (base == SITE_BORDER) {
            int r = g.rows[sH[a] + da], col = g.cols[sW[a] + de];
            if (r >= 0 && col >= 0) v = src[((i64)sPlane[a] * C + c) * HW + (i64)r * W + col];
        } else {
            continue;  // no neighbour in this slot
        }
        float gm = sGrad[a];
        if (SIDE == 0) acc += L2 ? 2.0f * gm * (own - v) : gm * v;
        else acc += L2 ? -2.0f * gm * (v - own) : gm * v;
    }
    return acc;
}

// Hub slots: table pixels with more than HUB_MEMBERS members. aggregate_slots leaves them to
// aggregate_hubs, which splits each over several thread groups, so that no block walks thousands
// of sites alone while the rest of the grid has finished.
#define HUB_MEMBERS 128

__device__ __forceinline__ bool hub_slot(const AggregateArgs& x, i64 n) {
    return x.anchors.starts && x.anchors.starts[x.slot0 + n + 1] - x.anchors.starts[x.slot0 + n] > HUB_MEMBERS;
}

// The same test on a slot's sites (K per member on the query side).
__device__ __forceinline__ bool hub_sites(int side, const AggregateArgs& x, i64 sites) {
    return x.anchors.starts && sites > (i64)HUB_MEMBERS * (side == 0 ? x.K : 1);
}

// One block: slots n0 ..< n0 + slotsPerBlock, entry chunk blockIdx % chunks. The sites of its
// slots but hubs are numbered 0 ..< sCut[last] ("packed"), staged AGG_STAGE at a time.
template <int SIDE, int L2>
__device__ __forceinline__ void aggregate_slots(const AggregateArgs& x, const int* block, int ps, int c0, int cs,
                                                i64 slots, int slotsPerBlock, float* P, Stage& st, i64* sLo, i64* sCut) {
    int pp = ps * ps, per = cs * pp, chunks = (per + blockDim.x - 1) / blockDim.x;
    int j = (int)(blockIdx.x % chunks) * blockDim.x + threadIdx.x;
    i64 n0 = (i64)(blockIdx.x / chunks) * slotsPerBlock;
    int count = (int)(n0 + slotsPerBlock < slots ? slotsPerBlock : slots - n0);
    if (count <= 0) return;  // whole block
    bool active = j < per;
    int cc = active ? j / pp : 0, c = c0 + cc, ea = active ? (j - cc * pp) / ps : 0, ee = active ? j - cc * pp - ea * ps : 0;
    Geometry g = geometry(block, x.H, x.W, ps, 0);
    int da = g.patch[ea], de = g.patch[ee], reach = 0;
    for (int e = 0; e < ps; ++e) reach = max(reach, abs(g.patch[e]));
    for (int k = threadIdx.x; k <= count; k += blockDim.x) sLo[k] = site_start(SIDE, x, n0 + k);
    __syncthreads();
    if (threadIdx.x == 0) {  // packed starts: hubs hold no sites here
        i64 run = 0;
        for (int k = 0; k < count; ++k) {
            sCut[k] = run;
            if (!hub_sites(SIDE, x, sLo[k + 1] - sLo[k])) run += sLo[k + 1] - sLo[k];
        }
        sCut[count] = run;
    }
    __syncthreads();
    const float* own_src = SIDE == 0 ? x.video : x.keys;
    const float* src = SIDE == 0 ? x.keys : x.video;
    i64 HW = (i64)x.H * x.W;
    SlotWalk at;
    at.start(x.anchors, x.slotGrid, x.slot0, n0, x.count, x.T, x.H, x.W);
    auto own_sample = [&]() {
        int r = g.rows[at.h + da], col = g.cols[at.w + de];
        return (r >= 0 && col >= 0) ? own_src[(((i64)at.b * x.T + at.t) * x.C + c) * HW + (i64)r * x.W + col] : 0.0f;
    };
    int k = 0;  // the slot being summed, n0 + k
    i64 end = sCut[count];
    float acc = 0.0f, own = active ? own_sample() : 0.0f;
    // Ends slot k (its sum is complete; a hub's is aggregate_hubs' to write) and moves to the next.
    auto finish = [&]() {
        if (!hub_sites(SIDE, x, sLo[k + 1] - sLo[k])) P[(n0 + k) * per + j] = acc;
        acc = 0.0f;
        ++k;
        at.next(x.anchors, x.slotGrid, x.count, x.T, x.H, x.W);
        if (k < count) own = own_sample();
    };
    for (i64 s0 = 0; s0 < end; s0 += AGG_STAGE) {
        int m = (int)(end - s0 < AGG_STAGE ? end - s0 : AGG_STAGE);
        __syncthreads();  // the previous stage is consumed
        for (int a = threadIdx.x; a < m; a += blockDim.x) {
            i64 packed = s0 + a;
            int slot = 0;
            while (sCut[slot + 1] <= packed) ++slot;
            stage_site(SIDE, x, sLo[slot] + (packed - sCut[slot]), reach, st.base[a], st.plane[a], st.h[a], st.w[a], st.grad[a]);
        }
        __syncthreads();
        if (!active) continue;
        for (i64 i = s0; i < s0 + m;) {
            while (sCut[k + 1] <= i) finish();  // slots ending here, empty ones and hubs included
            i64 stop = sCut[k + 1] < s0 + m ? sCut[k + 1] : s0 + m;
            acc = walk_sites<SIDE, L2>(src, st, (int)(i - s0), (int)(stop - s0), g,
                                       x.C, x.H, x.W, c, da, de, own, acc);
            i = stop;
        }
    }
    if (active) while (k < count) finish();
}

// The hubs of a table pass (listed by anchor_sort among big[1 ..< 1 + big[0]], in racing order)
// whose slots lie in [0, slots): one task per (hub, entry chunk of J entries). Every block
// compacts the list blockDim entries at a time (those of this run) and takes every gridDim-th
// task. The block's G = blockDim / J groups each sum one contiguous part of every stage, and the
// groups' partial sums are added in group order: a fixed order, as the parts depend on the counts
// alone, so a hub's sum does not depend on which block takes it.
template <int SIDE, int L2>
__device__ __forceinline__ void aggregate_hub_tasks(const AggregateArgs& x, const int* block, int ps, int c0, int cs,
                                                    i64 slots, const int* big, float* P, Stage& st, float* sPart,
                                                    int* sList, int* warpSums) {
    int pp = ps * ps, per = cs * pp, chunks = (per + 127) / 128, J = (per + chunks - 1) / chunks;
    int G = blockDim.x / J, grp = threadIdx.x / J, jj = threadIdx.x - grp * J;
    Geometry g = geometry(block, x.H, x.W, ps, 0);
    int reach = 0;
    for (int e = 0; e < ps; ++e) reach = max(reach, abs(g.patch[e]));
    const float* own_src = SIDE == 0 ? x.video : x.keys;
    const float* src = SIDE == 0 ? x.keys : x.video;
    i64 HW = (i64)x.H * x.W, listed = big[0], done = 0;
    for (i64 i0 = 0; i0 < listed; i0 += blockDim.x) {
        i64 i = i0 + threadIdx.x, mine = -1;
        if (i < listed) {
            mine = (i64)big[1 + i] - x.slot0;  // the hub's slot in this run
            if (mine < 0 || mine >= slots || !hub_slot(x, mine)) mine = -1;
        }
        __syncthreads();  // the previous batch's list is done with
        int keep = mine >= 0, at_list = block_scan(keep, warpSums);
        if (keep) sList[at_list - 1] = (int)mine;
        if (threadIdx.x == blockDim.x - 1) warpSums[32] = at_list;
        __syncthreads();
        i64 tasks = (i64)warpSums[32] * chunks;
        i64 skew = done % gridDim.x, first = blockIdx.x >= skew ? blockIdx.x - skew : blockIdx.x + gridDim.x - skew;
        done += tasks;
        for (i64 task = first; task < tasks; task += gridDim.x) {
            i64 n = sList[task / chunks];
            int j = (int)(task % chunks) * J + jj;
            bool active = grp < G && j < per;
            int cc = active ? j / pp : 0, c = c0 + cc, ea = active ? (j - cc * pp) / ps : 0, ee = active ? j - cc * pp - ea * ps : 0;
            int da = g.patch[ea], de = g.patch[ee];
            SlotWalk at;
            at.start(x.anchors, x.slotGrid, x.slot0, n, x.count, x.T, x.H, x.W);
            int r = g.rows[at.h + da], col = g.cols[at.w + de];
            float own = (active && r >= 0 && col >= 0) ? own_src[(((i64)at.b * x.T + at.t) * x.C + c) * HW + (i64)r * x.W + col] : 0.0f;
            i64 lo = site_start(SIDE, x, n), hi = site_start(SIDE, x, n + 1);
            float acc = 0.0f;
            for (i64 s0 = lo; s0 < hi; s0 += AGG_STAGE) {
                int m = (int)(hi - s0 < AGG_STAGE ? hi - s0 : AGG_STAGE);
                __syncthreads();
                for (int a = threadIdx.x; a < m; a += blockDim.x)
                    stage_site(SIDE, x, s0 + a, reach, st.base[a], st.plane[a], st.h[a], st.w[a], st.grad[a]);
                __syncthreads();
                if (active)
                    acc = walk_sites<SIDE, L2>(src, st, grp * m / G, (grp + 1) * m / G, g,
                                               x.C, x.H, x.W, c, da, de, own, acc);
            }
            if (grp < G) sPart[threadIdx.x] = acc;
            __syncthreads();
            if (grp == 0 && active) {
                float sum = sPart[jj];
                for (int q = 1; q < G; ++q) sum += sPart[q * J + jj];
                P[n * per + j] = sum;
            }
            __syncthreads();
        }
    }
}

extern "C" __global__ void aggregate_search(const DNLSAggregateSearch p)
{
    AggregateArgs x = { p.video, p.keys, p.indices, p.gradient, p.queries, p.queryBatchStride, p.queryGrid, p.slotGrid, p.anchors,
                        p.slot0, p.queryOffset, p.T, p.C, p.H, p.W, p.Q, p.K, p.count };
    __shared__ Stage st;
    __shared__ i64 sLo[AGG_MAX_SLOTS + 1], sCut[AGG_MAX_SLOTS + 1];
    if (p.side == 0) {
        if (p.l2) aggregate_slots<0, 1>(x, p.block, p.ps, p.c0, p.cs, p.slots, p.slotsPerBlock, p.P, st, sLo, sCut);
        else aggregate_slots<0, 0>(x, p.block, p.ps, p.c0, p.cs, p.slots, p.slotsPerBlock, p.P, st, sLo, sCut);
    } else {
        if (p.l2) aggregate_slots<1, 1>(x, p.block, p.ps, p.c0, p.cs, p.slots, p.slotsPerBlock, p.P, st, sLo, sCut);
        else aggregate_slots<1, 0>(x, p.block, p.ps, p.c0, p.cs, p.slots, p.slotsPerBlock, p.P, st, sLo, sCut);
    }
}

// The hub slots of a table run (see aggregate_hub_tasks), after aggregate_search on the same run.
extern "C" __global__ void __launch_bounds__(512, 2) aggregate_search_hubs(const DNLSAggregateSearch p)
{
    AggregateArgs x = { p.video, p.keys, p.indices, p.gradient, p.queries, p.queryBatchStride, p.queryGrid, p.slotGrid, p.anchors,
                        p.slot0, p.queryOffset, p.T, p.C, p.H, p.W, p.Q, p.K, p.count };
    __shared__ Stage st;
    __shared__ float sPart[1024];  // blockDim ≤ 1024
    __shared__ int sList[1024], warpSums[33];
    if (p.side == 0) {
        if (p.l2) aggregate_hub_tasks<0, 1>(x, p.block, p.ps, p.c0, p.cs, p.slots, p.big, p.P, st, sPart, sList, warpSums);
        else aggregate_hub_tasks<0, 0>(x, p.block, p.ps, p.c0, p.cs, p.slots, p.big, p.P, st, sPart, sList, warpSums);
    } else {
        if (p.l2) aggregate_hub_tasks<1, 1>(x, p.block, p.ps, p.c0, p.cs, p.slots, p.big, p.P, st, sPart, sList, warpSums);
        else aggregate_hub_tasks<1, 0>(x, p.block, p.ps, p.c0, p.cs, p.slots, p.big, p.P, st, sPart, sList, warpSums);
    }
}

"""#
}
