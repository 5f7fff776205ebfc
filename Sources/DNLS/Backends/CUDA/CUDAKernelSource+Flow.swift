extension CUDAKernelSource {
    /// The steps of flow estimation around its searches, so that an estimate on a GPU never leaves
    /// it: the pre-filter and the pyramid, the frame-pair clips the searches take, the flows they
    /// find, the median filter, the doubling to the next level and the final flows. One thread per
    /// output element; the float sums run in the host's order with the rounded intrinsics, so that
    /// the flows are the host's bit for bit.
    static let flow = #"""
#ifndef FLOW_MEDIAN_MAX
#define FLOW_MEDIAN_MAX 225
#endif

__device__ __forceinline__ int flow_clamp(int v, int n) { return v < 0 ? 0 : v >= n ? n - 1 : v; }

// This thread's pixel (plane, y, x) of `planes` planes of H × W; false past the last.
__device__ __forceinline__ bool flow_pixel(i64 planes, int H, int W, i64* plane, int* y, int* x) {
    const i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x, size = (i64)H * W;
    if (i >= planes * size) return false;
    *plane = i / size;
    *y = (int)(i % size / W);
    *x = (int)(i % W);
    return true;
}

extern "C" __global__ void flow_blur(const DNLSFlowBlur p) {
    i64 pl;
    int y, x;
    if (!flow_pixel(p.planes, p.H, p.W, &pl, &y, &x)) return;
    const i64 base = pl * p.H * p.W;
    float sum = 0.0f;
    for (int k = 0; k <= 2 * p.reach; ++k) {
        const float v = p.along == 0 ? p.in[base + (i64)y * p.W + flow_clamp(x + k - p.reach, p.W)]
                                     : p.in[base + (i64)flow_clamp(y + k - p.reach, p.H) * p.W + x];
        sum = __fadd_rn(sum, __fmul_rn(p.taps[k], v));
    }
    p.out[base + (i64)y * p.W + x] = sum;
}

extern "C" __global__ void flow_halve(const DNLSFlowHalve p) {
    i64 pl;
    int y, x;
    if (!flow_pixel(p.planes, p.H2, p.W2, &pl, &y, &x)) return;
    float sum = 0.0f, count = 0.0f;
    for (int yy = 2 * y; yy < min(2 * y + 2, p.H); ++yy) {
        for (int xx = 2 * x; xx < min(2 * x + 2, p.W); ++xx) {
            sum = __fadd_rn(sum, p.in[(pl * p.H + yy) * p.W + xx]);
            count += 1.0f;
        }
    }
    p.out[(pl * p.H2 + y) * p.W2 + x] = __fdiv_rn(sum, count);
}

extern "C" __global__ void flow_double(const DNLSFlowDouble p) {
    i64 c;
    int y, x;
    if (!flow_pixel(p.n, p.H, p.W, &c, &y, &x)) return;
    p.out[(c * p.H + y) * p.W + x] = 2 * p.in[(c * p.h + min(y / 2, p.h - 1)) * p.w + min(x / 2, p.w - 1)];
}

extern "C" __global__ void flow_median(const DNLSFlowMedian p) {
    i64 c;
    int y, x;
    if (!flow_pixel(p.n, p.H, p.W, &c, &y, &x)) return;
    int window[FLOW_MEDIAN_MAX];
    int n = 0;
    for (int yy = max(0, y - p.radius); yy <= min(p.H - 1, y + p.radius); ++yy) {
        for (int xx = max(0, x - p.radius); xx <= min(p.W - 1, x + p.radius); ++xx) {
            const int v = p.in[(c * p.H + yy) * p.W + xx];
            int k = n;
            while (k > 0 && window[k - 1] > v) { window[k] = window[k - 1]; --k; }
            window[k] = v;
            ++n;
        }
    }
    p.out[(c * p.H + y) * p.W + x] = window[(n - 1) / 2];
}

// Pair q's frame and target among the B × T frames (the host's FlowPairs rule).
__device__ __forceinline__ void flow_pair(i64 q, int B, int T, i64* frame, i64* target) {
    const i64 forward = (i64)B * (T - 1);
    const bool ahead = q < forward;
    const i64 r = ahead ? q : q - forward;
    const i64 b = r / (T - 1), t = r % (T - 1) + (ahead ? 0 : 1);
    *frame = b * T + t;
    *target = ahead ? *frame + 1 : *frame - 1;
}

extern "C" __global__ void flow_clip(const DNLSFlowClip p) {
    const i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    const i64 plane = (i64)p.H * p.W, frame = p.C * plane;
    if (i < (i64)p.P * 2 * frame) {
        const i64 m = i / (2 * frame), s = i / frame % 2, e = i % frame;
        i64 source, target;
        flow_pair(p.first + m, p.B, p.T, &source, &target);
        p.video[i] = p.level[(s == 0 ? source : target) * frame + e];
        p.keys[i] = p.level[target * frame + e];
    }
    if (i < (i64)p.P * 4 * plane) {
        const i64 m = i / (4 * plane), s = i / (2 * plane) % 2, e = i % (2 * plane);
        p.moves[i] = s == 0 ? (float)p.predicted[(p.first + m) * 2 * plane + e] : 0.0f;
    }
}

extern "C" __global__ void flow_update(const DNLSFlowUpdate p) {
    const i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (i64)p.P * p.n) return;
    const int* found = p.indices + 3 * i;
    if (found[0] < 0) return;  // no candidate: the prediction stays
    const i64 m = i / p.n, q = p.start + i % p.n, plane = (i64)p.H * p.W;
    const int y = (int)(q / p.W), x = (int)(q % p.W);
    int* flow = p.flows + (p.first + m) * 2 * plane;
    flow[q] = found[2] - x;
    flow[plane + q] = found[1] - y;
}

extern "C" __global__ void flow_assemble(const DNLSFlowAssemble p) {
    const i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (i64)p.B * p.T * 2 * p.plane) return;
    const i64 n = i / (2 * p.plane), e = i % (2 * p.plane);
    const i64 b = n / p.T, t = n % p.T, steps = p.T - 1;
    p.forward[i] = t < steps ? (float)p.flows[(b * steps + t) * 2 * p.plane + e] : 0.0f;
    p.backward[i] = t > 0 ? (float)p.flows[((i64)p.B * steps + b * steps + t - 1) * 2 * p.plane + e] : 0.0f;
}
"""#
}
