// A stand-in for libcuda.so.1 that does no device work, for profiling the host side of DNLS's
// CUDA path on a machine without a GPU: "device memory" is host memory, launches only count
// themselves, every query answers as an H100 would. Kernels are compiled by the real NVRTC.
//
//   cc -O2 -shared -fPIC -o /tmp/fake/libcuda.so.1 bench/fake_driver/fake_cuda.c
//   LD_LIBRARY_PATH=/tmp/fake:<nvrtc lib folder> python3 bench/fake_driver/library_profile.py
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

static char token[64];  // every handle points here
unsigned long long fake_cuda_launches = 0;

// Calls per entry point, printed at exit when FAKE_CUDA_COUNTS is set.
static unsigned long long calls[43];
static const char *names[43] = {"cuInit", "cuDriverGetVersion", "cuDeviceGetCount", "cuDeviceGet", "cuDeviceGetName", "cuDeviceGetAttribute", "cuDeviceTotalMem_v2", "cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRelease_v2", "cuCtxSetCurrent", "cuCtxSynchronize", "cuMemGetInfo_v2", "cuMemAlloc_v2", "cuMemFree_v2", "cuMemAllocFromPoolAsync", "cuMemFreeAsync", "cuMemPoolCreate", "cuMemPoolDestroy", "cuMemPoolSetAttribute", "cuMemPoolGetAttribute", "cuMemcpyHtoDAsync_v2", "cuMemcpyDtoHAsync_v2", "cuMemcpyDtoDAsync_v2", "cuMemsetD32Async", "cuModuleLoadData", "cuModuleUnload", "cuModuleGetFunction", "cuFuncSetAttribute", "cuLaunchKernel", "cuStreamCreate", "cuStreamDestroy_v2", "cuStreamSynchronize", "cuStreamWaitEvent", "cuStreamIsCapturing", "cuEventCreate", "cuEventDestroy_v2", "cuEventRecord", "cuEventSynchronize", "cuEventQuery", "cuEventElapsedTime", "cuGetErrorName", "cuGetErrorString", "cuGetExportTable"};

CUresult cuInit(unsigned int flags) { calls[0]++; (void)flags; return 0; }
CUresult cuDriverGetVersion(int *v) { calls[1]++; *v = 13000; return 0; }
CUresult cuDeviceGetCount(int *n) { calls[2]++; *n = 1; return 0; }
CUresult cuDeviceGet(int *d, int ordinal) { calls[3]++; *d = ordinal; return ordinal == 0 ? 0 : 101; }
CUresult cuDeviceGetName(char *name, int length, int d) { calls[4]++;
    (void)d; strncpy(name, "Fake H100 (no device work)", (size_t)length); name[length - 1] = 0; return 0;
}
CUresult cuDeviceGetAttribute(int *value, int attribute, int d) { calls[5]++;
    (void)d;
    switch (attribute) {
    case 1: *value = 1024; break;          // max threads per block
    case 8: *value = 49152; break;         // shared memory per block
    case 16: *value = 132; break;          // SMs
    case 75: *value = 9; break;            // compute capability
    case 76: *value = 0; break;
    case 97: *value = 232448; break;       // opt-in shared memory
    case 115: *value = 1; break;           // memory pools
    default: *value = 0;
    }
    return 0;
}
CUresult cuDeviceTotalMem_v2(size_t *bytes, int d) { calls[6]++; (void)d; *bytes = 80ull << 30; return 0; }
CUresult cuDevicePrimaryCtxRetain(void **ctx, int d) { calls[7]++; (void)d; *ctx = token; return 0; }
CUresult cuDevicePrimaryCtxRelease_v2(int d) { calls[8]++; (void)d; return 0; }
CUresult cuCtxSetCurrent(void *ctx) { calls[9]++; (void)ctx; return 0; }
CUresult cuCtxSynchronize(void) { calls[10]++; return 0; }
CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total) { calls[11]++; *free_bytes = 79ull << 30; *total = 80ull << 30; return 0; }

