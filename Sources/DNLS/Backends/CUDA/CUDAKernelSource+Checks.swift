extension CUDAKernelSource {
    /// Input checks on the device, so that validating a GPU tensor never copies it to the host.
    ///
    /// Each check keeps the lowest failing flat entry with `atomicMin` in a report word preset to
    /// all ones ("none"): the answer, and so the error built from it, is the same on every run and
    /// the same as the host check's (which stops at the first failure in row-major order).
    static let checks = #"""
// Lowest entry e (triple e of `triples`) outside [0,T)×[0,H)×[0,W), the marker (-1,-1,-1) excepted
// when allowMissing, into *first.
extern "C" __global__ void first_invalid_triple(const int* triples, i64 entries, int T, int H, int W,
                                                int allowMissing, unsigned long long* first)
{
    i64 step = (i64)gridDim.x * blockDim.x;
    for (i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x; e < entries; e += step) {
        int t = triples[3 * e], h = triples[3 * e + 1], w = triples[3 * e + 2];
        bool inside = t >= 0 && t < T && h >= 0 && h < H && w >= 0 && w < W;
        bool marker = allowMissing && t == -1 && h == -1 && w == -1;
        // A thread's entries ascend, so its first failure is its lowest.
        if (!inside && !marker) { atomicMin(first, (unsigned long long)e); return; }
    }
}

// Copies the triple at *first (if any) behind the report word, so one download brings both.
extern "C" __global__ void copy_first_triple(const int* triples, unsigned long long* report)
{
    unsigned long long e = report[0];
    if (e == ~0ull) return;
    int* out = (int*)(report + 1);
    out[0] = triples[3 * e]; out[1] = triples[3 * e + 1]; out[2] = triples[3 * e + 2];
}

// Deferred checking: records the failure at *report (if any, and if none is recorded yet) with
// its triple, as copy_first_triple then record_failure would, in one launch.
extern "C" __global__ void record_first_triple(const int* triples, const unsigned long long* report, int id,
                                               int* record)
{
    unsigned long long e = report[0];
    if (e == ~0ull) return;
    if (atomicCAS(record, 0, id) != 0) return;
    record[1] = (int)(e & 0xffffffffull); record[2] = (int)(e >> 32);
    record[3] = triples[3 * e]; record[4] = triples[3 * e + 1]; record[5] = triples[3 * e + 2];
}

// Lowest index of a NaN or infinite value, into *first.
extern "C" __global__ void first_nonfinite(const float* values, i64 count, unsigned long long* first)
{
    i64 step = (i64)gridDim.x * blockDim.x;
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < count; i += step) {
        if (!isfinite(values[i])) { atomicMin(first, (unsigned long long)i); return; }
    }
}

"""#
}
