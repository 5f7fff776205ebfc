extension CUDAKernelSource {
    /// Scatter-adds as folds of aggregated patches: anchor enumeration, slot walking and the
    /// device-built anchor table.
    static let anchors = #"""
// Channels one fold thread sums in registers: the anchor walk is shared by a group of channels
// (C = 3 takes one group) without spilling at C = 64.
#define CGROUP 4

// The sites anchored in one tile of pixels, as CSR built on the device by the anchor_* kernels:
// members[starts[p - pixel0] .. starts[p - pixel0 + 1]) are the sites at flat pixel p (b, t, h, w),
// as flat site numbers (b·S + s) minus `first`, ascending. starts == null: no table.
typedef DNLSAnchors Anchors;

// The anchor (b, t, h, w) of aggregation slot n, walked one slot at a time: with a table, pixel
// pixel0 + slot0 + n of its tile; without, query n % count of the grid (grid.start applied),
// batch item n / count.
struct SlotWalk {
    int b, t, h, w; i64 q;
    __device__ void start(const Anchors& an, const Grid& grid, i64 slot0, i64 n, i64 count, int T, int H, int W) {
        if (an.starts) {
            i64 p = an.pixel0 + slot0 + n, plane = p / ((i64)H * W), r = p - plane * H * W;
            b = (int)(plane / T); t = (int)(plane % T); h = (int)(r / W); w = (int)(r % W);
        } else {
            b = (int)(n / count); q = n % count;
            int gp[3]; grid_position(grid, q, gp); t = gp[0]; h = gp[1]; w = gp[2];
        }
    }
    __device__ void next(const Anchors& an, const Grid& grid, i64 count, int T, int H, int W) {
        if (an.starts) {
            if (++w < W) return;
            w = 0; if (++h < H) return;
            h = 0; if (++t < T) return;
            t = 0; ++b;
        } else if (++q == count) {
            q = 0; ++b;
            int gp[3]; grid_position(grid, 0, gp); t = gp[0]; h = gp[1]; w = gp[2];
        } else if (w < grid.w0 + grid.stride * (grid.cols - 1)) {
            w += grid.stride;
        } else {
            w = grid.w0;
            if (h < grid.h0 + grid.stride * (grid.rows - 1)) h += grid.stride; else { h = grid.h0; ++t; }
        }
    }
};

// The coordinates among `pre` (a pixel v, then its two reflections) that `table` resolves to v,
// as a bit mask; a coordinate equal to an earlier one of the three is counted once.
__device__ __forceinline__ unsigned preimages(const int* table, const int (&pre)[3], int v, int n) {
    unsigned mask = 0;
#pragma unroll
    for (int i = 0; i < 3; ++i) {
        int p = pre[i];
        if (resolved(table, p, n) != v) continue;
        if ((i >= 1 && p == pre[0]) || (i == 2 && p == pre[1])) continue;
        mask |= 1u << i;
    }
    return mask;
}

// Calls visit(a, e, h, w) for every entry (a, e) of every patch anchored at (h, w) that reads pixel
// (y, x), in an order fixed per pixel (row preimage, column preimage, entry row, entry column),
// leaving out the anchor rows h for which rowUsed(h) is false (a strided grid's empty rows).
// reach is the largest |patch offset|: a pixel further than that from a border is read only as
// itself, so the preimage tables are looked up only near the borders, once per pixel. Interior and
// border pixels run the same loops (a border pixel runs them for each of its preimages), so the
// lanes of a warp stay together. Entry columns start at x mod ps, so that neighbouring threads read
// neighbouring entries of the same patch (coalesced loads).
template <class R, class F>
__device__ __forceinline__ void each_anchor(const Geometry& g, int y, int x, int H, int W, int ps, int reach,
                                            R rowUsed, F visit) {
    int rowPre[3] = { y, -y, 2 * (H - 1) - y }, colPre[3] = { x, -x, 2 * (W - 1) - x };
    unsigned rows = y > reach && y < H - 1 - reach ? 1u : preimages(g.rows, rowPre, y, H);
    unsigned cols = x > reach && x < W - 1 - reach ? 1u : preimages(g.cols, colPre, x, W);
    int skew = x % ps;
#pragma unroll 1
    for (unsigned rm = rows; rm; rm &= rm - 1) {
        int i = __ffs(rm) - 1, py = i == 0 ? rowPre[0] : i == 1 ? rowPre[1] : rowPre[2];
#pragma unroll 1
        for (unsigned cm = cols; cm; cm &= cm - 1) {
            int j = __ffs(cm) - 1, px = j == 0 ? colPre[0] : j == 1 ? colPre[1] : colPre[2];
            for (int a = 0; a < ps; ++a) {
                int h = py - g.patch[a];
                if (h < 0 || h >= H || !rowUsed(h)) continue;
                for (int k = 0, e = skew; k < ps; ++k, e = e + 1 == ps ? 0 : e + 1) {
                    int w = px - g.patch[e];
                    if (w >= 0 && w < W) visit(a, e, h, w);
                }
            }
        }
    }
}

// One thread of a per-pixel fold: destination rows firstRow ..< firstRow + rows of each of
// `batches` blocks of rowsPerBatch flat rows (b, t, y), all columns, one group of CGROUP channels
// (groups outermost, columns innermost: coalesced).
struct PixelTask { int b, t, y, x, c0; i64 plane; };

__device__ __forceinline__ bool pixel_task(i64 firstRow, i64 rows, int batches, i64 rowsPerBatch, int groups,
                                           int T, int H, int W, PixelTask& k) {
    i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * W * batches * groups) return false;
    k.x = (int)(i % W);
    i64 r = i / W, rest = r / rows;
    i64 row = (rest % batches) * rowsPerBatch + firstRow + r % rows;
    k.c0 = CGROUP * (int)(rest / batches);
    k.plane = row / H; k.y = (int)(row - k.plane * H);
    k.t = (int)(k.plane % T); k.b = (int)(k.plane / T);
    return true;
}

