// The few CUDA driver and NVRTC types and entry points DNLS calls, declared here so that no CUDA
// toolkit is needed at build time. Everything is resolved at run time with dlopen/dlsym; these are
// only the C types of those symbols. Values and signatures follow the public driver API (cuda.h)
// and NVRTC (nvrtc.h); only what DNLS uses is declared.
#ifndef DNLS_CCUDA_H
#define DNLS_CCUDA_H

#include <stddef.h>

typedef int CUresult;                       // 0 = CUDA_SUCCESS
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;
typedef struct CUmemPoolHandle_st *CUmemoryPool;

typedef int nvrtcResult;                    // 0 = NVRTC_SUCCESS
typedef struct _nvrtcProgram *nvrtcProgram;

// Device attributes used by DNLS (values from cuda.h's CUdevice_attribute).
enum {
    DNLS_CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 1,
    DNLS_CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK = 8,
    DNLS_CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
    DNLS_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
    DNLS_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
    DNLS_CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97,
    DNLS_CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED = 115,
};

// Memory pool attributes used by DNLS (values from cuda.h's CUmemPool_attribute; all cuuint64_t).
enum {
    DNLS_CU_MEMPOOL_ATTR_RELEASE_THRESHOLD = 4,
    DNLS_CU_MEMPOOL_ATTR_USED_MEM_CURRENT = 7,
    DNLS_CU_MEMPOOL_ATTR_USED_MEM_HIGH = 8,
};

// Result codes DNLS acts on.
enum { DNLS_CUDA_ERROR_OUT_OF_MEMORY = 2, DNLS_CUDA_ERROR_NOT_READY = 600 };

// cuda.h's CUmemPoolProps (88 bytes): a pinned, device-resident pool of one GPU, no export handles.
struct DNLSMemPoolProps {
    int allocType;                  // CU_MEM_ALLOCATION_TYPE_PINNED = 1
    int handleTypes;                // CU_MEM_HANDLE_TYPE_NONE = 0
    struct { int type; int id; } location;  // CU_MEM_LOCATION_TYPE_DEVICE = 1, the ordinal
    void *win32SecurityAttributes;
    size_t maxSize;                 // 0: the system's default limit
    unsigned short usage;
    unsigned char reserved[54];
};

// Function attribute: the dynamic shared memory a kernel may ask for.
enum { DNLS_CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8 };

// Driver API.
typedef CUresult (*PFN_cuInit)(unsigned int flags);
typedef CUresult (*PFN_cuDriverGetVersion)(int *version);
typedef CUresult (*PFN_cuDeviceGetCount)(int *count);
typedef CUresult (*PFN_cuDeviceGet)(CUdevice *device, int ordinal);
typedef CUresult (*PFN_cuDeviceGetName)(char *name, int length, CUdevice device);
typedef CUresult (*PFN_cuDeviceGetAttribute)(int *value, int attribute, CUdevice device);
typedef CUresult (*PFN_cuDeviceTotalMem)(size_t *bytes, CUdevice device);
typedef CUresult (*PFN_cuDevicePrimaryCtxRetain)(CUcontext *context, CUdevice device);
typedef CUresult (*PFN_cuDevicePrimaryCtxRelease)(CUdevice device);
typedef CUresult (*PFN_cuCtxSetCurrent)(CUcontext context);
typedef CUresult (*PFN_cuCtxSynchronize)(void);
typedef CUresult (*PFN_cuMemGetInfo)(size_t *free, size_t *total);
typedef CUresult (*PFN_cuMemAlloc)(CUdeviceptr *pointer, size_t bytes);
typedef CUresult (*PFN_cuMemFree)(CUdeviceptr pointer);
// Copies and fills are all stream-ordered: DNLS makes no synchronous copy.
typedef CUresult (*PFN_cuMemcpyHtoDAsync)(CUdeviceptr destination, const void *source, size_t bytes, CUstream stream);
typedef CUresult (*PFN_cuMemcpyDtoHAsync)(void *destination, CUdeviceptr source, size_t bytes, CUstream stream);
typedef CUresult (*PFN_cuMemcpyDtoDAsync)(CUdeviceptr destination, CUdeviceptr source, size_t bytes, CUstream stream);
typedef CUresult (*PFN_cuMemsetD32Async)(CUdeviceptr destination, unsigned int value, size_t count, CUstream stream);
typedef CUresult (*PFN_cuModuleLoadData)(CUmodule *module, const void *image);
typedef CUresult (*PFN_cuModuleUnload)(CUmodule module);
typedef CUresult (*PFN_cuModuleGetFunction)(CUfunction *function, CUmodule module, const char *name);
typedef CUresult (*PFN_cuFuncSetAttribute)(CUfunction function, int attribute, int value);
typedef CUresult (*PFN_cuLaunchKernel)(CUfunction function,
                                       unsigned int gridX, unsigned int gridY, unsigned int gridZ,
                                       unsigned int blockX, unsigned int blockY, unsigned int blockZ,
                                       unsigned int sharedBytes, CUstream stream,
                                       void **parameters, void **extra);
