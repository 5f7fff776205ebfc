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

// out[o, i] = Σⱼ input[o, j, i], front to back, one thread per (o, i).
extern "C" __global__ void tm_sum_axis(const DNLSMathAxes p) {
    i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= p.outer * p.inner) return;
    i64 o = e / p.inner, i = e % p.inner;
    const float* column = p.input + o * p.n * p.inner + i;
    double s = 0.0;  // a long Float sum would drift; the CPU accumulates in double too
    for (i64 j = 0; j < p.n; ++j) s += column[j * p.inner];
    p.out[e] = (float)s;
}

// Sums `chunk` consecutive elements of a row per block: block (c, r) sums x[r·n + c·chunk …] into
// out[r·chunks + c] (per-thread strided sums, then a tree).
extern "C" __global__ void __launch_bounds__(TM_THREADS) tm_sum_chunks(const DNLSMathSumChunks p) {
    __shared__ double part[TM_THREADS];
    i64 c = blockIdx.x, r = blockIdx.y;
    const float* row = p.x + r * p.n;
    i64 lo = c * p.chunk, hi = lo + p.chunk < p.n ? lo + p.chunk : p.n;
    double s = 0.0;
    for (i64 i = lo + threadIdx.x; i < hi; i += TM_THREADS) s += row[i];
    part[threadIdx.x] = s;
    __syncthreads();
    for (int w = TM_THREADS / 2; w > 0; w >>= 1) {
        if (threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) p.out[r * p.chunks + c] = (float)part[0];
}

// out[o, j, i] = input[o, i]: the adjoint of tm_sum_axis.
extern "C" __global__ void tm_broadcast(const DNLSMathAxes p) {
    i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= p.outer * p.n * p.inner) return;
    i64 i = e % p.inner, o = e / (p.n * p.inner);
    p.out[e] = p.input[o * p.inner + i];
}

// out[o, k, q] = Σ_c weight[k, c] · x[o, c, q] + bias[k] (bias may be null).
extern "C" __global__ void tm_channel_mix(const DNLSMathChannelMix p) {
    i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= p.outer * p.Cp * p.P) return;
    i64 q = e % p.P, ok = e / p.P;
    int k = (int)(ok % p.Cp);
    i64 o = ok / p.Cp;
    float s = p.bias ? p.bias[k] : 0.0f;
    for (int c = 0; c < p.C; ++c) s += p.weight[k * p.C + c] * p.x[(o * p.C + c) * p.P + q];
    p.out[e] = s;
}

// out[o, c, q] = Σ_k weight[k, c] · gradient[o, k, q].
extern "C" __global__ void tm_channel_mix_input(const DNLSMathChannelMixInput p) {
    i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= p.outer * p.C * p.P) return;
    i64 q = e % p.P, oc = e / p.P;
    int c = (int)(oc % p.C);
    i64 o = oc / p.C;
    float s = 0.0f;
    for (int k = 0; k < p.Cp; ++k) s += p.weight[k * p.C + c] * p.gradient[(o * p.Cp + k) * p.P + q];
    p.out[e] = s;
}

// Partial sums of the weight and bias gradients: row `pair` (k·C + c for the weight, Cp·C + k for
// the bias) of `out` gets, in column `chunk`, the sum over `chunk` consecutive (o, q) of
// gradient[o, k, q] · x[o, c, q] (or of gradient[o, k, q] for the bias).
extern "C" __global__ void __launch_bounds__(TM_THREADS) tm_channel_mix_partials(const DNLSMathChannelMixPartials p) {
    __shared__ float part[TM_THREADS];
    i64 pair = blockIdx.y, c0 = blockIdx.x;
    bool bias = pair >= (i64)p.Cp * p.C;
    int k = bias ? (int)(pair - (i64)p.Cp * p.C) : (int)(pair / p.C), c = bias ? 0 : (int)(pair % p.C);
    i64 n = p.outer * p.P, lo = c0 * p.chunk, hi = lo + p.chunk < n ? lo + p.chunk : n;
    float s = 0.0f;
    for (i64 m = lo + threadIdx.x; m < hi; m += TM_THREADS) {
        i64 o = m / p.P, q = m % p.P;
        float gk = p.gradient[(o * p.Cp + k) * p.P + q];
        s += bias ? gk : gk * p.x[(o * p.C + c) * p.P + q];
    }
    part[threadIdx.x] = s;
    __syncthreads();
    for (int w = TM_THREADS / 2; w > 0; w >>= 1) {
        if (threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) p.out[pair * p.chunks + c0] = part[0];
}
"""#
}
