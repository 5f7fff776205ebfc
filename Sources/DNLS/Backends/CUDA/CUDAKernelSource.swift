/// CUDA C++ of the CUDA backend, compiled at run time by NVRTC for the live GPU.
///
/// Geometry is not re-implemented here: the host fills a table block from the Swift definitions
/// (``Border/resolve(_:length:)`` for every row and column a kernel can touch, ``PatchGeometry/offset(_:)``,
/// ``SearchWindow/offset(_:)`` and the frame visiting orders), and kernels only look values up.
/// Layout of the block (all `int`): rows `[3H]` (row `x ∈ [−H, 2H)` at `x + H`), columns `[3W]`,
/// patch offsets `[ps]`, window offsets `[ws]`, frame orders `[T · F]`.
///
/// Every output element is written by exactly one thread and every sum runs in a fixed order, so
/// results are bitwise reproducible; scatter-adds are computed as per-destination gathers over a
/// host-built table of the sites anchored at each pixel (no atomics).
enum CUDAKernelSource {
    static let text = #"""
typedef long long i64;

struct Geometry {
    const int* rows;      // rows[x] = resolved row of x, for x in [-H, 2H)
    const int* cols;      // cols[x], for x in [-W, 2W)
    const int* patch;     // patch[a] = offset of entry a
    const int* window;    // window[i] = offset of window row/column i
    const int* order;     // order[t * F + s] = frame visited in slot s by a query in frame t
};

__device__ __forceinline__ Geometry geometry(const int* block, int H, int W, int ps, int ws) {
    Geometry g;
    g.rows = block + H;
    g.cols = block + 3 * H + W;
    g.patch = block + 3 * H + 3 * W;
    g.window = g.patch + ps;
    g.order = g.window + ws;
    return g;
}

// Flat index of the pixel a sample at (y, x) of frame t reads, or -1 when it reads zero.
__device__ __forceinline__ i64 location(const Geometry& g, int b, int t, int c, int y, int x,
                                        int T, int C, int H, int W) {
    int r = g.rows[y], q = g.cols[x];
    if (r < 0 || q < 0) return -1;
    return ((((i64)b * T + t) * C + c) * H + r) * W + q;
}

// A query grid (QueryGrid): query q of the batch starting at `start` is at
// (t0 + n / (rows·cols), h0 + stride·(n / cols % rows), w0 + stride·(n % cols)) with n = start + q.
struct Grid { int on, t0, h0, w0, stride, frames, rows, cols; i64 start; };

__device__ __forceinline__ void grid_position(const Grid& g, i64 q, int* p) {
    i64 n = g.start + q, plane = (i64)g.rows * g.cols, r = n % plane;
    p[0] = g.t0 + (int)(n / plane); p[1] = g.h0 + g.stride * (int)(r / g.cols); p[2] = g.w0 + g.stride * (int)(r % g.cols);
}

// The batch-relative query number anchored at (t, h, w), or -1 when no query of the batch is there.
__device__ __forceinline__ i64 grid_query(const Grid& g, int t, int h, int w, i64 count) {
    int dt = t - g.t0, dh = h - g.h0, dw = w - g.w0;
    if (dt < 0 || dt >= g.frames || dh < 0 || dw < 0 || dh % g.stride || dw % g.stride) return -1;
    int i = dh / g.stride, j = dw / g.stride;
    if (i >= g.rows || j >= g.cols) return -1;
    i64 q = ((i64)dt * g.rows + i) * g.cols + j - g.start;
    return (q >= 0 && q < count) ? q : -1;
}

// As `location`, for any (y, x): coordinates beyond the tables (|x| ≥ L or x ≥ 2L) read zero under
// either border rule, as Border.resolve says.
__device__ __forceinline__ i64 location_any(const Geometry& g, int b, int t, int c, int y, int x,
                                            int T, int C, int H, int W) {
    if (y < -H || y >= 2 * H || x < -W || x >= 2 * W) return -1;
    return location(g, b, t, c, y, x, T, C, H, W);
}

__device__ __forceinline__ bool ahead(float ka, int ea, float kb, int eb) {
    if (isnan(ka)) return isnan(kb) && ea < eb;
    if (isnan(kb)) return true;
    return ka < kb || (ka == kb && ea < eb);
}

// One output slot of a search: the score and the neighbour's (t, h, w).
__device__ __forceinline__ void store_slot(float* dists, int* inds, i64 o, float d, int t, int h, int w) {
    dists[o] = d; inds[3 * o] = t; inds[3 * o + 1] = h; inds[3 * o + 2] = w;
}

// The KMAX best candidates of one query, sorted, in registers (KMAX is a compile-time constant).
// Keys are distances (L2) or negated similarities, so smaller is better.
struct TopK {
    float key[KMAX]; int en[KMAX]; int filled; float worst;