// One thread of an aggregation: entry j = (c, a, e) of channel slice [c0, c0 + cs), for the
// slots n0 ..< n1 of its block. Consecutive threads take consecutive entries: coalesced.
struct EntryTask { int j, c, a, e, per; i64 n0, n1; };

__device__ __forceinline__ bool entry_task(int c0, int cs, int ps, i64 slots, int slotsPerBlock, EntryTask& k) {
    int pp = ps * ps, chunks;
    k.per = cs * pp; chunks = (k.per + blockDim.x - 1) / blockDim.x;
    k.j = (int)(blockIdx.x % chunks) * blockDim.x + threadIdx.x;
    if (k.j >= k.per) return false;
    k.n0 = (i64)(blockIdx.x / chunks) * slotsPerBlock;
    k.n1 = k.n0 + slotsPerBlock < slots ? k.n0 + slotsPerBlock : slots;
    int cc = k.j / pp;
    k.c = c0 + cc; k.a = (k.j - cc * pp) / ps; k.e = k.j - cc * pp - k.a * ps;
    return k.n0 < k.n1;
}

// Fold: out[b, t, c0 + c, y, x] += Σ P[slot, c, a, e] over each_anchor's entries and anchors, P
// (slots, cs, ps, ps): slot = b·count + the grid query at the anchor (grid.on), or the anchor's
// flat pixel − pixel0 when in [0, count) (dense). One thread per pixel and group of CGROUP channels.
// FOLD_PS is the patch size, at compile time, so that the anchor loops unroll (the kernel exists
// only in modules compiled with it). FOLD_STRIDE, when not 0, is the stride of the grid of every
// launch of the module (grid.on), at compile time too.
#ifdef FOLD_PS
#ifndef FOLD_STRIDE
#define FOLD_STRIDE 0
#endif
// ON_GRID is grid.on at compile time: the anchor loop of each kind has no branch on it. The fields
// are read into locals first, before the loops, as separate kernel parameters would be (read
// inside the loops, the compiler was seen to reload them there and to unroll the loops less).
template <bool ON_GRID> __device__ __forceinline__ void fold_pixel(const DNLSFoldSlots& p)
{
    const float* P = p.P;
#if FOLD_STRIDE
    // The grid's stride at compile time: the per-entry tests of grid_query divide by a constant.
    Grid grid = grid_value(p.grid);
    grid.stride = FOLD_STRIDE;
#else
    const Grid grid = grid_value(p.grid);
#endif
    const i64 pixel0 = p.pixel0, count = p.count;
    const int* block = p.block;
    const int T = p.T, C = p.C, H = p.H, W = p.W, reach = p.reach, c0 = p.c0, cs = p.cs;
    const i64 firstRow = p.firstRow, rows = p.rows;
    const int batches = p.batches;
    const i64 rowsPerBatch = p.rowsPerBatch;
    float* out = p.out;
    const int ps = FOLD_PS;
    PixelTask k;
    if (!pixel_task(firstRow, rows, batches, rowsPerBatch, (cs + CGROUP - 1) / CGROUP, T, H, W, k)) return;
    Geometry g = geometry(block, H, W, ps, 0);
    int cn = min(CGROUP, cs - k.c0), pp = ps * ps;
    float acc[CGROUP];
#pragma unroll
    for (int c = 0; c < CGROUP; ++c) acc[c] = 0.0f;
    // On a strided grid most anchor rows hold no query: they are left out before their entries.
    auto rowUsed = [&](int h) {
        int dh = h - grid.h0;
        return !ON_GRID || grid.stride == 1 || (dh >= 0 && dh % grid.stride == 0);
    };
    each_anchor(g, k.y, k.x, H, W, ps, reach, rowUsed, [&](int a, int e, int h, int w) {
        i64 slot;
        if (ON_GRID) {
            i64 q = grid_query(grid, k.t, h, w, count);
            if (q < 0) return;
            slot = k.b * count + q;
        } else {
            slot = (k.plane * H + h) * W + w - pixel0;
            if (slot < 0 || slot >= count) return;
        }
        const float* src = P + (slot * cs + k.c0) * pp + a * ps + e;
#pragma unroll
        for (int c = 0; c < CGROUP; ++c) if (c < cn) acc[c] += src[c * pp];
    });
    i64 HW = (i64)H * W;
    float* dst = out + (k.plane * C + c0 + k.c0) * HW + (i64)k.y * W + k.x;
#pragma unroll
    for (int c = 0; c < CGROUP; ++c) if (c < cn) dst[c * HW] += acc[c];
}

