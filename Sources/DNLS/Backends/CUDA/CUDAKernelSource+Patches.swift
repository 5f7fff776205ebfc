extension CUDAKernelSource {
    /// Patch reads: extraction (unfold, gather, scatter backward), weighted sums and their weight gradients.
    static let patches = #"""
// Patch entries at sites: out[f, j] with f = b·S + s (s = q·K + m) and j = (c, a, e) the entry,
// scaled by weights[f] when given. sites: (B or 1, S, 3) with t = -1 for an empty site
// (any position outside the video reads as empty);
// siteBatchStride = 3S or 0. Each block covers `sitesPerBlock` consecutive sites and blockDim
// entries: thread j decodes its entry once and walks the sites, so consecutive threads write
// consecutive floats and grid positions advance without divisions.
extern "C" __global__ void extract_patches(const DNLSExtractPatches p)
{
    const float* __restrict__ video = p.video;
    float* __restrict__ out = p.out;
    int pp = p.ps * p.ps, per = p.C * pp, chunks = (per + blockDim.x - 1) / blockDim.x;
    int j = (int)(blockIdx.x % chunks) * blockDim.x + threadIdx.x;
    if (j >= per) return;
    i64 f = (i64)(blockIdx.x / chunks) * p.sitesPerBlock, total = (i64)p.B * p.S;
    i64 end = f + p.sitesPerBlock < total ? f + p.sitesPerBlock : total;
    int c = j / pp, a = (j - c * pp) / p.ps, e = j - c * pp - a * p.ps;
    Geometry g = geometry(p.block, p.H, p.W, p.ps, 0);
    int da = g.patch[a], de = g.patch[e];
    i64 HW = (i64)p.H * p.W;
    int b = (int)(f / p.S);
    i64 s = f - (i64)b * p.S;
    int gp[3];
    if (p.grid.on) grid_position(p.grid, s, gp);
    int lastW = p.grid.w0 + p.grid.stride * (p.grid.cols - 1), lastH = p.grid.h0 + p.grid.stride * (p.grid.rows - 1);
#pragma unroll 4
    for (; f < end; ++f) {
        if (s == p.S) { s = 0; ++b; if (p.grid.on) grid_position(p.grid, 0, gp); }
        const int* position = p.grid.on ? gp : p.sites + b * p.siteBatchStride + 3 * s;
        float v = 0.0f;
        if (site_inside(position, p.T, p.H, p.W)) {
            int r = g.rows[position[1] + da], col = g.cols[position[2] + de];
            if (r >= 0 && col >= 0) v = video[(((i64)b * p.T + position[0]) * p.C + c) * HW + (i64)r * p.W + col];
        }
        out[f * per + j] = p.weights ? p.weights[f] * v : v;
        ++s;
        if (p.grid.on) {  // next grid position in raster order
            if (gp[2] < lastW) gp[2] += p.grid.stride;
            else { gp[2] = p.grid.w0; if (gp[1] < lastH) gp[1] += p.grid.stride; else { gp[1] = p.grid.h0; ++gp[0]; } }
        }
    }
}

#ifdef UNF_PS
// iunfold over a query grid (one patch per query, no weights): out[f, j], f = b·S + s the site and
// j = (c, a, e) the entry, with UNF_PS known at compile time so that decoding an entry takes no
// division instructions. Each thread writes 4 consecutive floats with one 16-byte store (the
// output is the bulk of the traffic); the reads are gathers that neighbouring threads share
// through the caches. Index arithmetic is in I: 32-bit when every output index fits (64-bit
// divisions would cost more than the memory traffic).
template <typename I>
__device__ __forceinline__ void unfold_grid_body(
    const float* __restrict__ video, const Grid& grid, const int* block, int B, int T, int C, int H, int W, I S,
    float* __restrict__ out)
{
    const int pp = UNF_PS * UNF_PS;
    int per = C * pp;
    I total = (I)B * S * per;
    I o = ((I)blockIdx.x * blockDim.x + threadIdx.x) * 4;
    if (o >= total) return;
    Geometry g = geometry(block, H, W, UNF_PS, 0);
    // Patch offsets are p0 + a·dil (PatchGeometry.offset); a patch wholly inside the frame reads
    // its pixels directly, one that crosses the border resolves them through the tables.
    const int p0 = g.patch[0], dil = UNF_PS > 1 ? g.patch[1] - p0 : 0, reach = (UNF_PS - 1) * dil;
    I f = o / per;
    int j = (int)(o - f * per);
    int b = (int)(f / S);
    I s = f - (I)b * S;
    // The site's grid position, then stepped in raster order.
    auto at = grid_point(grid, (I)grid.start + s);
    int pt = (int)at.t, ph = (int)at.h, pw = (int)at.w;
    int lastW = grid.w0 + grid.stride * (grid.cols - 1), lastH = grid.h0 + grid.stride * (grid.rows - 1);
    i64 HW = (i64)H * W;
    float v[4];
#pragma unroll
    for (int k = 0; k < 4; ++k) {
        v[k] = 0.0f;
        if (o + k < total) {
            int c = j / pp, rem = j - c * pp, a = rem / UNF_PS, e = rem - a * UNF_PS;
            int y = ph + p0 + a * dil, x = pw + p0 + e * dil;
            bool inside = ph + p0 >= 0 && ph + p0 + reach < H && pw + p0 >= 0 && pw + p0 + reach < W;
            int row = inside ? y : g.rows[y], col = inside ? x : g.cols[x];
            if (row >= 0 && col >= 0) v[k] = video[(((i64)b * T + pt) * C + c) * HW + (i64)row * W + col];
            if (++j == per) {  // next site
                j = 0;
                if (++s == S) {
                    s = 0; ++b;
                    at = grid_point(grid, (I)grid.start);
                    pt = (int)at.t; ph = (int)at.h; pw = (int)at.w;
                } else if (pw < lastW) {
                    pw += grid.stride;
                } else {
                    pw = grid.w0;
                    if (ph < lastH) ph += grid.stride; else { ph = grid.h0; ++pt; }
                }
            }
        }
    }
    if (o + 3 < total) {
        *reinterpret_cast<float4*>(out + o) = make_float4(v[0], v[1], v[2], v[3]);
    } else {
        for (int k = 0; o + k < total; ++k) out[o + k] = v[k];
    }
}

// iunfold over a query grid by runs: one block per run of up to UNF_RUN consecutive queries of one
// grid row (block = (batch item, row R0 + r of the batch's `rowCount` rows, run), run fastest). The run's
// samples (every channel, UNF_PS rows, the run's columns) are staged in shared memory with
// coalesced reads; the run's output, contiguous in `out`, is then written entry by entry, a warp's
// stores covering consecutive floats. Each output float is written by exactly one thread.
// UNF_RUN comes from the host (the kernel exists only in modules compiled with it).
#ifdef UNF_RUN
extern "C" __global__ void unfold_runs(const DNLSUnfoldRuns p)
{
    const float* __restrict__ video = p.video;
    float* __restrict__ out = p.out;
    extern __shared__ float stage[];                   // [C][UNF_PS][span]
    const int pp = UNF_PS * UNF_PS, per = p.C * pp;
    int runs = (p.grid.cols + UNF_RUN - 1) / UNF_RUN;
    i64 rest = blockIdx.x / runs;
    int b = (int)(rest / p.rowCount);
    i64 rowIndex = p.R0 + rest % p.rowCount;               // frame-major grid row
    int j0 = (int)(blockIdx.x % runs) * UNF_RUN, j1 = min(j0 + UNF_RUN, p.grid.cols);
    i64 n0 = rowIndex * p.grid.cols + j0, n1 = rowIndex * p.grid.cols + j1;  // grid query numbers
    if (n0 < p.grid.start) { j0 += (int)(p.grid.start - n0); n0 = p.grid.start; }
    if (n1 > p.grid.start + p.S) { j1 -= (int)(n1 - p.grid.start - p.S); n1 = p.grid.start + p.S; }
    if (n0 >= n1) return;
    Geometry g = geometry(p.block, p.H, p.W, UNF_PS, 0);
    const int p0 = g.patch[0], dil = UNF_PS > 1 ? g.patch[1] - p0 : 0;
    int t = p.grid.t0 + (int)(rowIndex / p.grid.rows), h = p.grid.h0 + p.grid.stride * (int)(rowIndex % p.grid.rows);
    int x0 = p.grid.w0 + p.grid.stride * j0 + p0;          // first sample column of the run
    const float* frame = video + ((i64)b * p.T + t) * p.C * (i64)p.H * p.W;
    int count = p.C * UNF_PS * p.span;
    for (int k = threadIdx.x; k < count; k += blockDim.x) {
        int ca = k / p.span, x = k - ca * p.span, c = ca / UNF_PS, a = ca - c * UNF_PS;
        int y = h + p0 + a * dil, xx = x0 + x;
        int row = y >= 0 && y < p.H ? y : resolved(g.rows, y, p.H);
        int col = xx >= 0 && xx < p.W ? xx : resolved(g.cols, xx, p.W);
        stage[k] = row >= 0 && col >= 0 ? frame[(i64)c * p.H * p.W + (i64)row * p.W + col] : 0.0f;
    }
    __syncthreads();
    // Output floats of this run, contiguous in `out` from `first`: thread j writes entry j (and
    // j + blockDim, …) of every query of the run, so that a warp stores consecutive floats, reads
    // consecutive stage words and decodes its entry once.
    i64 first = ((i64)b * p.S + (n0 - p.grid.start)) * per;
    int queries = (int)(n1 - n0);
    for (int j = threadIdx.x; j < per; j += blockDim.x) {
        int c = j / pp, rem = j - c * pp, a = rem / UNF_PS, e = rem - a * UNF_PS;
        const float* src = stage + (c * UNF_PS + a) * p.span + e * dil;
        float* dst = out + first + j;
#pragma unroll 4
        for (int q = 0; q < queries; ++q, src += p.grid.stride, dst += per) *dst = *src;
    }
}

#endif

extern "C" __global__ void unfold_grid(const DNLSUnfoldGrid p)
{
    unfold_grid_body<i64>(p.video, p.grid, p.block, p.B, p.T, p.C, p.H, p.W, p.S, p.out);
}

extern "C" __global__ void unfold_grid32(const DNLSUnfoldGrid p)
{
    unfold_grid_body<int>(p.video, p.grid, p.block, p.B, p.T, p.C, p.H, p.W, (int)p.S, p.out);
}
#endif

// Gradient of a gather w.r.t. its weights: one thread per site (b, s), summing over its entries
// <patch, G> plus, when given, the weight-sum gradient read at each entry.
extern "C" __global__ void gather_weight_gradient(const DNLSGatherWeightGradient p)
{
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= p.B * p.S) return;
    i64 site = idx % p.S; int b = (int)(idx / p.S);
    Geometry g = geometry(p.block, p.H, p.W, p.ps, 0);
    const int* position = p.sites + b * p.siteBatchStride + 3 * site;
    float dot = 0.0f, count = 0.0f;
    if (site_inside(position, p.T, p.H, p.W)) {
        for (int c = 0; c < p.C; ++c)
            for (int a = 0; a < p.ps; ++a)
                for (int e = 0; e < p.ps; ++e) {
                    i64 l = location(g, b, position[0], c, position[1] + g.patch[a], position[2] + g.patch[e], p.T, p.C, p.H, p.W);
                    if (l >= 0) dot += p.patches[(((idx * p.C) + c) * p.ps + a) * p.ps + e] * p.gradient[l];
                }
        if (p.sumGradient)
            for (int a = 0; a < p.ps; ++a)
                for (int e = 0; e < p.ps; ++e) {
                    i64 l = location(g, b, position[0], 0, position[1] + g.patch[a], position[2] + g.patch[e], p.T, 1, p.H, p.W);
                    if (l >= 0) count += p.sumGradient[l];
                }
    }
    p.out[idx] = dot + count;
}

