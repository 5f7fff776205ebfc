extension CUDAKernelSource {
    /// Search forward: the general kernel (any queries, flow) and the tiled kernels without flow.
    static let search = #"""
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

"""#
}