extern "C" __global__ void fold_slots(const DNLSFoldSlots p)
{
    if (p.grid.on) fold_pixel<true>(p); else fold_pixel<false>(p);
}
#endif

// A site's position: a grid query's (32-bit arithmetic when it fits) or a table entry.
__device__ __forceinline__ void site_position(const Grid& grid, const int* table, i64 s, int* p) {
    if (!grid.on) { p[0] = table[3 * s]; p[1] = table[3 * s + 1]; p[2] = table[3 * s + 2]; return; }
    i64 n = grid.start + s;
    if (n >= 0x7fffffff) { grid_position(grid, s, p); return; }
    DNLSGridPoint32 at = grid_point(grid, (int)n);
    p[0] = at.t; p[1] = at.h; p[2] = at.w;
}

// Flat pixel of a site position in batch item b, or -1 for an empty site (or one outside the video).
__device__ __forceinline__ i64 site_pixel(const int* pos, i64 batchStride, i64 S, i64 f, int T, int H, int W) {
    int b = (int)(f / S);
    const int* p = pos + b * batchStride + 3 * (f - (i64)b * S);
    if (!site_inside(p, T, H, W)) return -1;
    return (((i64)b * T + p[0]) * H + p[1]) * W + p[2];
}

// Anchor table, step 1: ends[p] counts the sites first..last-1 anchored at tile pixel p (integer
// atomics: the counts do not depend on order).
extern "C" __global__ void anchor_count(const DNLSAnchorSites p)
{
    i64 f = p.first + (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (f >= p.last) return;
    i64 pixel = site_pixel(p.positions, p.batchStride, p.S, f, p.T, p.H, p.W);
    if (pixel >= p.pixel0 && pixel < p.pixel0 + p.pixels) atomicAdd(p.starts + (pixel - p.pixel0), 1);
}

// Zeroes data[0 ..< n] and, when given, *also (one launch for the counts and the big list).
extern "C" __global__ void anchor_clear(const DNLSAnchorClear p)
{
    i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < p.n) p.data[i] = 0;
    if (i == 0 && p.also) *p.also = 0;
}

