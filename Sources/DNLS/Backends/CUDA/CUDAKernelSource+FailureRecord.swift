extension CUDAKernelSource {
    /// The device's failure record for deferred input checks: the first failing check since the
    /// record was last read keeps its place; later ones leave it alone.
    static let failureRecord = #"""
// Copies a check's report (first failing entry, then its triple) into record = [id, entry lo,
// entry hi, t, h, w] unless the report says "none" or the record already holds a failure.
extern "C" __global__ void record_failure(const DNLSRecordFailure p)
{
    unsigned long long e = p.report[0];
    if (e == ~0ull) return;
    if (atomicCAS(p.record, 0, p.id) != 0) return;
    const int* triple = (const int*)(p.report + 1);
    p.record[1] = (int)(e & 0xffffffffull); p.record[2] = (int)(e >> 32);
    p.record[3] = triple[0]; p.record[4] = triple[1]; p.record[5] = triple[2];
}

"""#
}
