extension CUDAKernelSource {
    /// Input checks on the device, so that validating a GPU tensor never copies it to the host.
    ///
    /// Each check keeps the lowest failing flat entry with `atomicMin` in a report word preset to
    /// all ones ("none"): the answer, and so the error built from it, is the same on every run and
    /// the same as the host check's (which stops at the first failure in row-major order).
    static let checks = #"""
// Whether the flows move any search window: *moved = 1 when some value of either flow is not zero
// (every block that finds one writes the same 1, so no atomic is needed).
extern "C" __global__ void flows_move(const DNLSFlowsMove p)
{
    i64 step = (i64)gridDim.x * blockDim.x;
    bool moves = false;
    for (i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x; e < p.count && !moves; e += step)
        moves = (p.forward && p.forward[e] != 0.0f) || (p.backward && p.backward[e] != 0.0f);
    if (__syncthreads_or(moves) && threadIdx.x == 0) *p.moved = 1;
}

// Lowest entry e (triple e of `triples`) outside [0,T)×[0,H)×[0,W), the marker (-1,-1,-1) excepted
// when allowMissing, into *first.
extern "C" __global__ void first_invalid_triple(const DNLSFirstInvalidTriple p)
{
    i64 step = (i64)gridDim.x * blockDim.x;
    for (i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x; e < p.entries; e += step) {
        int t = p.triples[3 * e], h = p.triples[3 * e + 1], w = p.triples[3 * e + 2];
        bool inside = t >= 0 && t < p.T && h >= 0 && h < p.H && w >= 0 && w < p.W;
        bool marker = p.allowMissing && t == -1 && h == -1 && w == -1;
        // A thread's entries ascend, so its first failure is its lowest.
        if (!inside && !marker) { atomicMin(p.first, (unsigned long long)e); return; }
    }
}

// Copies the triple at *first (if any) behind the report word, so one download brings both.
extern "C" __global__ void copy_first_triple(const DNLSCopyFirstTriple p)
{
    unsigned long long e = p.report[0];
    if (e == ~0ull) return;
    int* out = (int*)(p.report + 1);
    out[0] = p.triples[3 * e]; out[1] = p.triples[3 * e + 1]; out[2] = p.triples[3 * e + 2];
}

// Deferred checking: records the failure at *report (if any, and if none is recorded yet) with
// its triple, as copy_first_triple then record_failure would, in one launch.
extern "C" __global__ void record_first_triple(const DNLSRecordFirstTriple p)
{
    unsigned long long e = p.report[0];
    if (e == ~0ull) return;
    if (atomicCAS(p.record, 0, p.id) != 0) return;
    p.record[1] = (int)(e & 0xffffffffull); p.record[2] = (int)(e >> 32);
    p.record[3] = p.triples[3 * e]; p.record[4] = p.triples[3 * e + 1]; p.record[5] = p.triples[3 * e + 2];
}

// Lowest index of a NaN or infinite value, into *first.
extern "C" __global__ void first_nonfinite(const DNLSFirstNonfinite p)
{
    i64 step = (i64)gridDim.x * blockDim.x;
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < p.count; i += step) {
        if (!isfinite(p.values[i])) { atomicMin(p.first, (unsigned long long)i); return; }
    }
}

// Deferred checking of small tensors in one launch (one block, no report to preset): check by
// check, the block's lowest failing entry, kept with atomicMin in shared memory, goes into record =
// [id, entry lo, entry hi, t, h, w] unless the record already holds a failure (an earlier check's,
// or an earlier call's). Thread 0 records a failing triple or value's position the same way as
// record_failure does from a report.
__device__ void record_lowest(unsigned long long e, int id, int* record, const int* triple)
{
    if (e == ~0ull || atomicCAS(record, 0, id) != 0) return;
    record[1] = (int)(e & 0xffffffffull); record[2] = (int)(e >> 32);
    record[3] = triple ? triple[0] : 0; record[4] = triple ? triple[1] : 0; record[5] = triple ? triple[2] : 0;
}

extern "C" __global__ void record_checks(const DNLSRecordChecks p)
{
    __shared__ unsigned long long lowest;
    for (int k = 0; k < p.count; ++k) {
        const DNLSCheckEntry c = p.checks[k];
        if (threadIdx.x == 0) lowest = ~0ull;
        __syncthreads();
        if (c.kind == 0) {
            const int* triples = (const int*)c.data;
            for (i64 e = threadIdx.x; e < c.count; e += blockDim.x) {
                int t = triples[3 * e], h = triples[3 * e + 1], w = triples[3 * e + 2];
                bool inside = t >= 0 && t < c.T && h >= 0 && h < c.H && w >= 0 && w < c.W;
                bool marker = c.allowMissing && t == -1 && h == -1 && w == -1;
                if (!inside && !marker) { atomicMin(&lowest, (unsigned long long)e); break; }
            }
        } else {
            const float* values = (const float*)c.data;
            for (i64 i = threadIdx.x; i < c.count; i += blockDim.x) {
                if (!isfinite(values[i])) { atomicMin(&lowest, (unsigned long long)i); break; }
            }
        }
        __syncthreads();
        if (threadIdx.x == 0 && lowest != ~0ull)
            record_lowest(lowest, c.id, p.record, c.kind == 0 ? (const int*)c.data + 3 * lowest : nullptr);
        __syncthreads();
    }
}

"""#
}
