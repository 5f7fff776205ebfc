extension CUDAKernelSource {
    /// Search forward: the general kernel (any queries, flow) and the box-filtered kernel (grid queries, without flow or along flows).
    static let search = #"""
// Search, one thread per (batch item, query). KMAX is the number of neighbours kept (a compile-time
// constant so the list lives in registers); WHOLE = 1 writes every candidate at its enumeration slot.
// Grid queries (grid.on) are computed here rather than read from a table, so that no table the
// size of the queries is ever allocated.
// L2 is the metric (p.l2) at compile time: the candidate loop has no branch on it. The fields are
// read into locals first, before the loops, as separate kernel parameters would be (read inside
// the loops, the compiler was seen to reload them there and to unroll the loops less).
template <bool L2> __device__ __forceinline__ void search_query(const DNLSSearchForward& p)
{
    const float* video = p.video;
    const float* keys = p.keys;
    const int* queries = p.queries;
    const i64 queryBatchStride = p.queryBatchStride;
    const Grid grid = grid_value(p.grid);
    const float* fflow = p.forwardFlow;
    const float* bflow = p.backwardFlow;
    const int* block = p.block;
    const int B = p.B, T = p.T, C = p.C, H = p.H, W = p.W, channels = p.channels, ps = p.ps, ws = p.ws, F = p.F, Q = p.Q, slots = p.slots;
    const bool l2 = L2;
    float* dists = p.distances;
    int* inds = p.indices;
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
    // A query outside the video has no candidates: every slot empty, as for a candidate-less query.
    bool inside = site_inside(qt, qh, qw, T, H, W);
#if WHOLE
    for (int s = 0; s < slots; ++s) store_slot(dists, inds, out + s, empty, -1, -1, -1);
    if (!inside) return;
#else
    if (!inside) {
        for (int r = 0; r < KMAX; ++r) store_slot(dists, inds, out + r, empty, -1, -1, -1);
        return;
    }
    TOPK(best);
#endif
    int ch = qh, cw = qw;          // centre of the previous link of the chain
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
                int en = dnls_candidate_number(s, i, j, ws);
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
        DNLSCandidate at = dnls_candidate(best.en[r], ws);
        int slot = at.slot, i = at.row, j = at.col;
        int c0 = qh, c1 = qw, n = qt;
        for (int s = 1; s <= slot; ++s) {
            n = g.order[qt * F + s];
            chain_hop(n, qt, qh, qw, c0, c1, fflow, bflow, b, T, H, W);
        }
        store_slot(dists, inds, o, d, n, c0 + g.window[i], c1 + g.window[j]);
    }
#endif
}

extern "C" __global__ void search_forward(const DNLSSearchForward p)
{
    if (p.onlyIfSet && !*p.onlyIfSet) return;  // zero flows: the box-filtered search ran instead
    if (p.l2) search_query<true>(p); else search_query<false>(p);
}


#if !WHOLE
// Writes a query's kept candidates as its KMAX output slots, decoding each enumeration number into
// the neighbour's (t, h, w) for a search without flow from the query at (t, h, w); slots past
// `filled` are empty. (Unrolled, so that the list stays in registers.)
__device__ __forceinline__ void store_kept(float* dists, int* inds, i64 out, const TopK& best,
                                           bool l2, const Geometry& g, int t, int h, int w, int F, int ws) {
    float empty = l2 ? __int_as_float(0x7f800000) : __int_as_float(0xff800000);
#pragma unroll
    for (int r = 0; r < KMAX; ++r) {
        if (r >= best.filled) { store_slot(dists, inds, out + r, empty, -1, -1, -1); continue; }
        DNLSCandidate at = dnls_candidate(best.en[r], ws);
        int slot = at.slot, i = at.row, j = at.col;
        store_slot(dists, inds, out + r, l2 ? best.key[r] : -best.key[r], g.order[t * F + slot], h + g.window[i], w + g.window[j]);
    }
}
#endif