    __device__ __forceinline__ void reset() { filled = 0; worst = 0.0f; }

    __device__ __forceinline__ void offer(float k, int e) {
        // Candidates arrive in increasing enumeration order, so a full list keeps a key only if it
        // is strictly below the worst kept one (NaN ranks last): one register compare.
        if (filled == KMAX && (isnan(worst) ? !ahead(k, e, worst, en[KMAX - 1]) : !(k < worst))) return;
        int slot = filled < KMAX ? filled++ : KMAX - 1;
        while (slot > 0 && ahead(k, e, key[slot - 1], en[slot - 1])) {
            key[slot] = key[slot - 1]; en[slot] = en[slot - 1]; --slot;
        }
        key[slot] = k; en[slot] = e;
        if (filled == KMAX) worst = key[KMAX - 1];
    }
};

// One flow hop: clamp(floor(x + d + 0.5), 0, n - 1), in float as on the host.
__device__ __forceinline__ int hop(int x, float d, int n) {
    float moved = floorf(((float)x + d) + 0.5f);
    return (int)fminf(fmaxf(moved, 0.0f), (float)(n - 1));
}

// One link of the flow chain: moves the centre (ch, cw) of the previous link into frame n.
// The backward chain (n < qt) starts again at the query when it reaches frame qt - 1.
__device__ __forceinline__ void chain_hop(int n, int qt, int qh, int qw, int& ch, int& cw,
                                          const float* fflow, const float* bflow, int b, int T, int H, int W) {
    int ph = ch, pw = cw;
    if (n == qt - 1) { ph = qh; pw = qw; }
    const float* flow = n > qt ? fflow : bflow;
    int prev = n > qt ? n - 1 : n + 1;
    if (flow) {
        i64 base = (((i64)b * T + prev) * 2) * H * W + (i64)ph * W + pw;
        ch = hop(ph, flow[base + (i64)H * W], H);
        cw = hop(pw, flow[base], W);
    } else { ch = ph; cw = pw; }
}

// Search, one thread per (batch item, query). KMAX is the number of neighbours kept (a compile-time
// constant so the list lives in registers); WHOLE = 1 writes every candidate at its enumeration slot.
extern "C" __global__ void search_forward(
    const float* video, const float* keys, const int* queries, i64 queryBatchStride,
    const float* fflow, const float* bflow, const int* block,
    int B, int T, int C, int H, int W, int channels, int ps, int ws, int F, int Q, int slots, int l2,
    float* dists, int* inds)
{
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (i64)B * Q) return;
    int b = (int)(idx / Q), q = (int)(idx % Q);
    Geometry g = geometry(block, H, W, ps, ws);
    const int* qp = queries + b * queryBatchStride + 3 * (i64)q;
    int qt = qp[0], qh = qp[1], qw = qp[2];
    float empty = l2 ? __int_as_float(0x7f800000) : __int_as_float(0xff800000);
    i64 out = idx * slots;
#if WHOLE
    for (int s = 0; s < slots; ++s) store_slot(dists, inds, out + s, empty, -1, -1, -1);
#else
    TopK best; best.reset();
#endif
    int ch = qh, cw = qw;          // centre of the previous link of the chain
    int perFrame = ws * ws;
    for (int s = 0; s < F; ++s) {
        int n = g.order[qt * F + s];
        if (s > 0) chain_hop(n, qt, qh, qw, ch, cw, fflow, bflow, b, T, H, W);
        for (int i = 0; i < ws; ++i) {
            int h = ch + g.window[i];
            if (h < 0 || h >= H) continue;
            for (int j = 0; j < ws; ++j) {
                int w = cw + g.window[j];
                if (w < 0 || w >= W) continue;
                float d = 0.0f;
                for (int c = 0; c < channels; ++c)
                    for (int a = 0; a < ps; ++a)
                        for (int e = 0; e < ps; ++e) {
                            i64 l0 = location(g, b, qt, c, qh + g.patch[a], qw + g.patch[e], T, C, H, W);
                            i64 l1 = location(g, b, n, c, h + g.patch[a], w + g.patch[e], T, C, H, W);
                            float v0 = l0 < 0 ? 0.0f : video[l0];
                            float v1 = l1 < 0 ? 0.0f : keys[l1];
                            if (l2) { float t = v0 - v1; d = __fadd_rn(d, __fmul_rn(t, t)); }
                            else { d = __fadd_rn(d, __fmul_rn(v0, v1)); }
                        }
                int en = s * perFrame + i * ws + j;
#if WHOLE
                store_slot(dists, inds, out + en, d, n, h, w);
#else
                best.offer(l2 ? d : -d, en);
#endif
            }
        }
    }
#if !WHOLE
    // Decode the kept enumeration numbers back into positions by replaying the chain.
    for (int r = 0; r < KMAX; ++r) {
        i64 o = out + r;
        if (r >= best.filled) { store_slot(dists, inds, o, empty, -1, -1, -1); continue; }
        float d = l2 ? best.key[r] : -best.key[r];
        int en = best.en[r], slot = en / perFrame, i = (en % perFrame) / ws, j = en % ws;
        int c0 = qh, c1 = qw, n = qt;
        for (int s = 1; s <= slot; ++s) {
            n = g.order[qt * F + s];
            chain_hop(n, qt, qh, qw, c0, c1, fflow, bflow, b, T, H, W);
        }
        store_slot(dists, inds, o, d, n, c0 + g.window[i], c1 + g.window[j]);
    }
#endif
}

