/// CUDA C++ of the CUDA backend, compiled at run time by NVRTC for the live GPU.
///
/// Geometry is not re-implemented here: the host fills a table block from the Swift definitions
/// (``Border/resolve(_:length:)`` for every row and column a kernel can touch, ``PatchGeometry/offset(_:)``,
/// ``SearchWindow/offset(_:)`` and the frame visiting orders), and kernels only look values up.
/// Layout of the block (all `int`): rows `[3H]` (row `x ∈ [−H, 2H)` at `x + H`), columns `[3W]`,
/// patch offsets `[ps]`, window offsets `[ws]`, frame orders `[T · F]`. The rules computed rather
/// than looked up (grid numbering, the flow hop, the ranking, candidate numbers) come from
/// `dnls_rules.h`, which the CPU backends call too; each kernel takes one parameter struct from
/// `dnls_kernels.h`, which Swift fills.
///
/// Every output element is written by exactly one thread and every sum runs in a fixed order, so
/// results are bitwise reproducible; scatter-adds sum each anchor's sites (a device-built, sorted
/// table; integer atomics only for its counts) into a patch, then fold those patches per pixel.
enum CUDAKernelSource {
    /// All of the source: the kernels' parameter structs (`dnls_kernels.h`, as ``parameters``)
    /// and the shared helpers first, then the kernels of each family. The
    /// backend compiles one family at a time (``CUDAKernelModule``); `bench/kernel_report.py` reads
    /// this order.
    static var text: String {
        headers + common + search + anchors + searchBackward + patches + deposit + checks + failureRecord + tensorMath + denoise + flow
    }

    /// Geometry lookups, query grids, the register top-K and the flow chain, used by every family.
    static let common = #"""
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

// What a row or column table (Geometry rows, cols) gives for any coordinate x on an axis of n
// samples: coordinates beyond the table (x < −n or x ≥ 2n) read zero under either border rule, −1.
__device__ __forceinline__ int resolved(const int* table, int x, int n) { return x < -n || x >= 2 * n ? -1 : table[x]; }

// Whether (t, h, w) lies in a T × H × W video. Kernels read every position from a caller's table
// through this test: anything else (the missing marker (-1, -1, -1) included) is read as missing,
// so that a bad entry never makes a kernel read or write outside its buffers. GUARDED (deferred
// checking, where a kernel may run on a table whose check failed) tests all three coordinates;
// otherwise (eager checking) every table has passed its check before a kernel reads it, and only
// the marker (t = -1) needs telling apart.
__device__ __forceinline__ bool site_inside(int t, int h, int w, int T, int H, int W) {
#if GUARDED
    return (unsigned)t < (unsigned)T && (unsigned)h < (unsigned)H && (unsigned)w < (unsigned)W;
#else
    return t >= 0;
#endif
}
__device__ __forceinline__ bool site_inside(const int* p, int T, int H, int W) {
    return site_inside(p[0], p[1], p[2], T, H, W);
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
typedef DNLSGrid Grid;

// A grid read field by field into a local: its values are then loaded where the copy is made (as
// a separate kernel parameter's are), not again inside the loops that use them.
__device__ __forceinline__ Grid grid_value(const Grid& g) {
    Grid c;
    c.on = g.on; c.t0 = g.t0; c.h0 = g.h0; c.w0 = g.w0; c.stride = g.stride;
    c.frames = g.frames; c.rows = g.rows; c.cols = g.cols; c.start = g.start;
    return c;
}

// The position of grid query n (the grid's own numbering: grid.start not applied), in the
// arithmetic of n's width (dnls_rules.h): int when the caller knows every number fits.
__device__ __forceinline__ DNLSGridPoint32 grid_point(const Grid& g, int n) {
    return dnls_grid_position32(n, g.t0, g.h0, g.w0, g.stride, g.rows, g.cols);
}
__device__ __forceinline__ DNLSGridPoint grid_point(const Grid& g, i64 n) {
    return dnls_grid_position(n, g.t0, g.h0, g.w0, g.stride, g.rows, g.cols);
}

// The position of query q of the batch (grid.start applied) as (t, h, w).
__device__ __forceinline__ void grid_position(const Grid& g, i64 q, int* p) {
    DNLSGridPoint at = grid_point(g, g.start + q);
    p[0] = (int)at.t; p[1] = (int)at.h; p[2] = (int)at.w;
}

// The batch-relative query number anchored at (t, h, w), or -1 when no query of the batch is there.
__device__ __forceinline__ i64 grid_query(const Grid& g, int t, int h, int w, i64 count) {
    i64 n = dnls_grid_query32(t, h, w, g.t0, g.h0, g.w0, g.stride, g.frames, g.rows, g.cols);
    i64 q = n - g.start;
    return (n >= 0 && q >= 0 && q < count) ? q : -1;
}

// The ranking (dnls_rules.h): key, then candidate number; NaN last.
__device__ __forceinline__ bool ahead(float ka, int ea, float kb, int eb) { return dnls_ahead(ka, ea, kb, eb); }

// One output slot of a search: the score and the neighbour's (t, h, w).
__device__ __forceinline__ void store_slot(float* dists, int* inds, i64 o, float d, int t, int h, int w) {
    dists[o] = d; inds[3 * o] = t; inds[3 * o + 1] = h; inds[3 * o + 2] = w;
}

// The KMAX best candidates of one query, sorted by `ahead` (KMAX is a compile-time constant).
// Keys are distances (L2) or negated similarities, so smaller is better. The list lives in the
// caller's arrays (`TOPK(best)` declares both): an insertion indexes them at run time, which puts
// them in local memory, and keeping the count and the worst key outside them lets those two stay
// in registers, so that the usual rejection reads no memory.
struct TopK {
    float* key; int* en; int filled; float worst;

    __device__ __forceinline__ void offer(float k, int e) {
        // Candidates arrive in increasing enumeration order, so a full list keeps a key only if it
        // is strictly below the worst kept one (NaN ranks last): one register compare.
        if (filled == KMAX && (isnan(worst) ? !ahead(k, e, worst, en[KMAX - 1]) : !(k < worst))) return;
        place(k, e);
    }

    // The same for candidates in any order: keeps (k, e) if it is ahead of the last kept one
    // (ahead is a total order) and says whether it did.
    __device__ __forceinline__ bool insert(float k, int e) {
        if (filled == KMAX && !ahead(k, e, worst, en[KMAX - 1])) return false;
        place(k, e);
        return true;
    }

    __device__ __forceinline__ void place(float k, int e) {
        int slot = filled < KMAX ? filled++ : KMAX - 1;
        while (slot > 0 && ahead(k, e, key[slot - 1], en[slot - 1])) {
            key[slot] = key[slot - 1]; en[slot] = en[slot - 1]; --slot;
        }
        key[slot] = k; en[slot] = e;
        if (filled == KMAX) worst = key[KMAX - 1];
    }
};
#define TOPK(name) float name##Keys[KMAX]; int name##Ens[KMAX]; TopK name{name##Keys, name##Ens, 0, 0.0f}

// One flow hop (dnls_rules.h): clamp(floor(x + d + 0.5), 0, n - 1), in float as on the host.
__device__ __forceinline__ int hop(int x, float d, int n) { return (int)dnls_flow_hop((float)x, d, (float)(n - 1)); }

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

"""#
}