// Weighted patch sum: out[b, q, c, a, e] = Σ_m w[b, q, m] · patch(m)[c, a, e]. One thread per element.
extern "C" __global__ void weighted_sum(const DNLSWeightedSum p)
{
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    i64 per = (i64)p.C * p.ps * p.ps;
    if (idx >= (i64)p.B * p.Q * per) return;
    int e = (int)(idx % p.ps), a = (int)((idx / p.ps) % p.ps), c = (int)((idx / ((i64)p.ps * p.ps)) % p.C);
    int q = (int)((idx / per) % p.Q), b = (int)(idx / (per * p.Q));
    Geometry g = geometry(p.block, p.H, p.W, p.ps, 0);
    float sum = 0.0f;
    for (int m = 0; m < p.K; ++m) {
        i64 s = (i64)q * p.K + m;
        const int* position = p.sites + b * p.siteBatchStride + 3 * s;
        if (!site_inside(position, p.T, p.H, p.W)) continue;
        i64 l = location(g, b, position[0], c, position[1] + g.patch[a], position[2] + g.patch[e], p.T, p.C, p.H, p.W);
        if (l >= 0) sum += p.weights[((i64)b * p.Q + q) * p.K + m] * p.video[l];
    }
    p.out[idx] = sum;
}

// Gradient of the weighted sum w.r.t. its weights: one thread per (b, q, m), summing over (c, a, e).
extern "C" __global__ void weighted_sum_weight_gradient(const DNLSWeightedSumWeightGradient p)
{
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (i64)p.B * p.Q * p.K) return;
    int m = (int)(idx % p.K), q = (int)((idx / p.K) % p.Q), b = (int)(idx / ((i64)p.K * p.Q));
    Geometry g = geometry(p.block, p.H, p.W, p.ps, 0);
    const int* position = p.sites + b * p.siteBatchStride + 3 * ((i64)q * p.K + m);
    float sum = 0.0f;
    if (site_inside(position, p.T, p.H, p.W))
        for (int c = 0; c < p.C; ++c)
            for (int a = 0; a < p.ps; ++a)
                for (int e = 0; e < p.ps; ++e) {
                    i64 l = location(g, b, position[0], c, position[1] + g.patch[a], position[2] + g.patch[e], p.T, p.C, p.H, p.W);
                    if (l >= 0) sum += p.gradient[((((i64)b * p.Q + q) * p.C + c) * p.ps + a) * p.ps + e] * p.video[l];
                }
    p.out[idx] = sum;
}

"""#
}
