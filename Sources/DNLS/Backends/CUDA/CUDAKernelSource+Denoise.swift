extension CUDAKernelSource {
    /// The denoisers' own steps, so that a denoiser on a GPU keeps its batches there: the Bayes
    /// estimate of every patch group (non-local Bayes), the colour basis, the normalisation of
    /// an aggregation, and the weights of non-local means.
    ///
    /// A first step's flat groups (values that spread no more than the noise) take their mean,
    /// found by `bayes_flat` before the estimate.
    ///
    /// The group estimate repeats the host's arithmetic operation for operation, in double, with
    /// the rounded intrinsics (`__dmul_rn`, `__dadd_rn`, …), which the compiler never contracts
    /// into fused multiply-adds: a GPU estimate is bit for bit the host's. One warp per (group,
    /// channel): the lanes share the group's mean, its covariance (entries spread over the
    /// lanes, each summed over the rows front to back) and its Cholesky factor (column by
    /// column), then each lane solves for its own rows with the vector in registers.
    static let denoise = #"""
#ifndef GE_D
#define GE_D 25
#endif
#ifndef GE_WARPS
#define GE_WARPS 2
#endif

// Doubles of one warp's shared memory: covariance D², mean and centre D each, then the group's
// model and estimated patches (K·D floats each) and its row flags (K ints).
__device__ __forceinline__ int ge_warp_doubles(int K) { return GE_D * GE_D + 2 * GE_D + (2 * K * GE_D + K + 1) / 2; }

// The mean of the model's rows, their covariance (+ ridge on the diagonal) and its lower Cholesky
// factor into `cov`, shared by the warp; false (for every lane) when a pivot is not positive.
__device__ bool ge_factor(double* cov, double* mean, const float* src, const int* valid, int K, int n, int lane,
                          double ridge) {
    const int D = GE_D;
    for (int e = lane; e < D; e += 32) {
        double s = 0.0;
        for (int r = 0; r < K; ++r) if (valid[r]) s = __dadd_rn(s, (double)src[r * D + e]);
        mean[e] = __ddiv_rn(s, (double)n);
    }
    __syncwarp();
    // The lower triangle, entry t = i(i+1)/2 + j.
    const double scale = __ddiv_rn(1.0, (double)(n - 1));
    for (int t = lane; t < D * (D + 1) / 2; t += 32) {
        int i = (int)((sqrt(8.0 * t + 1.0) - 1.0) * 0.5);
        while (i * (i + 1) / 2 > t) --i;
        while ((i + 1) * (i + 2) / 2 <= t) ++i;
        const int j = t - i * (i + 1) / 2;
        double a = 0.0;
        for (int r = 0; r < K; ++r) {
            if (!valid[r]) continue;
            const double u = __dsub_rn((double)src[r * D + i], mean[i]);
            a = __dadd_rn(a, __dmul_rn(u, __dsub_rn((double)src[r * D + j], mean[j])));
        }
        a = __dmul_rn(a, scale);
        if (i == j) a = __dadd_rn(a, ridge);
        cov[i * D + j] = a;
    }
    __syncwarp();
    // Left-looking: every lane computes the pivot (the same value), the lanes share the column below it.
    for (int j = 0; j < D; ++j) {
        double pivot = cov[j * D + j];
        for (int k = 0; k < j; ++k) pivot = __dsub_rn(pivot, __dmul_rn(cov[j * D + k], cov[j * D + k]));
        if (!(pivot > 0.0)) return false;
        const double root = __dsqrt_rn(pivot);
        __syncwarp();
        for (int i = j + 1 + lane; i < D; i += 32) {
            double v = cov[i * D + j];
            for (int k = 0; k < j; ++k) v = __dsub_rn(v, __dmul_rn(cov[i * D + k], cov[j * D + k]));
            cov[i * D + j] = __ddiv_rn(v, root);
        }
        if (lane == 0) cov[j * D + j] = root;
        __syncwarp();
    }
    return true;
}

extern "C" __global__ void __launch_bounds__(32 * GE_WARPS) bayes_groups(const DNLSBayesGroups p) {
    extern __shared__ double ge_shared[];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const i64 item = (i64)blockIdx.x * GE_WARPS + warp;
    if (item >= p.groups * p.C) return;  // the whole warp
    const int K = p.K, C = p.C, D = GE_D;
    const i64 g = item / C;
    const int c = (int)(item % C);
    double* cov = ge_shared + (i64)warp * ge_warp_doubles(K);
    double* mean = cov + D * D;
    double* centre = mean + D;
    float* src = (float*)(centre + D);
    float* xs = src + K * D;
    int* valid = (int*)(xs + K * D);
    for (int i = lane; i < K * D; i += 32) {
        const int r = i / D, e = i - r * D;
        const i64 at = ((g * K + r) * C + c) * D + e;
        const float x = p.patches[at];
        xs[i] = x;
        src[i] = p.model ? p.model[at] : x;
    }
    for (int r = lane; r < K; r += 32) valid[r] = p.indices[3 * (g * K + r)] >= 0;
    __syncwarp();
    int n = 0;
    for (int r = 0; r < K; ++r) n += valid[r];
    if (p.flat && p.flat[g]) {  // a flat group: every present row takes the channel's mean
        const float m = __double2float_rn(p.flatMeans[g * C + c]);
        for (int i = lane; i < K * D; i += 32) {
            const int r = i / D;
            p.out[((g * K + r) * C + c) * D + i - r * D] = valid[r] ? m : xs[i];
        }
        return;
    }
    // Second step: C_b + σ²I. First step: Cₙ, which holds σ²I in expectation; a little of σ² more
    // keeps a group of nearly equal patches factorisable. A group of fewer than two patches, or a
    // covariance that is not positive definite, leaves the channel as it is (the same for the warp).
    const double ridge = p.model ? p.variance : __dmul_rn(1e-3, p.variance);
    const bool estimated = n >= 2 && ge_factor(cov, mean, src, valid, K, n, lane, ridge);
    if (estimated) {
        // The estimate's mean: the model's in the first step (the patches themselves), the noisy
        // group's own in the second.
        for (int e = lane; e < D; e += 32) {
            if (p.model) {
                double s = 0.0;
                for (int r = 0; r < K; ++r) if (valid[r]) s = __dadd_rn(s, (double)xs[r * D + e]);
                centre[e] = __ddiv_rn(s, (double)n);
            } else {
                centre[e] = mean[e];
            }
        }
        __syncwarp();
    }
    for (int r = lane; r < K; r += 32) {
        const float* x = xs + r * D;
        float* out = p.out + ((g * K + r) * C + c) * D;
        if (!estimated || !valid[r]) {
            for (int e = 0; e < D; ++e) out[e] = x[e];
            continue;
        }
        double z[GE_D];  // in local memory, which the lanes' interleaved layout keeps coalesced
        for (int e = 0; e < GE_D; ++e) z[e] = __dsub_rn((double)x[e], centre[e]);
        for (int i = 0; i < GE_D; ++i) {
            double v = z[i];
            for (int k = 0; k < i; ++k) v = __dsub_rn(v, __dmul_rn(cov[i * D + k], z[k]));
            z[i] = __ddiv_rn(v, cov[i * D + i]);
        }
        for (int i = GE_D - 1; i >= 0; --i) {
            double v = z[i];
            for (int k = i + 1; k < GE_D; ++k) v = __dsub_rn(v, __dmul_rn(cov[k * D + i], z[k]));
            z[i] = __ddiv_rn(v, cov[i * D + i]);
        }
        for (int e = 0; e < GE_D; ++e) out[e] = __double2float_rn(__dsub_rn((double)x[e], __dmul_rn(p.variance, z[e])));
    }
}

// One thread per group, the host's sums in the host's order.
extern "C" __global__ void bayes_flat(const DNLSBayesFlat p) {
    const i64 g = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (g >= p.groups) return;
    const int K = p.K, C = p.C, D = p.D;
    int n = 0;
    for (int r = 0; r < K; ++r) n += p.indices[3 * (g * K + r)] >= 0;
    int flat = 0;
    if (n >= 2) {
        const double count = (double)(n * D);
        double spread = 0.0;
        for (int c = 0; c < C; ++c) {
            double sum = 0.0;
            for (int r = 0; r < K; ++r) {
                if (p.indices[3 * (g * K + r)] < 0) continue;
                const float* x = p.patches + ((g * K + r) * C + c) * D;
                for (int e = 0; e < D; ++e) sum = __dadd_rn(sum, (double)x[e]);
            }
            const double mean = __ddiv_rn(sum, count);
            double squares = 0.0;
            for (int r = 0; r < K; ++r) {
                if (p.indices[3 * (g * K + r)] < 0) continue;
                const float* x = p.patches + ((g * K + r) * C + c) * D;
                for (int e = 0; e < D; ++e) {
                    const double u = __dsub_rn((double)x[e], mean);
                    squares = __dadd_rn(squares, __dmul_rn(u, u));
                }
            }
            p.means[g * C + c] = mean;
            spread = __dadd_rn(spread, __ddiv_rn(squares, __dsub_rn(count, 1.0)));
        }
        flat = __ddiv_rn(spread, (double)C) < p.flatness;
    }
    p.flat[g] = flat;
}

// One thread per pixel of a frame: the three channels mixed by the 3 × 3 matrix w, summed left
// to right as on the host.
extern "C" __global__ void colour_basis(const DNLSColourBasis p) {
    const i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= p.frames * p.P) return;
    const i64 f = i / p.P, q = i - f * p.P;
    const float* in = p.in + f * 3 * p.P + q;
    const float v0 = in[0], v1 = in[p.P], v2 = in[2 * p.P];
    float* out = p.out + f * 3 * p.P + q;
    for (int c = 0; c < 3; ++c) {
        const float* w = p.w + 3 * c;
        out[c * p.P] = __fadd_rn(__fadd_rn(__fmul_rn(w[0], v0), __fmul_rn(w[1], v1)), __fmul_rn(w[2], v2));
    }
}

