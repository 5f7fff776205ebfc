extension CUDAKernelSource {
    /// Patch reads: extraction (unfold, gather, scatter backward), weighted sums and their weight gradients.
    static let patches = #"""
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