// Inclusive scan of one value per thread over the block (blockDim a multiple of 32, all threads).
__device__ int block_scan(int v, int* warpSums) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    for (int o = 1; o < 32; o <<= 1) { int n = __shfl_up_sync(0xffffffffu, v, o); if (lane >= o) v += n; }
    if (lane == 31) warpSums[warp] = v;
    __syncthreads();
    if (warp == 0) {
        int s = lane < (int)(blockDim.x >> 5) ? warpSums[lane] : 0;
        for (int o = 1; o < 32; o <<= 1) { int n = __shfl_up_sync(0xffffffffu, s, o); if (lane >= o) s += n; }
        warpSums[lane] = s;
    }
    __syncthreads();
    if (warp > 0) v += warpSums[warp - 1];
    __syncthreads();
    return v;
}

// Step 2: in-place inclusive scan of n ints in three launches. Blocks of 256 threads scan 1024
// items each and write their totals ...
extern "C" __global__ void scan_blocks(const DNLSScan p)
{
    __shared__ int warpSums[32];
    i64 base = (i64)blockIdx.x * 1024 + threadIdx.x * 4;
    int v[4], sum = 0;
    for (int i = 0; i < 4; ++i) { v[i] = base + i < p.n ? p.data[base + i] : 0; sum += v[i]; }
    int inclusive = block_scan(sum, warpSums), run = inclusive - sum;
    for (int i = 0; i < 4; ++i) { run += v[i]; if (base + i < p.n) p.data[base + i] = run; }
    if (threadIdx.x == blockDim.x - 1) p.totals[blockIdx.x] = inclusive;
}

// ... one block turns the totals into exclusive offsets ...
extern "C" __global__ void scan_totals(const DNLSScanTotals p)
{
    __shared__ int warpSums[32];
    int per = (p.count + blockDim.x - 1) / blockDim.x, begin = threadIdx.x * per, sum = 0;
    for (int i = 0; i < per; ++i) if (begin + i < p.count) sum += p.totals[begin + i];
    int run = block_scan(sum, warpSums) - sum;
    for (int i = 0; i < per; ++i)
        if (begin + i < p.count) { int t = p.totals[begin + i]; p.totals[begin + i] = run; run += t; }
}

// ... and every item adds its block's offset.
extern "C" __global__ void scan_add(const DNLSScan p)
{
    i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < p.n) p.data[i] += p.totals[i / 1024];
}

// Between steps 2 and 3, when the pass is one of several: used[r] = 1 if row r of the tile (rows of
// `width` pixels, `pixels` in all) holds a site of the pass, else 0, from the inclusive ends after
// the scan; the host then sorts, aggregates and folds only the rows that hold sites.
extern "C" __global__ void anchor_rows(const DNLSAnchorRows p)
{
    i64 r = (i64)blockIdx.x * blockDim.x + threadIdx.x, first = r * p.width;
    if (first >= p.pixels) return;
    i64 last = min(first + p.width, p.pixels) - 1;
    p.used[r] = p.ends[last] > (first > 0 ? p.ends[first - 1] : 0) ? 1 : 0;
}