// Search without flow on a stride-1 grid of queries: one block per 16×16 tile of grid positions in
// one frame, one thread per query. The query tile and, frame by frame, the key tile covering every
// candidate patch of the tile are resolved (border rule) into shared memory once; each thread then
// scores its window from shared memory in the same (channel, row, column) order as the reference.
#define TILE 16
extern "C" __global__ void search_forward_tiled(
    const float* video, const float* keys, Grid grid, const int* block,
    int B, int T, int C, int H, int W, int channels, int ps, int ws, int F, int Q, int slots, int l2,
    int dmin, int reach, int span, int dil, float* dists, int* inds)
{
    extern __shared__ float tiles[];
    int tilesX = (grid.cols + TILE - 1) / TILE, tilesY = (grid.rows + TILE - 1) / TILE;
    i64 bid = blockIdx.x;
    int tileX = (int)(bid % tilesX), tileY = (int)((bid / tilesX) % tilesY);
    int dt = (int)((bid / ((i64)tilesX * tilesY)) % grid.frames), b = (int)(bid / ((i64)tilesX * tilesY * grid.frames));
    int tx = threadIdx.x % TILE, ty = threadIdx.x / TILE;
    int gi = tileY * TILE + ty, gj = tileX * TILE + tx;
    i64 q = ((i64)dt * grid.rows + gi) * grid.cols + gj - grid.start;
    bool mine = gi < grid.rows && gj < grid.cols && q >= 0 && q < Q;
    if (!__syncthreads_or(mine)) return;
    Geometry g = geometry(block, H, W, ps, ws);
    int t = grid.t0 + dt;
    int hq0 = grid.h0 + tileY * TILE, wq0 = grid.w0 + tileX * TILE;
    int h = hq0 + ty, w = wq0 + tx;
    int sideQ = TILE + span - 1, sideK = TILE + reach + span - 1;
    float* qTile = tiles;
    float* kTile = tiles + channels * sideQ * sideQ;
    int omin = g.patch[0];
    for (int k = threadIdx.x; k < channels * sideQ * sideQ; k += blockDim.x) {
        int c = k / (sideQ * sideQ), y = (k / sideQ) % sideQ, x = k % sideQ;
        i64 l = location_any(g, b, t, c, hq0 + omin + y, wq0 + omin + x, T, C, H, W);
        qTile[k] = l < 0 ? 0.0f : video[l];
    }
    float empty = l2 ? __int_as_float(0x7f800000) : __int_as_float(0xff800000);
    i64 out = ((i64)b * Q + (mine ? q : 0)) * slots;
#if WHOLE
    if (mine) for (int s = 0; s < slots; ++s) store_slot(dists, inds, out + s, empty, -1, -1, -1);
#else
    TopK best; best.reset();
#endif
    int perFrame = ws * ws;
    for (int s = 0; s < F; ++s) {
        int n = g.order[t * F + s];
        __syncthreads();
        for (int k = threadIdx.x; k < channels * sideK * sideK; k += blockDim.x) {
            int c = k / (sideK * sideK), y = (k / sideK) % sideK, x = k % sideK;
            i64 l = location_any(g, b, n, c, hq0 + dmin + omin + y, wq0 + dmin + omin + x, T, C, H, W);
            kTile[k] = l < 0 ? 0.0f : keys[l];
        }
        __syncthreads();
        if (!mine) continue;
        for (int i = 0; i < ws; ++i) {
            int ch = h + g.window[i];
            if (ch < 0 || ch >= H) continue;
            int ky = ty + g.window[i] - dmin;
            for (int j = 0; j < ws; ++j) {
                int cw = w + g.window[j];
                if (cw < 0 || cw >= W) continue;
                int kx = tx + g.window[j] - dmin;
                float d = 0.0f;
                for (int c = 0; c < channels; ++c)
                    for (int a = 0; a < ps; ++a) {
                        const float* qr = qTile + (c * sideQ + ty + a * dil) * sideQ + tx;
                        const float* kr = kTile + (c * sideK + ky + a * dil) * sideK + kx;
                        for (int e = 0; e < ps; ++e) {
                            float v0 = qr[e * dil], v1 = kr[e * dil];
                            if (l2) { float u = v0 - v1; d = __fadd_rn(d, __fmul_rn(u, u)); }
                            else { d = __fadd_rn(d, __fmul_rn(v0, v1)); }
                        }
                    }
                int en = s * perFrame + i * ws + j;
#if WHOLE
                store_slot(dists, inds, out + en, d, n, ch, cw);
#else
                best.offer(l2 ? d : -d, en);
#endif
            }
        }
    }
#if !WHOLE
    if (!mine) return;
    for (int r = 0; r < KMAX; ++r) {
        i64 o = out + r;
        if (r >= best.filled) { store_slot(dists, inds, o, empty, -1, -1, -1); continue; }
        float d = l2 ? best.key[r] : -best.key[r];
        int en = best.en[r], slot = en / perFrame, i = (en % perFrame) / ws, j = en % ws;
        store_slot(dists, inds, o, d, g.order[t * F + slot], h + g.window[i], w + g.window[j]);
    }
#endif
}