#ifdef BOX_TQ
// Box-filtered search without flow on a query grid (any grid stride, dilation, channel count).
// BOX_L2 (the metric) is a compile-time constant here, so that the arithmetic has no branches.
//
// A block searches a BOX_TQ×BOX_TQ tile of grid positions in one frame (or a segment of it, or
// several: see the units below). Every query of the tile compares its patch with the patch
// displaced by the same window offset (di, dj), so the terms of the tile's footprint pixels are
// shared: each query's distance is a sum of row sums, and each row sum is shared by the queries
// whose patches cover that footprint row.
//
// Work item = (footprint row y, run of BOX_RUN neighbouring query columns, group of BOX_JG window
// columns), footprint rows fastest across threads. For one window row di, an item keeps the BOX_JG ×
// BOX_RUN row sums of its run in registers and adds every channel into them: BOX_CI channels at a
// time, with the query samples in registers and a register copy of the key samples slid along the
// window columns (wstep new samples per channel and window column). With BOX_CI = 1 it adds each
// squared difference straight into the row sums; with more, it first sums the pixel's terms over
// the BOX_CI channels, once for the run's overlapping patches (BOX_ONCE: that one pass holds every
// channel). The row sums go to shared memory after the last channel; then each query's owner
// thread adds its patch rows and offers the window row's candidates to its top-K in enumeration
// order. With BOX_RA = 2 (several chunks of one channel each), an item keeps the row sums of two
// window rows instead, so that each chunk is staged once for both (see rowsInRegisters).
//
// Channels reach shared memory in chunks of BOX_CC: one pipeline step is (frame slot s, first
// window row i0 of a group of BOX_RG, chunk c0), and it holds the chunk's key rows of its window
// rows and its query footprint. With BOX_NBUF = 2 the next step's rows are copied asynchronously
// while this one's arithmetic runs. Each copying thread keeps one column of the rows for the whole
// block; block-wide tables give the resolved rows and columns. Sums run in a fixed order: bitwise
// reproducible.
//
// Asynchronous 4-byte copy from global to shared memory (zero-filled when !valid), and its
// group commit / wait.
__device__ __forceinline__ void cp_async4(float* dst, const float* src, bool valid) {
    unsigned d = (unsigned)__cvta_generic_to_shared(dst);
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" :: "r"(d), "l"(src), "r"(valid ? 4 : 0) : "memory");
}
// The same from base[index], its address formed by one wide multiply-add.
__device__ __forceinline__ void cp_async4_at(float* dst, const float* base, int index, bool valid) {
    const float* src;
    asm("mad.wide.s32 %0, %1, 4, %2;" : "=l"(src) : "r"(index), "l"(base));
    cp_async4(dst, src, valid);
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
__device__ __forceinline__ void cp_async_wait_all() { asm volatile("cp.async.wait_group 0;\n" ::: "memory"); }

#define BOX_RUN 4
#define BOX_PY ((BOX_TQ - 1) * BOX_STRIDE + (BOX_PS - 1) * BOX_DIL + 1)   // footprint side, pixels
#define BOX_SPAN ((BOX_RUN - 1) * BOX_STRIDE + (BOX_PS - 1) * BOX_DIL + 1) // samples of one item's run
#define BOX_RUNS (BOX_TQ / BOX_RUN)
#define BOX_GROUPS ((BOX_WS + BOX_JG - 1) / BOX_JG)
#define BOX_ITEMS (BOX_PY * BOX_RUNS * BOX_GROUPS)
#define BOX_PAD ((BOX_GROUPS * BOX_JG - BOX_WS) * BOX_WSTEP)  // key columns of the last group's padding
#define BOX_REACH ((BOX_WS - 1) * BOX_WSTEP)                    // span of the window offsets
#define BOX_ROWPAD (((BOX_WS + BOX_RG - 1) / BOX_RG * BOX_RG - BOX_WS) * BOX_WSTEP)  // key rows of the last row group's padding
#define BOX_GPF ((BOX_WS + BOX_RG - 1) / BOX_RG)                // window-row groups per frame slot
// BOX_FLOW: the search follows flows. BOX_WS is then the side of the union window that a block
// box-filters (a chunk of the union of its queries' flow-moved windows), BOX_QWS the side of each
// query's own window, and the window stride is 1.
#ifndef BOX_FLOW
#define BOX_FLOW 0
#endif
#ifndef BOX_QWS
#define BOX_QWS BOX_WS
#endif

// The block's shared memory, in floats. Shared rows have odd lengths, so that the items of a warp
// (consecutive footprint rows) hit distinct banks.
namespace box {
constexpr int KX = BOX_PY + BOX_REACH + BOX_PAD;       // key row length: footprint + window reach
constexpr int KY = BOX_PY + BOX_REACH + BOX_ROWPAD;    // key rows of all window rows (+ the last group's padding)
constexpr int KXP = KX | 1;                            // its padded stride
constexpr int QXP = BOX_PY | 1;                        // padded stride of query rows
constexpr int TQP = BOX_TQP;                           // stride of row sums: BOX_TQ, or + 1 against bank conflicts
constexpr int TR = BOX_PY + (BOX_RG - 1) * BOX_WSTEP;  // key rows of BOX_RG window rows
constexpr int KEYS = BOX_CC * TR * KXP;
constexpr int STAGE = KEYS + BOX_CC * BOX_PY * QXP;
constexpr int TQ2 = BOX_TQ * BOX_TQ;                   // queries of a tile
// Owners: OWN threads per query of the tile, each offering an equal share of the window columns
// to its own top-K (two when the block has the threads and the lists fit the shared memory for
// their merge), so that the owners' phase, which the rest of the block waits for, is shorter.
constexpr int OWN = 2 * TQ2 <= BOX_NT && TQ2 * (2 * KMAX + 1) <= BOX_NBUF * STAGE + BOX_WS * BOX_PY * TQP ? 2 : 1;
constexpr int JSHARE = (BOX_WS + OWN - 1) / OWN;       // window columns per owner
// Copies: each thread copies one column of the key rows (and of the query rows), every KROWS-th
// (QROWS-th) row, so that its column and its place in a row are fixed for the block.
constexpr int KROWS = BOX_NT / KX, QROWS = BOX_NT / BOX_PY;  // rows per pass (the plan gives KX, PY ≤ BOX_NT)
}  // namespace box

// Where a block's unit of work lies: tile (x, y) of grid frame dt of batch item b, for tile number
// bid (tiles of a frame, then frames, then items).
struct BoxTile { int x, y, dt, b; };

__device__ __forceinline__ BoxTile box_tile(int bid, int tilesX, int tilesY, int frames) {
    BoxTile k;
    k.x = bid % tilesX; k.y = bid / tilesX % tilesY;
    k.dt = bid / (tilesX * tilesY) % frames; k.b = bid / (tilesX * tilesY * frames);
    return k;
}

// One thread's query of the tile: the thread is its owner when `mine`, offering window columns
// [jBegin, jEnd) to its list; (t, h, w) is the query, (ty, tx) its place in the tile, `out` its
// first output slot.
// BOX_FLOW: (ch, cw) is the centre of the query's window in frame slot `slot`.
struct BoxOwner { bool mine; int part, ty, tx, jBegin, jEnd, t, h, w, slot, ch, cw; i64 q, out; };

// Resolved columns and rows (times W) of the key samples from (ky0, kx0) (the footprint origin
// displaced by the first window offset) into the block's tables (-1: zero); without flow, query
// samples are those displaced by 0, i.e. at index −dmin.
__device__ __forceinline__ void box_resolve_tables(const DNLSSearchForwardBox& p, int* keyColumns, int* keyRows,
                                                   const Geometry& g, int ky0, int kx0) {
    for (int x = threadIdx.x; x < box::KX; x += BOX_NT) {
        int xx = kx0 + x;
        keyColumns[x] = resolved(g.cols, xx, p.W);
    }
    for (int r = threadIdx.x; r < box::KY; r += BOX_NT) {
        int row = resolved(g.rows, ky0 + r, p.H);
        keyRows[r] = row < 0 ? -1 : row * p.W;
    }
}

// Zeroes the row sums of every window row an item holds.
__device__ __forceinline__ void box_clear_sums(float (&accs)[BOX_RA][BOX_JG][BOX_RUN]) {
#pragma unroll
    for (int r = 0; r < BOX_RA; ++r)
#pragma unroll
        for (int jj = 0; jj < BOX_JG; ++jj)
#pragma unroll
            for (int o = 0; o < BOX_RUN; ++o) accs[r][jj][o] = 0.0f;
}

// The row sums of window column jj of the item's group (item: footprint row y, run `run`) from `a`
// into shared memory (none past the last column).
__device__ __forceinline__ void box_store_sums(float* rowSums, const float (&a)[BOX_JG][BOX_RUN], int jj, int group, int y,
                                               int run) {
    int j = group * BOX_JG + jj;
    if (j >= BOX_WS) return;
#pragma unroll
    for (int o = 0; o < BOX_RUN; ++o) rowSums[(j * BOX_PY + y) * box::TQP + run * BOX_RUN + o] = a[jj][o];
}

// Column `col` (-1: zeros) of rows r0, r0 + step, … below `count` of the chunk's channels from c0
// on in `frame` (a frame of the search's videos), row r at offset at[r] (-1: zeros), into dst (row
// stride `rowStride`, channel stride `planeStride`), asynchronously; each row's offset is read once
// for all the channels.
__device__ __forceinline__ void box_copy_column(const DNLSSearchForwardBox& p, const float* frame, int col, const int* at,
                                                int r0, int count, int step, float* dst, int rowStride, int planeStride,
                                                int c0) {
    const float* column[BOX_CC];
    bool live[BOX_CC];
#pragma unroll
    for (int c = 0; c < BOX_CC; ++c) {
        live[c] = c0 + c < p.channels && col >= 0;  // channels past the last read zero
        column[c] = frame + (i64)(live[c] ? c0 + c : 0) * p.H * p.W + max(col, 0);
    }
#pragma unroll 2
    for (int r = r0; r < count; r += step) {
        int row = at[r];
#pragma unroll
        for (int c = 0; c < BOX_CC; ++c)
            cp_async4_at(dst + c * planeStride + r * rowStride, column[c], max(row, 0), live[c] && row >= 0);
    }
}

// A thread's fixed share of the copies: key column kx from row kr0 on (key column kcol of the
// frame), query column qx from row qr0 on (qcol).
struct BoxCopier { int kx, kr0, qx, qr0, kcol, qcol; };

// The key rows of step (frame slot s, window rows from i0, chunk c0) and, when withQuery, the query
// footprint of the chunk, copied asynchronously into `stage`, then committed as one group.
__device__ __forceinline__ void box_load(const DNLSSearchForwardBox& p, const BoxCopier& cp, const Geometry& g,
                                         const int* keyRows, const int* queryRows, int b, int t, int s, int i0, int c0,
                                         float* stage, bool withQuery) {
    if (cp.kr0 < box::KROWS)
        box_copy_column(p, p.keys + ((i64)b * p.T + g.order[t * p.F + s]) * p.C * p.H * p.W, cp.kcol,
                        keyRows + i0 * BOX_WSTEP, cp.kr0, box::TR, box::KROWS, stage + cp.kx, box::KXP, box::TR * box::KXP, c0);
    if (withQuery && cp.qr0 < box::QROWS)
        box_copy_column(p, p.video + ((i64)b * p.T + t) * p.C * p.H * p.W, cp.qcol, queryRows,
                        cp.qr0, BOX_PY, box::QROWS, stage + box::KEYS + cp.qx, box::QXP, BOX_PY * box::QXP, c0);
    cp_async_commit();
}

// The owner's candidates of window row i (offset di) of frame slot s, from the row sums in shared
// memory: each column's distance is the sum of its patch rows, offered to the list in enumeration
// order (WHOLE: written at its slot). The block waits for the row sums first and for the owners after.
__device__ __forceinline__ void box_offer_row(const DNLSSearchForwardBox& p, const Geometry& g, const float* rowSums,
                                              const BoxOwner o, TopK& best, int s, int i, int di) {
    __syncthreads();
    if (o.mine && o.h + di >= 0 && o.h + di < p.H) {
#if WHOLE
        int n = g.order[o.t * p.F + s];
#endif
        // Unrolled only a little: 21 inlined offers crowd out the arithmetic's registers (spills).
#pragma unroll 3
        for (int j = o.jBegin; j < o.jEnd; ++j) {
            int cw = o.w + p.dmin + j * BOX_WSTEP;
            if (cw < 0 || cw >= p.W) continue;
            const float* col = rowSums + (j * BOX_PY + o.ty * BOX_STRIDE) * box::TQP + o.tx;
            float dist = 0.0f;
#pragma unroll
            for (int a = 0; a < BOX_PS; ++a) dist += col[a * BOX_DIL * box::TQP];
            int en = dnls_candidate_number(s, i, j, BOX_WS);
#if WHOLE
            store_slot(p.distances, p.indices, o.out + en, dist, n, o.h + di, cw);
#else
            best.offer(BOX_L2 ? dist : -dist, en);
#endif
        }
    }
    __syncthreads();
}

#if BOX_RA > 1
// Window rows in registers (several channel chunks, one channel per pass, window stride 1): adds
// the chunk's channels from c0 on into the row sums of all BOX_RA window rows of the group, so that
// a group's key rows and the query footprint are staged once per chunk for all of them. The key
// samples of the group's window columns slide along the run, one new sample per footprint column;
// each row sum takes its terms in the same order as in a single-row pass.
__device__ __forceinline__ void box_add_chunk_to_rows(const DNLSSearchForwardBox& p, float (&accs)[BOX_RA][BOX_JG][BOX_RUN],
                                                      const float* kStage, const float* qStage, int y, int xRun,
                                                      int group, int c0) {
    for (int cs = 0; cs < BOX_CC && c0 + cs < p.channels; ++cs) {
        const float* qb = qStage + (cs * BOX_PY + y) * box::QXP + xRun;
        const float* kb = kStage + (cs * box::TR + y) * box::KXP + xRun + group * BOX_JG;
        // Key samples of the group's window columns in each window row, slid along the run.
        float kv[BOX_RA][BOX_JG];
#pragma unroll
        for (int k = 0; k < BOX_SPAN; ++k) {
            float q = qb[k];
#pragma unroll
            for (int r = 0; r < BOX_RA; ++r) {
#pragma unroll
                for (int jj = 0; jj < BOX_JG; ++jj)
                    kv[r][jj] = k > 0 && jj + 1 < BOX_JG ? kv[r][jj + 1] : kb[r * box::KXP + k + jj];
#pragma unroll
                for (int jj = 0; jj < BOX_JG; ++jj) {
                    float u = BOX_L2 ? q - kv[r][jj] : q, v = BOX_L2 ? u : kv[r][jj];
#pragma unroll
                    for (int o = 0; o < BOX_RUN; ++o) {
                        // Footprint column k is tap e of query column o of the run, if any.
                        int e = k - o * BOX_STRIDE;
                        if (e >= 0 && e % BOX_DIL == 0 && e / BOX_DIL < BOX_PS)
                            accs[r][jj][o] = __fmaf_rn(u, v, accs[r][jj][o]);
                    }
                }
            }
        }
    }
}
#else
// One register pass over BOX_CI channels from cs on of window row i (row i − i0 of the stage),
// added into the row sums `acc` of the item (footprint row y, run `run` from column xRun, window
// columns of `group`); BOX_ONCE: every channel in this one pass, each column's sums stored as soon
// as they are formed. The query samples stay in registers (qv) while `loaded` names their channel.
__device__ __forceinline__ void box_row_pass(float (&acc)[BOX_JG][BOX_RUN], float (&qv)[BOX_CI][BOX_SPAN], int& loaded,
                                             const float* kStage, const float* qStage, float* rowSums, int cs, int c0,
                                             int i, int i0, int y, int xRun, int group, int run) {
    const int wstep = BOX_WSTEP;                       // offset between neighbouring window columns
    if (loaded != c0 + cs) {
#pragma unroll
        for (int c = 0; c < BOX_CI; ++c)
#pragma unroll
            for (int k = 0; k < BOX_SPAN; ++k) qv[c][k] = qStage[((cs + c) * BOX_PY + y) * box::QXP + xRun + k];
        loaded = c0 + cs;
    }
    const float* kb = kStage + (cs * box::TR + y + (i - i0) * wstep) * box::KXP + xRun + group * BOX_JG * wstep;
    float kv[BOX_CI][BOX_SPAN];
#pragma unroll
    for (int jj = 0; jj < BOX_JG; ++jj) {
        // Key samples for window column jj of the group: slide the previous ones.
#pragma unroll
        for (int c = 0; c < BOX_CI; ++c)
#pragma unroll
            for (int k = 0; k < BOX_SPAN; ++k)
                kv[c][k] = jj > 0 && k + wstep < BOX_SPAN ? kv[c][k + wstep] : kb[c * box::TR * box::KXP + jj * wstep + k];
#if BOX_CI == 1
        // Each term straight into the row sums of the patches that cover it.
        float u[BOX_SPAN];
#pragma unroll
        for (int k = 0; k < BOX_SPAN; ++k) u[k] = BOX_L2 ? qv[0][k] - kv[0][k] : qv[0][k];
#pragma unroll
        for (int o = 0; o < BOX_RUN; ++o) {
            float sum = BOX_ONCE ? 0.0f : acc[jj][o];
#pragma unroll
            for (int e = 0; e < BOX_PS; ++e) {
                int k = o * BOX_STRIDE + e * BOX_DIL;
                sum = __fmaf_rn(u[k], BOX_L2 ? u[k] : kv[0][k], sum);
            }
            acc[jj][o] = sum;
        }
#else
        // The pixel terms summed over the register channels, then into the row sums.
        float d[BOX_SPAN];
#pragma unroll
        for (int k = 0; k < BOX_SPAN; ++k) {
            float sum = 0.0f;
#pragma unroll
            for (int c = 0; c < BOX_CI; ++c) {
                if (BOX_L2) { float u = qv[c][k] - kv[c][k]; sum = __fmaf_rn(u, u, sum); }
                else sum = __fmaf_rn(qv[c][k], kv[c][k], sum);
            }
            d[k] = sum;
        }
#pragma unroll
        for (int o = 0; o < BOX_RUN; ++o) {
            float sum = 0.0f;
#pragma unroll
            for (int e = 0; e < BOX_PS; ++e) sum += d[o * BOX_STRIDE + e * BOX_DIL];
            acc[jj][o] = BOX_ONCE ? sum : acc[jj][o] + sum;
        }
#endif
#if BOX_ONCE
        // A single pass: store each window column's row sums as soon as they are formed.
        box_store_sums(rowSums, acc, jj, group, y, run);
#endif
    }
}
#endif

#if BOX_FLOW
// The search along flows. In a frame slot, each query's window is centred where its flow chain
// leads, so the displacement from a query to its candidates runs over its own window moved by the
// centre's displacement (dy, dx) = (ch − h, cw − w). The tile's queries share the terms of every
// displacement of the union of their windows: the block box-filters that union in chunks of
// BOX_WS × BOX_WS displacements (usually one), and each owner takes from the row sums only the
// displacements of its own window, numbered as in its window (the enumeration, hence the tie
// order, is each query's own). Rounded flows make every displacement an integer, so no sample is
// interpolated.

// A step of the flow search: frame slot s, chunk (cy, cx) of its union, union row i0, channel c0.
struct BoxStep { int s, cy, cx, i0, c0; };

// A chunk of a slot's union window: the displacement of its row and column 0, its rows and columns
// (at most BOX_WS), and the chunks the slot's union takes down and across.
struct BoxOrigin { int ay, ax, rows, cols, ny, nx; };

// The chunk of step st, from the slot's extents (least and greatest centre displacement down, then
// across, over the tile's queries) and the first window offset dmin.
__device__ __forceinline__ BoxOrigin box_flow_origin(const int* extents, const BoxStep& st, int dmin) {
    const int* e = extents + 4 * st.s;
    int allRows = e[1] - e[0] + BOX_QWS, allCols = e[3] - e[2] + BOX_QWS;
    BoxOrigin o;
    o.ay = e[0] + dmin + st.cy * BOX_WS; o.ax = e[2] + dmin + st.cx * BOX_WS;
    o.rows = min(BOX_WS, allRows - st.cy * BOX_WS); o.cols = min(BOX_WS, allCols - st.cx * BOX_WS);
    o.ny = (allRows + BOX_WS - 1) / BOX_WS; o.nx = (allCols + BOX_WS - 1) / BOX_WS;
    return o;
}

// Resolved columns and rows (times W) of the query footprint from (y0, x0) (-1: zero).
__device__ __forceinline__ void box_resolve_query_tables(const DNLSSearchForwardBox& p, int* queryColumns, int* queryRows,
                                                         const Geometry& g, int y0, int x0) {
    for (int x = threadIdx.x; x < BOX_PY; x += BOX_NT) {
        queryColumns[x] = resolved(g.cols, x0 + x, p.W);
        int row = resolved(g.rows, y0 + x, p.H);
        queryRows[x] = row < 0 ? -1 : row * p.W;
    }
}

// Moves the owner's window centre along its flow chain to frame slot s (s ≥ its slot), hop by
// hop as the general search does.
__device__ __forceinline__ void box_owner_to_slot(const DNLSSearchForwardBox& p, const Geometry& g, BoxOwner& o, int b, int s) {
    while (o.slot < s) {
        ++o.slot;
        chain_hop(g.order[o.t * p.F + o.slot], o.t, o.h, o.w, o.ch, o.cw, p.forwardFlow, p.backwardFlow, b, p.T, p.H, p.W);
    }
}

// Every frame slot's extents of the centre displacements over the tile's queries, into
// extents[4 s ..< 4 s + 4] (least, greatest down; least, greatest across): reduced over each warp,
// then across the block in shared memory. Every thread of the block calls it.
__device__ __forceinline__ void box_flow_extents(const DNLSSearchForwardBox& p, const Geometry& g, const BoxOwner& o, int b,
                                                 int* extents) {
    for (int i = threadIdx.x; i < 4 * p.F; i += BOX_NT) extents[i] = i % 2 == 0 ? 0x7fffffff : (int)0x80000000;
    __syncthreads();
    BoxOwner c = o;
    const bool walks = o.mine && o.part == 0;
    for (int s = 0; s < p.F; ++s) {
        if (walks) box_owner_to_slot(p, g, c, b, s);
        int dy = c.ch - c.h, dx = c.cw - c.w;
        int lowY = __reduce_min_sync(0xffffffffu, walks ? dy : 0x7fffffff);
        int highY = __reduce_max_sync(0xffffffffu, walks ? dy : (int)0x80000000);
        int lowX = __reduce_min_sync(0xffffffffu, walks ? dx : 0x7fffffff);
        int highX = __reduce_max_sync(0xffffffffu, walks ? dx : (int)0x80000000);
        if (threadIdx.x % 32 == 0 && lowY <= highY) {
            atomicMin(extents + 4 * s, lowY); atomicMax(extents + 4 * s + 1, highY);
            atomicMin(extents + 4 * s + 2, lowX); atomicMax(extents + 4 * s + 3, highX);
        }
    }
    __syncthreads();
}

// The owner's candidates in union row i of chunk `at` of frame slot s, from the row sums: those
// of its own window (row and columns numbered in it) whose position is in the frame, offered in
// enumeration order when `ordered` (else inserted in any order; WHOLE: written at their slots).
// The block waits for the row sums first and for the owners after.
__device__ __forceinline__ void box_offer_union_row(const DNLSSearchForwardBox& p, const Geometry& g, const float* rowSums,
                                                    const BoxOwner o, TopK& best, int s, int i, const BoxOrigin& at,
                                                    bool ordered) {
    __syncthreads();
    int dy = at.ay + i;
    int row = dy - (o.ch - o.h) - p.dmin;               // the owner's window row
    if (o.mine && row >= 0 && row < BOX_QWS && o.h + dy >= 0 && o.h + dy < p.H) {
#if WHOLE
        int n = g.order[o.t * p.F + s];
#endif
        int j0 = (o.cw - o.w) + p.dmin - at.ax;        // union column of the owner's window column 0
        int jBegin = max(max(o.jBegin, j0), 0), jEnd = min(min(o.jEnd, j0 + BOX_QWS), at.cols);
#pragma unroll 3
        for (int j = jBegin; j < jEnd; ++j) {
            int cw = o.w + at.ax + j;
            if (cw < 0 || cw >= p.W) continue;
            const float* col = rowSums + (j * BOX_PY + o.ty * BOX_STRIDE) * box::TQP + o.tx;
            float dist = 0.0f;
#pragma unroll
            for (int a = 0; a < BOX_PS; ++a) dist += col[a * BOX_DIL * box::TQP];
            int en = dnls_candidate_number(s, row, j - j0, BOX_QWS);
#if WHOLE
            store_slot(p.distances, p.indices, o.out + en, dist, n, o.h + dy, cw);
#else
            float key = BOX_L2 ? dist : -dist;
            if (ordered) best.offer(key, en); else best.insert(key, en);
#endif
        }
    }
    __syncthreads();
}
#endif

#if !WHOLE
// The second owner's list joins the first's (both sorted by `ahead`, a total order): the same list
// as one owner offering every column. Every thread of the block calls it.
__device__ __forceinline__ void box_join_owner_lists(TopK& best, float* smem, const BoxOwner& o) {
    __syncthreads();  // every reader of the shared memory is done
    float* keysOut = smem + (threadIdx.x % box::TQ2) * (2 * KMAX + 1);
    int* ensOut = (int*)keysOut + KMAX;
    if (o.mine && o.part == 1) {
        for (int r = 0; r < best.filled; ++r) { keysOut[r] = best.key[r]; ensOut[r] = best.en[r]; }
        ensOut[KMAX] = best.filled;
    }
    __syncthreads();
    if (o.mine && o.part == 0)
        for (int r = 0; r < ensOut[KMAX] && best.insert(keysOut[r], ensOut[r]); ++r) {}
}

// A list of part slot `at` (a segment of a tile that several blocks shared), for search_box_merge.
__device__ __forceinline__ void box_leave_part(const DNLSSearchForwardBox& p, const TopK& best, i64 at) {
    for (int r = 0; r < KMAX; ++r) {
        p.partKeys[at * KMAX + r] = r < best.filled ? best.key[r] : 0.0f;
        p.partEntries[at * (KMAX + 1) + r] = r < best.filled ? best.en[r] : -1;
    }
    p.partEntries[at * (KMAX + 1) + KMAX] = best.filled;
}

#if BOX_FLOW
// Writes the owner's kept candidates as its KMAX output slots, each enumeration number decoded
// into a position by replaying the query's flow chain to its slot; slots past `filled` are empty.
__device__ __forceinline__ void store_kept_flow(const DNLSSearchForwardBox& p, const TopK& best, const Geometry& g,
                                                const BoxOwner& o, int b) {
    const float empty = BOX_L2 ? __int_as_float(0x7f800000) : __int_as_float(0xff800000);
    for (int r = 0; r < KMAX; ++r) {
        if (r >= best.filled) { store_slot(p.distances, p.indices, o.out + r, empty, -1, -1, -1); continue; }
        DNLSCandidate at = dnls_candidate(best.en[r], BOX_QWS);
        BoxOwner c = o;
        c.slot = 0; c.ch = o.h; c.cw = o.w;
        box_owner_to_slot(p, g, c, b, at.slot);
        store_slot(p.distances, p.indices, o.out + r, BOX_L2 ? best.key[r] : -best.key[r], g.order[o.t * p.F + at.slot],
                   c.ch + g.window[at.row], c.cw + g.window[at.col]);
    }
}
#endif
#endif

extern "C" __global__ void __launch_bounds__(BOX_NT, BOX_MINB) search_forward_box(const DNLSSearchForwardBox p)
{
    if (p.skipIfSet && *p.skipIfSet) return;  // the flows move windows: the search along them runs instead
#if BOX_FLOW
    if (p.onlyIfSet && !*p.onlyIfSet) return;  // zero flows: the search without flow ran instead
#endif
    extern __shared__ float smem[];
    float* stages = smem;                                   // [BOX_NBUF][keys [BOX_CC][TR][KXP], query [BOX_CC][BOX_PY][QXP]]
    float* rowSums = stages + BOX_NBUF * box::STAGE;        // [BOX_WS][BOX_PY][TQP]
    int* keyColumns = (int*)(rowSums + BOX_WS * BOX_PY * box::TQP);  // [KX], -1: zero
    int* keyRows = keyColumns + box::KX;                             // [KY], -1: zero
    int tilesX = (p.grid.cols + BOX_TQ - 1) / BOX_TQ, tilesY = (p.grid.rows + BOX_TQ - 1) / BOX_TQ;
    // This block's units of work, unitsPerBlock from blockIdx.x · unitsPerBlock on; a unit is
    // (tile, frame slot, window-row group), tile-major. The units of one tile form a segment,
    // which the block runs as one tile search over those units. A segment that is not the whole
    // tile (several blocks share the tile, so that the launch is balanced over the
    // multiprocessors) leaves its list in part slot 0 (the block's first segment) or 1 (its last)
    // for search_box_merge.
    // With BOX_SPLIT = 0 every block runs one whole tile (unitsPerBlock is the units of a tile),
    // and the kernel has no segment loop. (The host keeps the count of units below 2^31.)
    const int unitsPerTile = p.F * BOX_GPF;
#if BOX_SPLIT
    const int u0 = (int)blockIdx.x * p.unitsPerBlock;
    const int uEnd = min(u0 + p.unitsPerBlock, tilesX * tilesY * p.grid.frames * p.B * unitsPerTile);
    for (int ua = u0; ua < uEnd;) {
        int bid = ua / unitsPerTile;
        const int first = ua - bid * unitsPerTile, last = min(uEnd - bid * unitsPerTile, unitsPerTile);
        ua = bid * unitsPerTile + last;
        __syncthreads();  // the previous segment's readers of the shared memory are done
#else
    do {
        const int bid = blockIdx.x, first = 0, last = unitsPerTile, u0 = bid * unitsPerTile;
#endif
        const BoxTile tile = box_tile(bid, tilesX, tilesY, p.grid.frames);
        const int dt = tile.dt, b = tile.b;
        int tid = threadIdx.x;
        BoxOwner own;
        own.ty = tid % box::TQ2 / BOX_TQ; own.tx = tid % BOX_TQ; own.part = tid / box::TQ2;
        own.jBegin = own.part * box::JSHARE; own.jEnd = min(own.jBegin + box::JSHARE, BOX_WS);
        int gi = tile.y * BOX_TQ + own.ty, gj = tile.x * BOX_TQ + own.tx;
        own.q = dnls_grid_number(dt, gi, gj, p.grid.rows, p.grid.cols) - p.grid.start;
        own.mine = own.part < box::OWN && gi < p.grid.rows && gj < p.grid.cols && own.q >= 0 && own.q < p.Q;
        if (!__syncthreads_or(own.mine)) continue;
        Geometry g = geometry(p.block, p.H, p.W, BOX_PS, BOX_QWS);
        own.t = p.grid.t0 + dt;
        own.h = p.grid.h0 + gi * BOX_STRIDE; own.w = p.grid.w0 + gj * BOX_STRIDE;
#if BOX_FLOW
        own.slot = 0; own.ch = own.h; own.cw = own.w;
#endif
        const int t = own.t;
        int hq0 = p.grid.h0 + tile.y * BOX_TQ * BOX_STRIDE, wq0 = p.grid.w0 + tile.x * BOX_TQ * BOX_STRIDE;
        int hq1 = p.grid.h0 + min(tile.y * BOX_TQ + BOX_TQ - 1, p.grid.rows - 1) * BOX_STRIDE;
#if BOX_FLOW
        int wq1 = p.grid.w0 + min(tile.x * BOX_TQ + BOX_TQ - 1, p.grid.cols - 1) * BOX_STRIDE;
#endif
        int y0 = hq0 + g.patch[0], x0 = wq0 + g.patch[0];  // footprint origin
        // This thread's work item (threads past BOX_ITEMS only own queries).
        bool worker = tid < BOX_ITEMS;
        int y = tid % BOX_PY, run = (tid / BOX_PY) % BOX_RUNS, group = tid / (BOX_PY * BOX_RUNS);
        int xRun = run * BOX_RUN * BOX_STRIDE;             // first footprint column of the run
#if BOX_FLOW
        // Query tables of their own (the key tables follow each chunk), then every frame slot's
        // extent of the window centres' displacements over the tile's queries.
        int* queryColumns = keyRows + box::KY;             // [BOX_PY], -1: zero
        int* queryRows = queryColumns + BOX_PY;            // [BOX_PY], -1: zero
        int* extents = queryRows + BOX_PY;                 // [F][4]
        box_resolve_query_tables(p, queryColumns, queryRows, g, y0, x0);
        box_flow_extents(p, g, own, b, extents);
#else
        box_resolve_tables(p, keyColumns, keyRows, g, y0 + p.dmin, x0 + p.dmin);
#endif
        own.out = ((i64)b * p.Q + (own.mine ? own.q : 0)) * p.slots;
        // First candidate (enumeration number) of unit u of the tile; unitStart(unitsPerTile) = slots.
        auto unitStart = [&](int u) { return dnls_candidate_number(u / BOX_GPF, u % BOX_GPF * BOX_RG, 0, BOX_WS); };
        TOPK(best);
#if WHOLE
        // Every slot of the segment's candidates starts empty; those in the image are then written.
        const float empty = BOX_L2 ? __int_as_float(0x7f800000) : __int_as_float(0xff800000);
#if BOX_FLOW
        if (own.mine && own.part == 0)
            for (int e = 0; e < p.F * BOX_QWS * BOX_QWS; ++e) store_slot(p.distances, p.indices, own.out + e, empty, -1, -1, -1);
#else
        if (own.mine && own.part == 0)
            for (int e = unitStart(first); e < unitStart(last); ++e) store_slot(p.distances, p.indices, own.out + e, empty, -1, -1, -1);
#endif
#endif
        // BOX_ONCE: one register pass holds every channel, so the query samples stay in registers for
        // the whole block and are staged only once.
        const bool queryOnce = BOX_ONCE;
        float qv[BOX_CI][BOX_SPAN];
        float accs[BOX_RA][BOX_JG][BOX_RUN];
        float (&acc)[BOX_JG][BOX_RUN] = accs[0];
        int loaded = -1;
#if BOX_FLOW
        // Steps (frame slot s, chunk (cy, cx) of the slot's union window, first union row i0 of a
        // group of BOX_RG, channel chunk c0), in order; groups in which no query of the tile has a
        // candidate in the frame are skipped.
        auto usable = [&](const BoxStep& st) {
            BoxOrigin o = box_flow_origin(extents, st, p.dmin);
            int i1 = min(st.i0 + BOX_RG, o.rows);
            return !(hq1 + o.ay + i1 - 1 < 0 || hq0 + o.ay + st.i0 >= p.H || wq1 + o.ax + o.cols - 1 < 0 || wq0 + o.ax >= p.W);
        };
        auto nextGroup = [&](BoxStep& st) {
            for (;;) {
                BoxOrigin o = box_flow_origin(extents, st, p.dmin);
                st.i0 += BOX_RG;
                if (st.i0 >= o.rows) {
                    st.i0 = 0;
                    if (++st.cx >= o.nx) { st.cx = 0; if (++st.cy >= o.ny) { st.cy = 0; if (++st.s >= p.F) return false; } }
                }
                if (usable(st)) return true;
            }
        };
        auto advance = [&](BoxStep& st) {
            st.c0 += BOX_CC;
            if (st.c0 < p.channels) return true;
            st.c0 = 0;
            return nextGroup(st);
        };
        BoxCopier copier;
        copier.kx = tid % box::KX; copier.kr0 = tid / box::KX; copier.qx = tid % BOX_PY; copier.qr0 = tid / BOX_PY;
        copier.kcol = -1; copier.qcol = -1;
        // The key tables of a step's chunk, and each copier's column of them. Called by the whole
        // block while no copy reads the tables.
        auto chunkTables = [&](const BoxStep& st) {
            BoxOrigin o = box_flow_origin(extents, st, p.dmin);
            box_resolve_tables(p, keyColumns, keyRows, g, y0 + o.ay, x0 + o.ax);
            __syncthreads();
            if (copier.kr0 < box::KROWS) copier.kcol = keyColumns[copier.kx];
        };
        auto sameChunk = [](const BoxStep& a, const BoxStep& c) { return a.s == c.s && a.cy == c.cy && a.cx == c.cx; };
        int buf = 0;
        BoxStep st{0, 0, 0, 0, 0};
        bool have = usable(st) || nextGroup(st);
        if (copier.qr0 < box::QROWS) copier.qcol = queryColumns[copier.qx];
        if (have) {
            chunkTables(st);
            box_load(p, copier, g, keyRows, queryRows, b, t, st.s, st.i0, st.c0, stages, true);
        }
        while (have) {
            BoxStep next = st;
            bool more = advance(next);
            cp_async_wait_all();
            __syncthreads();  // this step's rows have landed; the previous step's readers are done
            if (own.mine) box_owner_to_slot(p, g, own, b, st.s);
#if BOX_NBUF == 2
            if (more) {
                if (!sameChunk(st, next)) chunkTables(next);
                box_load(p, copier, g, keyRows, queryRows, b, t, next.s, next.i0, next.c0, stages + (buf ^ 1) * box::STAGE, !queryOnce);
            }
#endif
            const BoxOrigin o = box_flow_origin(extents, st, p.dmin);
            // One chunk across: the owners meet their candidates in enumeration order.
            const bool ordered = o.nx == 1;
            // Items whose window columns lie past the chunk's (a narrow last chunk across) have no sums
            // to form; but with BOX_ONCE every item takes its query samples into registers in the first
            // step, whose stage alone holds them.
            const bool computes = worker && (group * BOX_JG < o.cols || (BOX_ONCE && loaded < 0));
            const int i0 = st.i0, c0 = st.c0;
            const float* kStage = stages + buf * box::STAGE;
            const float* qStage = kStage + box::KEYS;
            int i1 = min(i0 + BOX_RG, o.rows);
#if BOX_RA > 1
            if (computes) {
                if (c0 == 0) box_clear_sums(accs);
                box_add_chunk_to_rows(p, accs, kStage, qStage, y, xRun, group, c0);
            }
            if (c0 + BOX_CC >= p.channels) {
#pragma unroll
                for (int r = 0; r < BOX_RA; ++r) {
                    int i = i0 + r;
                    if (i >= i1) break;
                    int di = o.ay + i;
                    if (hq1 + di < 0 || hq0 + di >= p.H) continue;
                    if (computes) {
#pragma unroll
                        for (int jj = 0; jj < BOX_JG; ++jj) box_store_sums(rowSums, accs[r], jj, group, y, run);
                    }
                    box_offer_union_row(p, g, rowSums, own, best, st.s, i, o, ordered);
                }
            }
#else
            for (int i = i0; i < i1; ++i) {
                int di = o.ay + i;
                if (hq1 + di < 0 || hq0 + di >= p.H) continue;
                if (computes) {
                    if (!BOX_ONCE && c0 == 0) box_clear_sums(accs);
#if BOX_ONCE
                    box_row_pass(acc, qv, loaded, kStage, qStage, rowSums, 0, c0, i, i0, y, xRun, group, run);
#else
                    for (int cs = 0; cs < BOX_CC && c0 + cs < p.channels; cs += BOX_CI)
                        box_row_pass(acc, qv, loaded, kStage, qStage, rowSums, cs, c0, i, i0, y, xRun, group, run);
                    if (c0 + BOX_CC >= p.channels) {
#pragma unroll
                        for (int jj = 0; jj < BOX_JG; ++jj) box_store_sums(rowSums, acc, jj, group, y, run);
                    }
#endif
                }
                if (c0 + BOX_CC < p.channels) continue;  // more chunks to add
                box_offer_union_row(p, g, rowSums, own, best, st.s, i, o, ordered);
            }
#endif
#if BOX_NBUF == 1
            __syncthreads();  // every reader is done with the single stage
            if (more) {
                if (!sameChunk(st, next)) chunkTables(next);
                box_load(p, copier, g, keyRows, queryRows, b, t, next.s, next.i0, next.c0, stages, !queryOnce);
            }
#else
            buf ^= 1;
#endif
            st = next; have = more;
        }
#if !WHOLE
        if (box::OWN == 2) box_join_owner_lists(best, smem, own);
        if (own.mine && own.part == 0) store_kept_flow(p, best, g, own, b);
#endif
#else
        // Steps (frame slot s, first window row i0 of a group of BOX_RG, channel chunk c0), in order,
        // over the segment's units; groups in which no query of the tile has a candidate row in the
        // frame are skipped.
        auto usable = [&](int i0) {
            int i1 = min(i0 + BOX_RG, BOX_WS);
            return !(hq1 + g.window[i1 - 1] < 0 || hq0 + g.window[i0] >= p.H);
        };
        auto nextGroup = [&](int& s, int& i0) {
            for (;;) {
                i0 += BOX_RG;
                if (i0 >= BOX_WS) { i0 = 0; if (++s >= p.F) return false; }
#if BOX_SPLIT
                if (s * BOX_GPF + i0 / BOX_RG >= last) return false;  // the segment's last unit is done
#endif
                if (usable(i0)) return true;
            }
        };
        auto advance = [&](int& s, int& i0, int& c0) {
            c0 += BOX_CC;
            if (c0 < p.channels) return true;
            c0 = 0;
            return nextGroup(s, i0);
        };
        BoxCopier copier;
        copier.kx = tid % box::KX; copier.kr0 = tid / box::KX; copier.qx = tid % BOX_PY; copier.qr0 = tid / BOX_PY;
        copier.kcol = -1; copier.qcol = -1;
        __syncthreads();  // the column and row tables are written
        int s = first / BOX_GPF, i0 = first % BOX_GPF * BOX_RG, c0 = 0, buf = 0;
        bool have = usable(i0) || nextGroup(s, i0);
        if (copier.kr0 < box::KROWS) copier.kcol = keyColumns[copier.kx];
        if (copier.qr0 < box::QROWS) copier.qcol = keyColumns[copier.qx - p.dmin];
        if (have) box_load(p, copier, g, keyRows, keyRows - p.dmin, b, t, s, i0, c0, stages, true);
        while (have) {
            int ns = s, ni0 = i0, nc0 = c0;
            bool more = advance(ns, ni0, nc0);
            cp_async_wait_all();
            __syncthreads();  // this step's rows have landed; the previous step's readers are done
#if BOX_NBUF == 2
            if (more) box_load(p, copier, g, keyRows, keyRows - p.dmin, b, t, ns, ni0, nc0, stages + (buf ^ 1) * box::STAGE, !queryOnce);
#endif
            const float* kStage = stages + buf * box::STAGE;
            const float* qStage = kStage + box::KEYS;
            int i1 = min(i0 + BOX_RG, BOX_WS);
#if BOX_RA > 1
            if (worker) {
                if (c0 == 0) box_clear_sums(accs);
                box_add_chunk_to_rows(p, accs, kStage, qStage, y, xRun, group, c0);
            }
            if (c0 + BOX_CC >= p.channels) {  // the last chunk: each window row's sums are stored and offered in turn
#pragma unroll
                for (int r = 0; r < BOX_RA; ++r) {
                    int i = i0 + r;
                    if (i >= i1) break;
                    int di = g.window[i];
                    if (hq1 + di < 0 || hq0 + di >= p.H) continue;
                    if (worker) {
#pragma unroll
                        for (int jj = 0; jj < BOX_JG; ++jj) box_store_sums(rowSums, accs[r], jj, group, y, run);
                    }
                    box_offer_row(p, g, rowSums, own, best, s, i, di);
                }
            }
#else
            for (int i = i0; i < i1; ++i) {
                int di = g.window[i];
                if (hq1 + di < 0 || hq0 + di >= p.H) continue;
                if (worker) {
                    if (!BOX_ONCE && c0 == 0) box_clear_sums(accs);
#if BOX_ONCE
                    box_row_pass(acc, qv, loaded, kStage, qStage, rowSums, 0, c0, i, i0, y, xRun, group, run);
#else
                    for (int cs = 0; cs < BOX_CC && c0 + cs < p.channels; cs += BOX_CI)
                        box_row_pass(acc, qv, loaded, kStage, qStage, rowSums, cs, c0, i, i0, y, xRun, group, run);
                    if (c0 + BOX_CC >= p.channels) {
#pragma unroll
                        for (int jj = 0; jj < BOX_JG; ++jj) box_store_sums(rowSums, acc, jj, group, y, run);
                    }
#endif
                }
                if (c0 + BOX_CC < p.channels) continue;  // more chunks to add
                box_offer_row(p, g, rowSums, own, best, s, i, di);
            }
#endif
#if BOX_NBUF == 1
            __syncthreads();  // every reader is done with the single stage
            if (more) box_load(p, copier, g, keyRows, keyRows - p.dmin, b, t, ns, ni0, nc0, stages, !queryOnce);
#else
            buf ^= 1;
#endif
            s = ns; i0 = ni0; c0 = nc0; have = more;
        }
#if !WHOLE
        if (box::OWN == 2) box_join_owner_lists(best, smem, own);
        if (own.mine && own.part == 0) {
            if (first == 0 && last == unitsPerTile) {
                store_kept(p.distances, p.indices, own.out, best, BOX_L2, g, t, own.h, own.w, p.F, BOX_WS);
            } else {
                // Part slot 0 if this segment is the block's first, else 1.
                box_leave_part(p, best, ((i64)blockIdx.x * 2 + (bid * unitsPerTile + first == u0 ? 0 : 1)) * box::TQ2 + tid);
            }
        }
#endif
#endif  // BOX_FLOW
#if BOX_SPLIT
    }  // segments
#else
    } while (false);
#endif
}

#if !WHOLE
// The queries of tiles that several blocks shared (see search_forward_box): their part lists,
// joined in `ahead` order, which gives the list of one block searching the whole tile. One thread
// per query of every tile; tiles that one block ran whole are skipped.
extern "C" __global__ void search_box_merge(const DNLSSearchBoxMerge p)
{
    if (p.skipIfSet && *p.skipIfSet) return;
    const int TQ2 = BOX_TQ * BOX_TQ;
    int tilesX = (p.grid.cols + BOX_TQ - 1) / BOX_TQ, tilesY = (p.grid.rows + BOX_TQ - 1) / BOX_TQ;
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    i64 bid = idx / TQ2;
    if (bid >= (i64)tilesX * tilesY * p.grid.frames * p.B) return;
    const i64 unitsPerTile = p.F * BOX_GPF;
    i64 firstBlock = bid * unitsPerTile / p.unitsPerBlock, lastBlock = ((bid + 1) * unitsPerTile - 1) / p.unitsPerBlock;
    if (firstBlock == lastBlock) return;  // stored whole
    int k = (int)(idx % TQ2), ty = k / BOX_TQ, tx = k % BOX_TQ;
    int tileX = (int)(bid % tilesX), tileY = (int)((bid / tilesX) % tilesY);
    int dt = (int)((bid / ((i64)tilesX * tilesY)) % p.grid.frames), b = (int)(bid / ((i64)tilesX * tilesY * p.grid.frames));
    int gi = tileY * BOX_TQ + ty, gj = tileX * BOX_TQ + tx;
    i64 q = dnls_grid_number(dt, gi, gj, p.grid.rows, p.grid.cols) - p.grid.start;
    if (gi >= p.grid.rows || gj >= p.grid.cols || q < 0 || q >= p.Q) return;
    TOPK(best);
    for (i64 blk = firstBlock; blk <= lastBlock; ++blk) {
        // The tile is the block's first segment if the block starts inside it, else its last.
        i64 at = (blk * 2 + (blk * p.unitsPerBlock >= bid * unitsPerTile ? 0 : 1)) * TQ2 + k;
        int n = p.partEntries[at * (KMAX + 1) + KMAX];
        for (int r = 0; r < n && best.insert(p.partKeys[at * KMAX + r], p.partEntries[at * (KMAX + 1) + r]); ++r) {}
    }
    Geometry g = geometry(p.block, p.H, p.W, BOX_PS, BOX_WS);
    store_kept(p.distances, p.indices, ((i64)b * p.Q + q) * p.slots, best, BOX_L2, g, p.grid.t0 + dt,
               p.grid.h0 + gi * BOX_STRIDE, p.grid.w0 + gj * BOX_STRIDE, p.F, BOX_WS);
}
#endif
#endif

"""#
}
