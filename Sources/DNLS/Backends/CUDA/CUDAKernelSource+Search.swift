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
//
// One block per BOX_TQ×BOX_TQ tile of grid positions in one frame. Every query of the tile compares
// its patch with the patch displaced by the same window offset (di, dj), so the per-pixel terms
// D(y, x) = Σ_c term(q(c, y, x), k(c, y + di, x + dj)) over the tile's footprint are shared, and
// each query's distance is a separable box sum of D: about C + 2·ps operations per query and
// candidate instead of C·ps².
//
// Work item = (footprint row y, run of BOX_RUN neighbouring query columns, group of BOX_JG window
// columns), footprint rows fastest across threads. For one window row di, an item holds its footprint samples of the query frame in
// registers, slides a register copy of the key samples along the window columns (one new sample
// per channel and window step), forms D in registers and writes the BOX_RUN row sums of each of its
// window columns to shared memory. Channels go in chunks of BOX_CC (row sums accumulate across
// chunks); then each query's owner thread takes the column sums and offers the window row's
// candidates to its top-K in enumeration order. Key samples come into shared memory BOX_RG window
// rows at a time (all of a frame's when one chunk holds every channel), read row by row by whole
// warps through a block-wide table of resolved columns. Sums run in a fixed order: bitwise
// reproducible.
#define BOX_RUN 4
#define BOX_PY ((BOX_TQ - 1) * BOX_STRIDE + (BOX_PS - 1) * BOX_DIL + 1)   // footprint side, pixels
#define BOX_SPAN ((BOX_RUN - 1) * BOX_STRIDE + (BOX_PS - 1) * BOX_DIL + 1) // samples of one item's run
#define BOX_RUNS (BOX_TQ / BOX_RUN)
#define BOX_GROUPS ((BOX_WS + BOX_JG - 1) / BOX_JG)
#define BOX_ITEMS (BOX_PY * BOX_RUNS * BOX_GROUPS)
extern "C" __global__ void __launch_bounds__(BOX_NT) search_forward_box(
    const float* video, const float* keys, Grid grid, const int* block,
    int B, int T, int C, int H, int W, int channels, int F, int Q, int slots, int l2, int dmin, int reach,
    float* dists, int* inds)
{
    extern __shared__ float smem[];
    // Shared rows have odd lengths, so that the items of a warp (consecutive footprint rows) hit
    // distinct banks.
    const int KX = BOX_PY + reach;                     // key row length: footprint + window reach
    const int KXP = KX | 1;                            // its padded stride
    const int TQP = BOX_TQ + 1;                        // padded stride of row sums
    float* kTile = smem;                               // [BOX_CC][TR][KXP]
    const int TR = BOX_PY + (BOX_RG - 1) * BOX_WSTEP;  // key rows of BOX_RG window rows
    float* rowSums = kTile + BOX_CC * TR * KXP;        // [BOX_WS][BOX_PY][TQP]
    int* keyColumns = (int*)(rowSums + BOX_WS * BOX_PY * TQP);  // [KX]: resolved key columns
#if BOX_QTILE
    // With several chunks, the query footprint of every channel stays in shared memory, so that
    // refilling an item's registers for the next chunk is a few shared loads.
    float* qTile = (float*)(keyColumns + KX);          // [channels][BOX_PY][BOX_PY]
#endif
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
    int hq0 = grid.h0 + tileY * BOX_TQ * BOX_STRIDE, wq0 = grid.w0 + tileX * BOX_TQ * BOX_STRIDE;
    int hq1 = grid.h0 + min(tileY * BOX_TQ + BOX_TQ - 1, grid.rows - 1) * BOX_STRIDE;
    int y0 = hq0 + g.patch[0], x0 = wq0 + g.patch[0];  // footprint origin
    // This thread's work item (threads past BOX_ITEMS only own queries).
    bool worker = tid < BOX_ITEMS;
    int y = tid % BOX_PY, run = (tid / BOX_PY) % BOX_RUNS, group = tid / (BOX_PY * BOX_RUNS);
    int xRun = run * BOX_RUN * BOX_STRIDE;             // first footprint column of the run
    const int wstep = BOX_WSTEP;                       // offset between neighbouring window columns
    for (int x = tid; x < KX; x += BOX_NT) {
        int xx = x0 + dmin + x;
        keyColumns[x] = xx < -W || xx >= 2 * W ? -1 : g.cols[xx];
    }
    int warp = tid / 32, lane = tid % 32;
#if BOX_QTILE
    for (int k = tid; k < channels * BOX_PY * BOX_PY; k += BOX_NT) {
        int c = k / (BOX_PY * BOX_PY), yy = (k / BOX_PY) % BOX_PY, xx = k % BOX_PY;
        i64 l = location_any(g, b, t, c, y0 + yy, x0 + xx, T, C, H, W);
        qTile[k] = l < 0 ? 0.0f : video[l];
    }
    __syncthreads();
#endif
    float empty = l2 ? __int_as_float(0x7f800000) : __int_as_float(0xff800000);
    i64 out = ((i64)b * Q + (mine ? q : 0)) * slots;
#if WHOLE
    if (mine) for (int s = 0; s < slots; ++s) store_slot(dists, inds, out + s, empty, -1, -1, -1);
#else
    TopK best; best.reset();
#endif
    float qv[BOX_CC][BOX_SPAN];
    int loaded = -1;
    const int perFrame = BOX_WS * BOX_WS;
    for (int s = 0; s < F; ++s) {
        int n = g.order[t * F + s];
        const float* frame = keys + ((i64)b * T + n) * C * H * W;
        for (int i0 = 0; i0 < BOX_WS; i0 += BOX_RG) {
            int i1 = min(i0 + BOX_RG, BOX_WS);
            // No query of the tile has a candidate row in the frame for these window rows.
            if (hq1 + g.window[i1 - 1] < 0 || hq0 + g.window[i0] >= H) continue;
            for (int c0 = 0; c0 < channels; c0 += BOX_CC) {
                if (worker && loaded != c0) {
#pragma unroll
                    for (int c = 0; c < BOX_CC; ++c)
#pragma unroll
                        for (int k = 0; k < BOX_SPAN; ++k) {
#if BOX_QTILE
                            qv[c][k] = c0 + c < channels ? qTile[((c0 + c) * BOX_PY + y) * BOX_PY + xRun + k] : 0.0f;
#else
                            i64 l = c0 + c < channels ? location_any(g, b, t, c0 + c, y0 + y, x0 + xRun + k, T, C, H, W) : -1;
                            qv[c][k] = l < 0 ? 0.0f : video[l];
#endif
                        }
                    loaded = c0;
                }
                __syncthreads();  // the previous readers of kTile and rowSums are done
                // Key rows, one warp per row: resolved row once, then the columns' table.
#pragma unroll 4
                for (int r = warp; r < BOX_CC * TR; r += BOX_NT / 32) {
                    int c = r / TR, yy = y0 + g.window[i0] + r % TR;
                    int row = c0 + c < channels && yy >= -H && yy < 2 * H ? g.rows[yy] : -1;
                    const float* src = frame + ((i64)(c0 + c) * H + row) * W;
                    for (int x = lane; x < KX; x += 32) {
                        int col = keyColumns[x];
                        kTile[r * KXP + x] = row < 0 || col < 0 ? 0.0f : src[col];
                    }
                }
                __syncthreads();
                for (int i = i0; i < i1; ++i) {
                    int di = g.window[i];
                    if (hq1 + di < 0 || hq0 + di >= H) continue;
                    if (worker) {
                        const float* kb = kTile + (y + (i - i0) * wstep) * KXP + xRun + group * BOX_JG * wstep;
                        float kv[BOX_CC][BOX_SPAN];
#pragma unroll
                        for (int jj = 0; jj < BOX_JG; ++jj) {
                            int j = group * BOX_JG + jj;
                            if (j >= BOX_WS) break;
                            // Key samples for window column j: slide the previous ones by one step.
#pragma unroll
                            for (int c = 0; c < BOX_CC; ++c)
#pragma unroll
                                for (int k = 0; k < BOX_SPAN; ++k) {
                                    if (jj > 0 && BOX_WSTEP == 1 && k + 1 < BOX_SPAN) kv[c][k] = kv[c][k + 1];
                                    else kv[c][k] = kb[c * TR * KXP + jj * wstep + k];
                                }
                            float d[BOX_SPAN];
#pragma unroll
                            for (int k = 0; k < BOX_SPAN; ++k) {
                                float acc = 0.0f;
#pragma unroll
                                for (int c = 0; c < BOX_CC; ++c) {
                                    if (l2) { float u = qv[c][k] - kv[c][k]; acc = __fmaf_rn(u, u, acc); }
                                    else acc = __fmaf_rn(qv[c][k], kv[c][k], acc);
                                }
                                d[k] = acc;
                            }
                            float* dst = rowSums + (j * BOX_PY + y) * TQP + run * BOX_RUN;
#pragma unroll
                            for (int o = 0; o < BOX_RUN; ++o) {
                                float sum = 0.0f;
#pragma unroll
                                for (int e = 0; e < BOX_PS; ++e) sum += d[o * BOX_STRIDE + e * BOX_DIL];
                                dst[o] = c0 == 0 ? sum : dst[o] + sum;
                            }
                        }
                    }
                    if (c0 + BOX_CC < channels) continue;  // more chunks to add
                    __syncthreads();  // every row sum of window row i is complete
                    if (mine && h + di >= 0 && h + di < H) {
                        for (int j = 0; j < BOX_WS; ++j) {
                            int cw = w + g.window[j];
                            if (cw < 0 || cw >= W) continue;
                            const float* col = rowSums + (j * BOX_PY + ty * BOX_STRIDE) * TQP + tx;
                            float dist = 0.0f;
#pragma unroll
                            for (int a = 0; a < BOX_PS; ++a) dist += col[a * BOX_DIL * TQP];
                            int en = s * perFrame + i * BOX_WS + j;
#if WHOLE
                            store_slot(dists, inds, out + en, dist, n, h + di, cw);
#else
                            best.offer(l2 ? dist : -dist, en);
#endif
                        }
                    }
                    __syncthreads();  // the owners are done with rowSums
                }
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
        store_slot(dists, inds, o, d, g.order[t * F + slot], h + g.window[i], w + g.window[j]);
    }
#endif
}
#endif

"""#
}
