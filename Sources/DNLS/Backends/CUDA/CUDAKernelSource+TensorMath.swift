extension CUDAKernelSource {
    /// The tensor operations of the differentiation layer (``Tensor/combined(with:_:)`` and the
    /// rest). One thread per output element; sums accumulate in double, front to back per thread
    /// or per block as strided per-thread sums folded by a shared-memory tree: an order fixed by
    /// the shapes, so every result is reproducible bit for bit. The elementwise kernels and the
    /// softmax take their parameter structs from `dnls_kernels.h`.
    static let tensorMath = #"""
#define TM_THREADS 256

extern "C" __global__ void tm_fill(const DNLSMathFill p) {
    i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < p.count) p.out[i] = p.value;
}

// op: 0 add, 1 subtract, 2 multiply, 3 divide (ElementwiseOperation).
extern "C" __global__ void tm_combine(const DNLSMathCombine p) {
    i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= p.count) return;
    float x = p.a[i], y = p.b[i];
    p.out[i] = p.op == 0 ? x + y : p.op == 1 ? x - y : p.op == 2 ? x * y : x / y;
}

// out = s · a, times factor[0] when factor is not null (read on the device: no host wait).
extern "C" __global__ void tm_scale(const DNLSMathScale p) {
    i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= p.count) return;
    float f = p.factor ? p.scale * p.factor[0] : p.scale;
    p.out[i] = f * p.a[i];
}

extern "C" __global__ void tm_exp(const DNLSMathExp p) {
    i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < p.count) p.out[i] = expf(p.a[i]);
}

// Softmax of each row of n; a row of -inf gives zeros.
extern "C" __global__ void tm_softmax(const DNLSMathSoftmax p) {
    i64 r = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= p.rows) return;
    const float* xr = p.x + r * p.length;
    float* yr = p.y + r * p.length;
    float top = __int_as_float(0xff800000);
    for (int j = 0; j < p.length; ++j) top = fmaxf(top, xr[j]);
    if (!(top > __int_as_float(0xff800000))) { for (int j = 0; j < p.length; ++j) yr[j] = 0.0f; return; }
    float total = 0.0f;
    for (int j = 0; j < p.length; ++j) { float e = expf(xr[j] - top); yr[j] = e; total += e; }
    for (int j = 0; j < p.length; ++j) yr[j] /= total;
}

// y ⊙ (g − Σⱼ gⱼ yⱼ) per row.
extern "C" __global__ void tm_softmax_backward(const DNLSMathSoftmaxBackward p) {
    i64 r = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= p.rows) return;
    const float* yr = p.y + r * p.length;
    const float* gr = p.gradient + r * p.length;
    float dot = 0.0f;
    for (int j = 0; j < p.length; ++j) dot += gr[j] * yr[j];
    for (int j = 0; j < p.length; ++j) p.out[r * p.length + j] = yr[j] * (gr[j] - dot);
}

// out[o, i] = Σⱼ x[o, j, i], front to back, one thread per (o, i).
extern "C" __global__ void tm_sum_axis(const float* x, float* out, i64 outer, i64 n, i64 inner) {
    i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= outer * inner) return;
    i64 o = e / inner, i = e % inner;
    const float* p = x + o * n * inner + i;
    double s = 0.0;  // a long Float sum would drift; the CPU accumulates in double too
    for (i64 j = 0; j < n; ++j) s += p[j * inner];
    out[e] = (float)s;
}

// Sums `chunk` consecutive elements of a row per block: block (c, r) sums x[r·n + c·chunk …] into
// out[r·chunks + c] (per-thread strided sums, then a tree).
extern "C" __global__ void __launch_bounds__(TM_THREADS) tm_sum_chunks(const float* x, float* out, i64 n, i64 chunk,
                                                                       i64 chunks) {
    __shared__ double part[TM_THREADS];
    i64 c = blockIdx.x, r = blockIdx.y;
    const float* row = x + r * n;
    i64 lo = c * chunk, hi = lo + chunk < n ? lo + chunk : n;
    double s = 0.0;
    for (i64 i = lo + threadIdx.x; i < hi; i += TM_THREADS) s += row[i];
    part[threadIdx.x] = s;
    __syncthreads();
    for (int w = TM_THREADS / 2; w > 0; w >>= 1) {
        if (threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) out[r * chunks + c] = (float)part[0];
}

// out[o, j, i] = g[o, i]: the adjoint of tm_sum_axis.
extern "C" __global__ void tm_broadcast(const float* g, float* out, i64 outer, i64 n, i64 inner) {
    i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= outer * n * inner) return;
    i64 i = e % inner, o = e / (n * inner);
    out[e] = g[o * inner + i];
}

// out[o, k, p] = Σ_c w[k, c] · x[o, c, p] + bias[k] (bias may be null).
extern "C" __global__ void tm_channel_mix(const float* x, const float* w, const float* bias, float* out, i64 outer,
                                          int C, int Cp, i64 P) {
    i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= outer * Cp * P) return;
    i64 p = e % P, ok = e / P;
    int k = (int)(ok % Cp);
    i64 o = ok / Cp;
    float s = bias ? bias[k] : 0.0f;
    for (int c = 0; c < C; ++c) s += w[k * C + c] * x[(o * C + c) * P + p];
    out[e] = s;
}

// gx[o, c, p] = Σ_k w[k, c] · g[o, k, p].
extern "C" __global__ void tm_channel_mix_input(const float* g, const float* w, float* out, i64 outer, int C, int Cp,
                                                i64 P) {
    i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= outer * C * P) return;
    i64 p = e % P, oc = e / P;
    int c = (int)(oc % C);
    i64 o = oc / C;
    float s = 0.0f;
    for (int k = 0; k < Cp; ++k) s += w[k * C + c] * g[(o * Cp + k) * P + p];
    out[e] = s;
}

// Partial sums of the weight and bias gradients: row `pair` (k·C + c for the weight, Cp·C + k for
// the bias) of `out` gets, in column `chunk`, the sum over `chunk_size` consecutive (o, p) of
// g[o, k, p] · x[o, c, p] (or of g[o, k, p] for the bias).
extern "C" __global__ void __launch_bounds__(TM_THREADS) tm_channel_mix_partials(
    const float* g, const float* x, float* out, i64 outer, int C, int Cp, i64 P, i64 chunk, i64 chunks) {
    __shared__ float part[TM_THREADS];
    i64 pair = blockIdx.y, c0 = blockIdx.x;
    bool bias = pair >= (i64)Cp * C;
    int k = bias ? (int)(pair - (i64)Cp * C) : (int)(pair / C), c = bias ? 0 : (int)(pair % C);
    i64 n = outer * P, lo = c0 * chunk, hi = lo + chunk < n ? lo + chunk : n;
    float s = 0.0f;
    for (i64 m = lo + threadIdx.x; m < hi; m += TM_THREADS) {
        i64 o = m / P, p = m % P;
        float gk = g[(o * Cp + k) * P + p];
        s += bias ? gk : gk * x[(o * C + c) * P + p];
    }
    part[threadIdx.x] = s;
    __syncthreads();
    for (int w = TM_THREADS / 2; w > 0; w >>= 1) {
        if (threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) out[pair * chunks + c0] = part[0];
}
"""#
}
