extension CUDAKernelSource {
    /// Search forward: the general kernel (any queries, flow) and the box-filtered kernel (no flow, grid queries).
    static let search = #"""
// Search, one thread per (batch item, query). KMAX is the number of neighbours kept (a compile-time
// constant so the list lives in registers); WHOLE = 1 writes every candidate at its enumeration slot.
// Grid queries (grid.on) are computed here rather than read from a table, so that no table the
// size of the queries is ever allocated.
extern "C" __global__ void search_forward(
    const float* video, const float* keys, const int* queries, i64 queryBatchStride, Grid grid,
    const float* fflow, const float* bflow, const int* block,
    int B, int T, int C, int H, int W, int channels, int ps, int ws, int F, int Q, int slots, int l2,
    float* dists, int* inds)
{
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (i64)B * Q) return;
    int b = (int)(idx / Q), q = (int)(idx % Q);
    Geometry g = geometry(block, H, W, ps, ws);
    int gp[3];
    const int* qp = queries + b * queryBatchStride + 3 * (i64)q;
    if (grid.on) { grid_position(grid, q, gp); qp = gp; }
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

#ifdef BOX_TQ
// Box-filtered search without flow on a query grid (any grid stride, dilation, channel count).
// One block per BOX_TQ×BOX_TQ tile of grid positions in one frame; BOX_NT threads, the first
// BOX_TQ² of which own a query each. Every query of the tile compares its patch with the patch
// displaced by the same window offset, so for one offset the block computes the per-pixel terms
// D(y, x) = Σ_c term(q(c, y, x), k(c, y + di, x + dj)) over the tile's footprint once, then each
// query's distance as a separable box sum of D (rows of taps, then columns): about C + 2·ps
// operations per query and candidate instead of C·ps². Channels go in chunks of BOX_CC; each query
// keeps one window row's partial distances in registers, so shared memory holds only the key rows of
// one window row and one chunk. Sums run in a fixed order: results are bitwise reproducible.
#define BOX_PY ((BOX_TQ - 1) * BOX_STRIDE + (BOX_PS - 1) * BOX_DIL + 1)   // footprint side, pixels
#define BOX_PIX (BOX_PY * BOX_PY)
#define BOX_PPT ((BOX_PIX + BOX_NT - 1) / BOX_NT)                        // footprint pixels per thread
#define BOX_RUN 4                                                        // box sums per thread and pass
#define BOX_RUN_SPAN ((BOX_RUN - 1) * BOX_STRIDE + (BOX_PS - 1) * BOX_DIL + 1)
extern "C" __global__ void __launch_bounds__(BOX_NT) search_forward_box(
    const float* video, const float* keys, Grid grid, const int* block,
    int B, int T, int C, int H, int W, int channels, int F, int Q, int slots, int l2, int dmin, int reach,
    float* dists, int* inds)
{
    extern __shared__ float smem[];
    const int KX = BOX_PY + reach;                     // key row length: footprint + window reach
    float* kTile = smem;                               // [BOX_CC][BOX_PY][KX]
    float* diff = kTile + BOX_CC * BOX_PY * KX;        // [BOX_PY][BOX_PY]
    float* rowSums = diff + BOX_PIX;                   // [BOX_PY][BOX_TQ]
    float* part = rowSums + BOX_PY * BOX_TQ;           // [BOX_WS][BOX_TQ²]: one window row's partial distances
    int tilesX = (grid.cols + BOX_TQ - 1) / BOX_TQ, tilesY = (grid.rows + BOX_TQ - 1) / BOX_TQ;
    i64 bid = blockIdx.x;
    int tileX = (int)(bid % tilesX), tileY = (int)((bid / tilesX) % tilesY);
    int dt = (int)((bid / ((i64)tilesX * tilesY)) % grid.frames), b = (int)(bid / ((i64)tilesX * tilesY * grid.frames));
    int tid = threadIdx.x, ty = tid / BOX_TQ, tx = tid % BOX_TQ;
    int gi = tileY * BOX_TQ + ty, gj = tileX * BOX_TQ + tx;
    i64 q = ((i64)dt * grid.rows + gi) * grid.cols + gj - grid.start;
    bool mine = tid < BOX_TQ * BOX_TQ && gi < grid.rows && gj < grid.cols && q >= 0 && q < Q;
    if (!__syncthreads_or(mine)) return;
    Geometry g = geometry(block, H, W, BOX_PS, BOX_WS);
    int t = grid.t0 + dt;
    int h = grid.h0 + gi * BOX_STRIDE, w = grid.w0 + gj * BOX_STRIDE;
    // The tile's first and last query rows and columns, for block-wide skips of offsets whose
    // candidates all fall outside the frame.
    int hq0 = grid.h0 + tileY * BOX_TQ * BOX_STRIDE, wq0 = grid.w0 + tileX * BOX_TQ * BOX_STRIDE;
    int hq1 = grid.h0 + min(tileY * BOX_TQ + BOX_TQ - 1, grid.rows - 1) * BOX_STRIDE;
    int wq1 = grid.w0 + min(tileX * BOX_TQ + BOX_TQ - 1, grid.cols - 1) * BOX_STRIDE;
    int y0 = hq0 + g.patch[0], x0 = wq0 + g.patch[0];  // footprint origin
    const int* offs = g.window;
    float empty = l2 ? __int_as_float(0x7f800000) : __int_as_float(0xff800000);
    i64 out = ((i64)b * Q + (mine ? q : 0)) * slots;
#if WHOLE
    if (mine) for (int s = 0; s < slots; ++s) store_slot(dists, inds, out + s, empty, -1, -1, -1);
#else
    TopK best; best.reset();
#endif
    // This thread's footprint pixels of the query frame, one channel chunk, in registers.
    float qv[BOX_PPT][BOX_CC];
    int loaded = -1;
    const int perFrame = BOX_WS * BOX_WS;
    for (int s = 0; s < F; ++s) {
        int n = g.order[t * F + s];
        for (int i = 0; i < BOX_WS; ++i) {
            int di = offs[i];
            if (hq1 + di < 0 || hq0 + di >= H) continue;
            if (tid < BOX_TQ * BOX_TQ)
                for (int j = 0; j < BOX_WS; ++j) part[j * BOX_TQ * BOX_TQ + tid] = 0.0f;
            for (int c0 = 0; c0 < channels; c0 += BOX_CC) {
                if (loaded != c0) {
#pragma unroll
                    for (int p = 0; p < BOX_PPT; ++p) {
                        int pix = tid + p * BOX_NT, py = pix / BOX_PY, px = pix % BOX_PY;
#pragma unroll
                        for (int c = 0; c < BOX_CC; ++c) {
                            i64 l = pix < BOX_PIX && c0 + c < channels ? location_any(g, b, t, c0 + c, y0 + py, x0 + px, T, C, H, W) : -1;
                            qv[p][c] = l < 0 ? 0.0f : video[l];
                        }
                    }
                    loaded = c0;
                }
                __syncthreads();  // the previous chunk's readers are done with kTile
                for (int k = tid; k < BOX_CC * BOX_PY * KX; k += BOX_NT) {
                    int c = k / (BOX_PY * KX), y = (k / KX) % BOX_PY, x = k % KX;
                    i64 l = c0 + c < channels ? location_any(g, b, n, c0 + c, y0 + di + y, x0 + dmin + x, T, C, H, W) : -1;
                    kTile[k] = l < 0 ? 0.0f : keys[l];
                }
                __syncthreads();
#pragma unroll 1
                for (int j = 0; j < BOX_WS; ++j) {
                    int dj = offs[j];
                    if (wq1 + dj < 0 || wq0 + dj >= W) continue;
                    const float* kBase = kTile + dj - dmin;
#pragma unroll
                    for (int p = 0; p < BOX_PPT; ++p) {
                        int pix = tid + p * BOX_NT, py = pix / BOX_PY, px = pix % BOX_PY;
                        if (pix < BOX_PIX) {
                            float d = 0.0f;
#pragma unroll
                            for (int c = 0; c < BOX_CC; ++c) {
                                float kv = kBase[(c * BOX_PY + py) * KX + px];
                                if (l2) { float u = qv[p][c] - kv; d = __fmaf_rn(u, u, d); }
                                else d = __fmaf_rn(qv[p][c], kv, d);
                            }
                            diff[pix] = d;
                        }
                    }
                    __syncthreads();
                    // Row sums, BOX_RUN neighbouring outputs per thread from one register copy of
                    // the samples they share.
                    for (int r = tid; r < BOX_PY * (BOX_TQ / BOX_RUN); r += BOX_NT) {
                        int py = r / (BOX_TQ / BOX_RUN), qx0 = (r % (BOX_TQ / BOX_RUN)) * BOX_RUN;
                        const float* src = diff + py * BOX_PY + qx0 * BOX_STRIDE;
                        float v[BOX_RUN_SPAN];
#pragma unroll
                        for (int k = 0; k < BOX_RUN_SPAN; ++k) v[k] = src[k];
#pragma unroll
                        for (int o = 0; o < BOX_RUN; ++o) {
                            float sum = 0.0f;
#pragma unroll
                            for (int e = 0; e < BOX_PS; ++e) sum += v[o * BOX_STRIDE + e * BOX_DIL];
                            rowSums[py * BOX_TQ + qx0 + o] = sum;
                        }
                    }
                    __syncthreads();
                    // Column sums, likewise, added to the partial distances of BOX_RUN queries.
                    for (int r = tid; r < BOX_TQ * (BOX_TQ / BOX_RUN); r += BOX_NT) {
                        int qx = r % BOX_TQ, qy0 = (r / BOX_TQ) * BOX_RUN;
                        const float* src = rowSums + qy0 * BOX_STRIDE * BOX_TQ + qx;
                        float v[BOX_RUN_SPAN];
#pragma unroll
                        for (int k = 0; k < BOX_RUN_SPAN; ++k) v[k] = src[k * BOX_TQ];
#pragma unroll
                        for (int o = 0; o < BOX_RUN; ++o) {
                            float sum = 0.0f;
#pragma unroll
                            for (int a = 0; a < BOX_PS; ++a) sum += v[o * BOX_STRIDE + a * BOX_DIL];
                            part[j * BOX_TQ * BOX_TQ + (qy0 + o) * BOX_TQ + qx] += sum;
                        }
                    }
                }
            }
            __syncthreads();  // every partial distance of this window row is complete
            if (!mine || h + di < 0 || h + di >= H) continue;
            for (int j = 0; j < BOX_WS; ++j) {
                int cw = w + offs[j];
                if (cw < 0 || cw >= W) continue;
                int en = s * perFrame + i * BOX_WS + j;
                float d = part[j * BOX_TQ * BOX_TQ + tid];
#if WHOLE
                store_slot(dists, inds, out + en, d, n, h + di, cw);
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
        int en = best.en[r], slot = en / perFrame, i = (en % perFrame) / BOX_WS, j = en % BOX_WS;
        store_slot(dists, inds, o, d, g.order[t * F + slot], h + offs[i], w + offs[j]);
    }
#endif
}
#endif

"""#
}