static CUresult allocate(CUdeviceptr *p, size_t bytes) {
    void *m = NULL;
    if (posix_memalign(&m, 256, bytes ? bytes : 1)) return 2;
    *p = (CUdeviceptr)(uintptr_t)m;
    return 0;
}
CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t bytes) { calls[12]++; return allocate(p, bytes); }
CUresult cuMemFree_v2(CUdeviceptr p) { calls[13]++; free((void *)(uintptr_t)p); return 0; }
CUresult cuMemAllocFromPoolAsync(CUdeviceptr *p, size_t bytes, void *pool, void *s) { calls[14]++; (void)pool; (void)s; return allocate(p, bytes); }
CUresult cuMemFreeAsync(CUdeviceptr p, void *s) { calls[15]++; (void)s; free((void *)(uintptr_t)p); return 0; }
CUresult cuMemPoolCreate(void **pool, const void *props) { calls[16]++; (void)props; *pool = token; return 0; }
CUresult cuMemPoolDestroy(void *pool) { calls[17]++; (void)pool; return 0; }
CUresult cuMemPoolSetAttribute(void *pool, int a, void *v) { calls[18]++; (void)pool; (void)a; (void)v; return 0; }
CUresult cuMemPoolGetAttribute(void *pool, int a, void *v) { calls[19]++; (void)pool; (void)a; *(uint64_t *)v = 0; return 0; }
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void *s, size_t n, void *st) { calls[20]++; (void)st; memcpy((void *)(uintptr_t)d, s, n); return 0; }
CUresult cuMemcpyDtoHAsync_v2(void *d, CUdeviceptr s, size_t n, void *st) { calls[21]++; (void)st; memcpy(d, (void *)(uintptr_t)s, n); return 0; }
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr d, CUdeviceptr s, size_t n, void *st) { calls[22]++; (void)st; memmove((void *)(uintptr_t)d, (void *)(uintptr_t)s, n); return 0; }
CUresult cuMemsetD32Async(CUdeviceptr d, unsigned int v, size_t n, void *st) { calls[23]++;
    (void)st; uint32_t *p = (uint32_t *)(uintptr_t)d; for (size_t i = 0; i < n; i++) p[i] = v; return 0;
}
CUresult cuModuleLoadData(void **m, const void *image) { calls[24]++; (void)image; *m = token; return 0; }
CUresult cuModuleUnload(void *m) { calls[25]++; (void)m; return 0; }
CUresult cuModuleGetFunction(void **f, void *m, const char *name) { calls[26]++; (void)m; (void)name; *f = token; return 0; }
CUresult cuFuncSetAttribute(void *f, int a, int v) { calls[27]++; (void)f; (void)a; (void)v; return 0; }
CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, void *s, void **params, void **extra) { calls[28]++;
    (void)f; (void)gx; (void)gy; (void)gz; (void)bx; (void)by; (void)bz; (void)shared; (void)s; (void)params; (void)extra;
    fake_cuda_launches++;
    return 0;
}
CUresult cuStreamCreate(void **s, unsigned flags) { calls[29]++; (void)flags; *s = token; return 0; }
CUresult cuStreamDestroy_v2(void *s) { calls[30]++; (void)s; return 0; }
CUresult cuStreamSynchronize(void *s) { calls[31]++; (void)s; return 0; }
CUresult cuStreamWaitEvent(void *s, void *e, unsigned flags) { calls[32]++; (void)s; (void)e; (void)flags; return 0; }
CUresult cuStreamIsCapturing(void *s, int *status) { calls[33]++; (void)s; *status = 0; return 0; }
CUresult cuEventCreate(void **e, unsigned flags) { calls[34]++; (void)flags; *e = token; return 0; }
CUresult cuEventDestroy_v2(void *e) { calls[35]++; (void)e; return 0; }
CUresult cuEventRecord(void *e, void *s) { calls[36]++; (void)e; (void)s; return 0; }
CUresult cuEventSynchronize(void *e) { calls[37]++; (void)e; return 0; }
CUresult cuEventQuery(void *e) { calls[38]++; (void)e; return 0; }
CUresult cuEventElapsedTime(float *ms, void *a, void *b) { calls[39]++; (void)a; (void)b; *ms = 0; return 0; }
CUresult cuGetErrorName(CUresult r, const char **name) { calls[40]++; (void)r; *name = "CUDA_ERROR_FAKE"; return 0; }
CUresult cuGetErrorString(CUresult r, const char **m) { calls[41]++; (void)r; *m = "fake driver error"; return 0; }
// NVRTC looks this up in whatever libcuda.so.1 it finds; "not found" makes it carry on alone.
CUresult cuGetExportTable(const void **table, const void *id) { calls[42]++; (void)id; *table = NULL; return 500; }

__attribute__((destructor)) static void report(void) {
    if (!getenv("FAKE_CUDA_COUNTS")) return;
    for (int i = 0; i < (int)(sizeof calls / sizeof calls[0]); i++)
        if (calls[i]) fprintf(stderr, "fake_cuda: %s %llu\n", names[i], calls[i]);
}