// Patch entries at sites: out[b, s, c, a, e] (s = q * K + m), scaled by weights[b, s] when given.
// One thread per element. sites: (B or 1, S, 3) with t = -1 for an empty site; siteBatchStride = 3S or 0.
extern "C" __global__ void extract_patches(
    const float* video, const float* weights, const int* sites, i64 siteBatchStride, Grid grid, const int* block,
    int B, int T, int C, int H, int W, int ps, i64 S, float* out)
{
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    i64 per = (i64)C * ps * ps;
    if (idx >= B * S * per) return;
    int e = (int)(idx % ps), a = (int)((idx / ps) % ps), c = (int)((idx / ((i64)ps * ps)) % C);
    i64 site = (idx / per) % S; int b = (int)(idx / (per * S));
    Geometry g = geometry(block, H, W, ps, 0);
    int gp[3];
    const int* p = sites + b * siteBatchStride + 3 * site;
    if (grid.on) { grid_position(grid, site, gp); p = gp; }
    float v = 0.0f;
    if (p[0] >= 0) {
        i64 l = location(g, b, p[0], c, p[1] + g.patch[a], p[2] + g.patch[e], T, C, H, W);
        if (l >= 0) v = video[l];
    }
    out[idx] = weights ? weights[idx / per] * v : v;
}