extern "C" __global__ void normalise_sums(const DNLSNormalise p) {
    const i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= p.frames * p.C * p.P) return;
    const i64 f = i / (p.C * p.P), q = i % p.P;
    const float d = p.counts[f * p.P + q];
    p.out[i] = d > 0.0f ? __fdiv_rn(p.sums[i], d) : p.fallback[i];
}

// One thread per coarse pixel of a frame: its share from the channels' 3 × 3 variances, then
// the correction of each channel; the host's order with the rounded intrinsics.
extern "C" __global__ void pyramid_correction(const DNLSPyramidCorrection p) {
    const i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    const i64 plane = (i64)p.h * p.w;
    if (i >= p.frames * plane) return;
    const i64 frame = i / plane;
    const int y = (int)(i / p.w % p.h), x = (int)(i % p.w);
    float total = 0.0f;
    for (int c = 0; c < p.C; ++c) {
        const float* values = p.coarse + (frame * p.C + c) * plane;
        float sum = 0.0f, squares = 0.0f;
        for (int a = -1; a <= 1; ++a) {
            const int row = min(max(y + a, 0), p.h - 1);
            for (int b = -1; b <= 1; ++b) {
                const float v = values[(i64)row * p.w + min(max(x + b, 0), p.w - 1)];
                sum = __fadd_rn(sum, v);
                squares = __fadd_rn(squares, __fmul_rn(v, v));
            }
        }
        const float mean = __fdiv_rn(sum, 9.0f);
        total = __fadd_rn(total, fmaxf(__fsub_rn(__fdiv_rn(squares, 9.0f), __fmul_rn(mean, mean)), 0.0f));
    }
    const float share = __fdiv_rn(p.noise, __fadd_rn(p.noise, __fdiv_rn(total, (float)p.C)));
    for (int c = 0; c < p.C; ++c) {
        const i64 j = (frame * p.C + c) * plane + i % plane;
        p.out[j] = __fmul_rn(share, __fsub_rn(p.coarse[j], p.coarseOfFine[j]));
    }
}

