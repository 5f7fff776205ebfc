extension CUDAKernelSource {
    /// Search backward, query side (the key side is a deposit, see `deposit`).
    static let searchBackward = #"""
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

"""#
}
