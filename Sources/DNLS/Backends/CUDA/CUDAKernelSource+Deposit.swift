extension CUDAKernelSource {
    /// Scatter-adds as per-destination gathers (fold, scatter, and the backward of reads).
    static let deposit = #"""
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

"""#
}