// Gradient of a gather w.r.t. its weights: one thread per site (b, s), summing over its entries
// <patch, G> plus, when given, the weight-sum gradient read at each entry.
extern "C" __global__ void gather_weight_gradient(
    const float* patches, const float* grad, const float* sumGrad, const int* sites, i64 siteBatchStride,
    const int* block, int B, int T, int C, int H, int W, int ps, i64 S, float* out)
{
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= B * S) return;
    i64 site = idx % S; int b = (int)(idx / S);
    Geometry g = geometry(block, H, W, ps, 0);
    const int* p = sites + b * siteBatchStride + 3 * site;
    float dot = 0.0f, count = 0.0f;
    if (p[0] >= 0) {
        for (int c = 0; c < C; ++c)
            for (int a = 0; a < ps; ++a)
                for (int e = 0; e < ps; ++e) {
                    i64 l = location(g, b, p[0], c, p[1] + g.patch[a], p[2] + g.patch[e], T, C, H, W);
                    if (l >= 0) dot += patches[(((idx * C) + c) * ps + a) * ps + e] * grad[l];
                }
        if (sumGrad)
            for (int a = 0; a < ps; ++a)
                for (int e = 0; e < ps; ++e) {
                    i64 l = location(g, b, p[0], 0, p[1] + g.patch[a], p[2] + g.patch[e], T, 1, H, W);
                    if (l >= 0) count += sumGrad[l];
                }
    }
    out[idx] = dot + count;
}

// What a deposit adds for site s (= q * K + m), entry (c, a, e).
enum { DEPOSIT_PATCHES = 0, DEPOSIT_WEIGHTS = 1, DEPOSIT_SEARCH_KEYS = 2, DEPOSIT_WEIGHTED_GRADIENT = 3 };

struct DepositInputs {
    int mode;
    const float* patches;    // PATCHES: (B, S, C, ps, ps); WEIGHTED_GRADIENT: (B, Q, C, ps, ps)
    const float* weights;    // (B, S) or null (= 1)
    const float* video;      // SEARCH_KEYS: the query video
    const float* keys;       // SEARCH_KEYS: the key video
    const int* queries;      // SEARCH_KEYS: query positions (B or 1, Q, 3)
    i64 queryBatchStride;
    int K, channels, l2;
};

