extension CUDAKernelSource {
    /// The device's failure record for deferred input checks: the first failing check since the
    /// record was last read keeps its place; later ones leave it alone.
    static let failureRecord = #"""
// Copies a check's report (first failing entry, then its triple) into record = [id, entry lo,
// entry hi, t, h, w] unless the report says "none" or the record already holds a failure.
extern "C" __global__ void record_failure(const unsigned long long* report, int id, int* record)
{
    unsigned long long e = report[0];
    if (e == ~0ull) return;
    if (atomicCAS(record, 0, id) != 0) return;
    const int* triple = (const int*)(report + 1);
    record[1] = (int)(e & 0xffffffffull); record[2] = (int)(e >> 32);
    record[3] = triple[0]; record[4] = triple[1]; record[5] = triple[2];
}

"""#
}