// One thread per fine pixel: the coarse level's correction, upsampled, added to it; the sums in
// the host's order (rows outer, columns inner) with the rounded intrinsics.
extern "C" __global__ void pyramid_expand(const DNLSPyramidExpand p) {
    const i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= p.planes * p.H * p.W) return;
    const i64 plane = i / ((i64)p.H * p.W);
    const int y = (int)(i / p.W % p.H), x = (int)(i % p.W);
    const float taps[3] = {0.25f, 0.5f, 0.25f};
    float sum = 0.0f;
    for (int a = 0; a < 3; ++a) {
        const int row = min(max(y + a - 1, 0), p.H - 1) / 2;
        float across = 0.0f;
        for (int b = 0; b < 3; ++b) {
            const int column = min(max(x + b - 1, 0), p.W - 1) / 2;
            across = __fadd_rn(across, __fmul_rn(taps[b], p.correction[(plane * p.h + row) * p.w + column]));
        }
        sum = __fadd_rn(sum, __fmul_rn(taps[a], across));
    }
    p.out[i] = __fadd_rn(p.fine[i], sum);
}

// One thread per query: its weights and their total, front to back, spread over its patch.
extern "C" __global__ void means_weights(const DNLSMeansWeights p) {
    const i64 q = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (q >= p.Q) return;
    float total = 0.0f;
    for (int k = 0; k < p.K; ++k) {
        const float d = p.distances[q * p.K + k];
        const float w = isfinite(d) ? expf(__fdiv_rn(-fmaxf(__fsub_rn(__fdiv_rn(d, p.entries), p.noise), 0.0f), p.hh)) : 0.0f;
        p.weights[q * p.K + k] = w;
        total = __fadd_rn(total, w);
    }
    for (int e = 0; e < p.E; ++e) p.spread[q * p.E + e] = total;
}
"""#
}