__device__ float contribution(const DepositInputs& in, const Geometry& g, int b, i64 S, i64 s, int c, int a, int e,
                              i64 target, int T, int C, int H, int W, int ps) {
    float w = in.weights ? in.weights[b * S + s] : 1.0f;
    switch (in.mode) {
    case DEPOSIT_PATCHES:
        return w * in.patches[(((b * S + s) * C + c) * ps + a) * ps + e];
    case DEPOSIT_WEIGHTS:
        return w;
    case DEPOSIT_WEIGHTED_GRADIENT: {
        i64 q = s / in.K, Q = S / in.K;
        return w * in.patches[(((b * Q + q) * C + c) * ps + a) * ps + e];
    }
    default: { // SEARCH_KEYS: gradient of the distance w.r.t. the key sample `target`.
        if (c >= in.channels) return 0.0f;
        i64 q = s / in.K;
        const int* qp = in.queries + b * in.queryBatchStride + 3 * q;
        i64 l0 = location(g, b, qp[0], c, qp[1] + g.patch[a], qp[2] + g.patch[e], T, C, H, W);
        float v0 = l0 < 0 ? 0.0f : in.video[l0];
        float v1 = in.keys[target];
        return in.l2 ? -2.0f * w * (v0 - v1) : w * v0;
    }
    }
}

// Scatter-add as a gather: one thread per destination pixel (b, t, c, y, x) sums, in a fixed order
// (entry row, entry column, row preimage, column preimage, site number), the contributions of
// every site whose patch entry reads this pixel. `starts`/`members` list the sites anchored at each
// pixel (CSR over b, t, h, w; members ascending). out += the sum.
extern "C" __global__ void deposit_gather(
    int mode, const float* patches, const float* weights, const float* video, const float* keys,
    const int* queries, i64 queryBatchStride, int K, int channels, int l2,
    const int* block, const int* starts, const int* members, Grid grid,
    int B, int T, int C, int H, int W, int ps, i64 S, float* out)
{
    DepositInputs in;
    in.mode = mode; in.patches = patches; in.weights = weights; in.video = video; in.keys = keys;
    in.queries = queries; in.queryBatchStride = queryBatchStride; in.K = K; in.channels = channels; in.l2 = l2;
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (i64)B * T * C * H * W) return;
    int x = (int)(idx % W), y = (int)((idx / W) % H), c = (int)((idx / ((i64)W * H)) % C);
    int t = (int)((idx / ((i64)W * H * C)) % T), b = (int)(idx / ((i64)W * H * C * T));
    Geometry g = geometry(block, H, W, ps, 0);
    int rowPre[3] = { y, -y, 2 * (H - 1) - y }, colPre[3] = { x, -x, 2 * (W - 1) - x };
    float sum = 0.0f;
    for (int a = 0; a < ps; ++a)
        for (int e = 0; e < ps; ++e)
            for (int i = 0; i < 3; ++i) {
                int py = rowPre[i];
                if (py < -H || py >= 2 * H || g.rows[py] != y) continue;
                if ((i == 1 && py == rowPre[0]) || (i == 2 && (py == rowPre[0] || py == rowPre[1]))) continue;
                int h = py - g.patch[a];
                if (h < 0 || h >= H) continue;
                for (int j = 0; j < 3; ++j) {
                    int px = colPre[j];
                    if (px < -W || px >= 2 * W || g.cols[px] != x) continue;
                    if ((j == 1 && px == colPre[0]) || (j == 2 && (px == colPre[0] || px == colPre[1]))) continue;
                    int w = px - g.patch[e];
                    if (w < 0 || w >= W) continue;
                    if (grid.on) {  // grid sites: the grid's inverse replaces the anchor table
                        i64 q = grid_query(grid, t, h, w, S);
                        if (q >= 0) sum += contribution(in, g, b, S, q, c, a, e, idx, T, C, H, W, ps);
                        continue;
                    }
                    i64 bucket = (((i64)b * T + t) * H + h) * W + w;
                    for (int k = starts[bucket]; k < starts[bucket + 1]; ++k)
                        sum += contribution(in, g, b, S, members[k], c, a, e, idx, T, C, H, W, ps);
                }
            }
    out[idx] += sum;
}