// Step 3: each site takes a slot below its pixel's end; afterwards starts[p] is pixel p's start.
extern "C" __global__ void anchor_fill(const DNLSAnchorSites p)
{
    i64 f = p.first + (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (f >= p.last) return;
    i64 pixel = site_pixel(p.positions, p.batchStride, p.S, f, p.T, p.H, p.W);
    if (pixel >= p.pixel0 && pixel < p.pixel0 + p.pixels) p.members[atomicSub(p.starts + (pixel - p.pixel0), 1) - 1] = (int)(f - p.first);
}

__device__ void sift_down(int* m, int root, int len) {
    for (;;) {
        int child = 2 * root + 1;
        if (child >= len) return;
        if (child + 1 < len && m[child + 1] > m[child]) ++child;
        if (m[root] >= m[child]) return;
        int t = m[root]; m[root] = m[child]; m[child] = t;
        root = child;
    }
}

// Step 4: the slots were taken in racing order, so each pixel of p0 ..< p1 (the tile's pixels
// that hold sites) sorts its members: one warp per pixel, a bitonic sort in registers for up to
// 32; pixels with more go to the list big[1 ..< 1 + big[0]] for anchor_sort_big.
extern "C" __global__ void anchor_sort(const DNLSAnchorSort p)
{
    i64 pixel = p.p0 + (((i64)blockIdx.x * blockDim.x + threadIdx.x) >> 5);
    int lane = threadIdx.x & 31;
    if (pixel >= p.p1) return;  // whole warps
    int first = p.starts[pixel], len = p.starts[pixel + 1] - first;
    if (len <= 1) return;
    if (len > 32) { if (lane == 0) p.big[1 + atomicAdd(p.big, 1)] = (int)pixel; return; }
    int v = lane < len ? p.members[first + lane] : 0x7fffffff;
    for (int size = 2; size <= 32; size <<= 1)
        for (int stride = size >> 1; stride > 0; stride >>= 1) {
            int other = __shfl_xor_sync(0xffffffffu, v, stride);
            bool lower = (lane & stride) == 0, up = (lane & size) == 0;
            v = (lower == up) ? min(v, other) : max(v, other);
        }
    if (lane < len) p.members[first + lane] = v;
}

// Step 5: one block per listed pixel sorts its members in shared memory (bitonic; heapsort by one
// thread beyond SORT_SHARED members). The list's order does not matter: each pixel sorts alone.
#define SORT_SHARED 4096
extern "C" __global__ void anchor_sort_big(const DNLSAnchorSortBig p)
{
    __shared__ int keys[SORT_SHARED];
    int count = p.big[0];
    for (int i = blockIdx.x; i < count; i += gridDim.x) {
        int pixel = p.big[1 + i];
        int* m = p.members + p.starts[pixel];
        int len = p.starts[pixel + 1] - p.starts[pixel];
        if (len > SORT_SHARED) {
            if (threadIdx.x == 0) {
                for (int r = len / 2 - 1; r >= 0; --r) sift_down(m, r, len);
                for (int end = len - 1; end > 0; --end) { int t = m[0]; m[0] = m[end]; m[end] = t; sift_down(m, 0, end); }
            }
            __syncthreads();
            continue;
        }
        int n = 1;
        while (n < len) n <<= 1;
        for (int k = threadIdx.x; k < n; k += blockDim.x) keys[k] = k < len ? m[k] : 0x7fffffff;
        __syncthreads();
        for (int size = 2; size <= n; size <<= 1)
            for (int stride = size >> 1; stride > 0; stride >>= 1) {
                for (int k = threadIdx.x; k < n; k += blockDim.x) {
                    int partner = k ^ stride;
                    if (partner > k) {
                        int x = keys[k], y = keys[partner];
                        if ((x > y) == ((k & size) == 0)) { keys[k] = y; keys[partner] = x; }
                    }
                }
                __syncthreads();
            }
        for (int k = threadIdx.x; k < len; k += blockDim.x) m[k] = keys[k];
        __syncthreads();
    }
}

"""#
}