typedef CUresult (*PFN_cuStreamCreate)(CUstream *stream, unsigned int flags);
typedef CUresult (*PFN_cuStreamDestroy)(CUstream stream);
typedef CUresult (*PFN_cuStreamSynchronize)(CUstream stream);
typedef CUresult (*PFN_cuStreamWaitEvent)(CUstream stream, CUevent event, unsigned int flags);
typedef CUresult (*PFN_cuEventCreate)(CUevent *event, unsigned int flags);
typedef CUresult (*PFN_cuEventDestroy)(CUevent event);
typedef CUresult (*PFN_cuEventRecord)(CUevent event, CUstream stream);
typedef CUresult (*PFN_cuEventSynchronize)(CUevent event);
typedef CUresult (*PFN_cuEventQuery)(CUevent event);
typedef CUresult (*PFN_cuEventElapsedTime)(float *milliseconds, CUevent start, CUevent end);
// Stream-ordered allocation (CUDA 11.2+); loaded optionally, so older drivers still work.
typedef CUresult (*PFN_cuMemFreeAsync)(CUdeviceptr pointer, CUstream stream);
typedef CUresult (*PFN_cuMemAllocFromPoolAsync)(CUdeviceptr *pointer, size_t bytes, CUmemoryPool pool, CUstream stream);
typedef CUresult (*PFN_cuMemPoolCreate)(CUmemoryPool *pool, const struct DNLSMemPoolProps *properties);
typedef CUresult (*PFN_cuMemPoolDestroy)(CUmemoryPool pool);
typedef CUresult (*PFN_cuMemPoolSetAttribute)(CUmemoryPool pool, int attribute, void *value);
typedef CUresult (*PFN_cuMemPoolGetAttribute)(CUmemoryPool pool, int attribute, void *value);
/* CUstreamCaptureStatus: 0 none, 1 active, 2 invalidated. */
typedef CUresult (*PFN_cuStreamIsCapturing)(CUstream stream, int *captureStatus);
typedef CUresult (*PFN_cuGetErrorName)(CUresult error, const char **name);
typedef CUresult (*PFN_cuGetErrorString)(CUresult error, const char **message);

// NVRTC.
typedef const char *(*PFN_nvrtcGetErrorString)(nvrtcResult result);
typedef nvrtcResult (*PFN_nvrtcVersion)(int *major, int *minor);
typedef nvrtcResult (*PFN_nvrtcCreateProgram)(nvrtcProgram *program, const char *source, const char *name,
                                              int headerCount, const char *const *headers,
                                              const char *const *includeNames);
typedef nvrtcResult (*PFN_nvrtcDestroyProgram)(nvrtcProgram *program);
typedef nvrtcResult (*PFN_nvrtcCompileProgram)(nvrtcProgram program, int optionCount, const char *const *options);
typedef nvrtcResult (*PFN_nvrtcGetProgramLogSize)(nvrtcProgram program, size_t *size);
typedef nvrtcResult (*PFN_nvrtcGetProgramLog)(nvrtcProgram program, char *log);
typedef nvrtcResult (*PFN_nvrtcGetCUBINSize)(nvrtcProgram program, size_t *size);
typedef nvrtcResult (*PFN_nvrtcGetCUBIN)(nvrtcProgram program, char *cubin);

#endif