// Query side of the search backward: for query q and entry (c, a, e) with c < channels,
// Σ_m dL/dd_m · ∂d_m/∂v0. One thread per (b, q, c, a, e); out is (B, Q, C, ps, ps).
extern "C" __global__ void search_backward_queries(
    const float* video, const float* keys, const int* queries, i64 queryBatchStride,
    const int* inds, const float* grad, const int* block,
    int B, int T, int C, int H, int W, int channels, int ps, int Q, int K, int l2, float* out)
{
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    i64 per = (i64)C * ps * ps;
    if (idx >= (i64)B * Q * per) return;
    int e = (int)(idx % ps), a = (int)((idx / ps) % ps), c = (int)((idx / ((i64)ps * ps)) % C);
    int q = (int)((idx / per) % Q), b = (int)(idx / (per * Q));
    Geometry g = geometry(block, H, W, ps, 0);
    float sum = 0.0f;
    if (c < channels) {
        const int* qp = queries + b * queryBatchStride + 3 * (i64)q;
        i64 l0 = location(g, b, qp[0], c, qp[1] + g.patch[a], qp[2] + g.patch[e], T, C, H, W);
        float v0 = l0 < 0 ? 0.0f : video[l0];
        for (int m = 0; m < K; ++m) {
            i64 o = ((i64)b * Q + q) * K + m;
            const int* n = inds + 3 * o;
            if (n[0] < 0) continue;
            i64 l1 = location(g, b, n[0], c, n[1] + g.patch[a], n[2] + g.patch[e], T, C, H, W);
            float v1 = l1 < 0 ? 0.0f : keys[l1];
            sum += l2 ? 2.0f * grad[o] * (v0 - v1) : grad[o] * v1;
        }
    }
    out[idx] = sum;
}

// Weighted patch sum: out[b, q, c, a, e] = Σ_m w[b, q, m] · patch(m)[c, a, e]. One thread per element.
extern "C" __global__ void weighted_sum(
    const float* video, const float* weights, const int* sites, i64 siteBatchStride, const int* block,
    int B, int T, int C, int H, int W, int ps, int Q, int K, float* out)
{
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    i64 per = (i64)C * ps * ps;
    if (idx >= (i64)B * Q * per) return;
    int e = (int)(idx % ps), a = (int)((idx / ps) % ps), c = (int)((idx / ((i64)ps * ps)) % C);
    int q = (int)((idx / per) % Q), b = (int)(idx / (per * Q));
    Geometry g = geometry(block, H, W, ps, 0);
    float sum = 0.0f;
    for (int m = 0; m < K; ++m) {
        i64 s = (i64)q * K + m;
        const int* p = sites + b * siteBatchStride + 3 * s;
        if (p[0] < 0) continue;
        i64 l = location(g, b, p[0], c, p[1] + g.patch[a], p[2] + g.patch[e], T, C, H, W);
        if (l >= 0) sum += weights[((i64)b * Q + q) * K + m] * video[l];
    }
    out[idx] = sum;
}

// Gradient of the weighted sum w.r.t. its weights: one thread per (b, q, m), summing over (c, a, e).
extern "C" __global__ void weighted_sum_weight_gradient(
    const float* video, const float* grad, const int* sites, i64 siteBatchStride, const int* block,
    int B, int T, int C, int H, int W, int ps, int Q, int K, float* out)
{
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (i64)B * Q * K) return;
    int m = (int)(idx % K), q = (int)((idx / K) % Q), b = (int)(idx / ((i64)K * Q));
    Geometry g = geometry(block, H, W, ps, 0);
    const int* p = sites + b * siteBatchStride + 3 * ((i64)q * K + m);
    float sum = 0.0f;
    if (p[0] >= 0)
        for (int c = 0; c < C; ++c)
            for (int a = 0; a < ps; ++a)
                for (int e = 0; e < ps; ++e) {
                    i64 l = location(g, b, p[0], c, p[1] + g.patch[a], p[2] + g.patch[e], T, C, H, W);
                    if (l >= 0) sum += grad[((((i64)b * Q + q) * C + c) * ps + a) * ps + e] * video[l];
                }
    out[idx] = sum;
}
"""#
}
