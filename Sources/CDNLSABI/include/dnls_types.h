/*
 * DNLS C ABI: the types of the functions exported by libDNLSC.so.
 *
 * The functions themselves are declared in dnls.h, which the Swift compiler generates from
 * the library's @c functions; include this header first. Every function returns a status
 * (DNLS_OK or one of the error codes below) and, on error, writes a NUL-terminated sentence
 * naming the argument into call->message. No function keeps a pointer it was given after it
 * returns, and none throws, aborts or longjmps on bad input.
 *
 * Tensors are described in DLPack's DLTensor layout. Supported: float32 on the CPU (fast
 * backend) and on CUDA; float64 on the CPU (reference backend); int32 index tensors. On CUDA,
 * tensors must be contiguous (strides NULL or row-major); on the CPU any strides are accepted.
 * Output tensors are written in place: their memory is the caller's.
 */
#ifndef DNLS_TYPES_H
#define DNLS_TYPES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this ABI: the layout of the structs below and the functions' signatures. */
#define DNLS_ABI_VERSION 1

/* Status codes. */
enum {
    DNLS_OK = 0,
    DNLS_INVALID_ARGUMENT = 1,   /* a scalar argument is out of its range */
    DNLS_SHAPE_MISMATCH = 2,     /* a tensor has the wrong rank or shape */
    DNLS_OUT_OF_RANGE = 3,       /* an index or region names a position outside the video */
    DNLS_NON_FINITE = 4,         /* NaN or infinity where it would poison the result */
    DNLS_DEVICE_MISMATCH = 5,    /* tensors on different devices */
    DNLS_UNAVAILABLE = 6,        /* no GPU, no NVRTC, or an unsupported dtype for a backend */
    DNLS_OUT_OF_MEMORY = 7,      /* an allocation failed or results cannot fit */
    DNLS_WORKSPACE_TOO_SMALL = 8,/* the caller's workspace is smaller than the plan */
    DNLS_DEVICE_FAILURE = 9      /* a driver call or kernel failed */
};

/* DLPack device types and dtype codes used here. */
enum { DNLS_DEVICE_CPU = 1, DNLS_DEVICE_CUDA = 2 };
enum { DNLS_DTYPE_INT = 0, DNLS_DTYPE_FLOAT = 2 };

/* DLDevice. */
typedef struct {
    int32_t device_type;
    int32_t device_id;
} DNLSDevice;

/* DLDataType. */
typedef struct {
    uint8_t code;
    uint8_t bits;
    uint16_t lanes;
} DNLSDataType;

/* DLTensor: strides in elements; NULL strides mean row-major contiguous. */
typedef struct {
    void *data;
    DNLSDevice device;
    int32_t ndim;
    DNLSDataType dtype;
    int64_t *shape;
    int64_t *strides;
    uint64_t byte_offset;
} DNLSTensor;

/* How patches read the video. anchor: 0 centre (entry (a, b) of the patch at (h, w) reads row
 * h + dilation·(a − patch_size/2)), 1 top-left (row h + dilation·a). border: 0 reflect (without
 * repeating the edge, once; anything still outside reads 0), 1 zero. */
typedef struct {
    int32_t patch_size;
    int32_t dilation;
    int32_t anchor;
    int32_t border;
} DNLSGeometry;

/* A search: window of size × size candidates spaced by window_stride, over
 * 2·temporal_radius + 1 frames; k ≤ 0 returns the whole window; metric 0 L2 (ascending),
 * 1 inner product (descending); channels ≤ 0 uses every channel. */
typedef struct {
    DNLSGeometry geometry;
    int32_t window_size;
    int32_t window_stride;
    int32_t temporal_radius;
    int32_t k;
    int32_t metric;
    int32_t channels;
} DNLSSearch;

/* Query positions. kind 0: the grid of the half-open region [t0, t1) × [top, bottom) ×
 * [left, right) with the given stride (full_patches ≠ 0: only positions whose whole patch fits
 * in the region, numbered from the first such position), queries start ..< start + count
 * (count < 0: to the end of the grid); kind 1: explicit int32 positions (B, Q, 3) or (Q, 3). */
typedef struct {
    int32_t kind;
    int32_t t0, t1, top, bottom, left, right;
    int32_t stride;
    int32_t full_patches;
    int64_t start;
    int64_t count;
    const DNLSTensor *positions;
} DNLSQueries;

/* Per-call settings and results.
 * stream: the caller's CUstream (0: the legacy default stream); ignored for CPU tensors.
 * workspace, workspace_bytes: device memory for every temporary of the call (NULL: DNLS
 *   allocates its own); size it with plan_only. With workspace_bytes 0 the workspace is never
 *   read or written: any non-NULL address that is a multiple of 256 then says "allocate nothing".
 * checking: 0 eager (GPU index and weight checks are reported before the call returns; the
 *   host waits for a few bytes), 1 deferred (never waits; see dnls_synchronize).
 * implementation: CPU backend, 0 automatic (fast for float32, reference for float64),
 *   1 reference, 2 fast.
 * plan_only: nonzero: check the arguments and set workspace_needed; run nothing (output and
 *   input data pointers are not touched and may be NULL).
 * workspace_needed: out, the bytes of workspace the call needs.
 * message, message_capacity: out, the error's sentence (truncated to fit, NUL-terminated). */
typedef struct {
    uint64_t stream;
    void *workspace;
    uint64_t workspace_bytes;
    int32_t checking;
    int32_t implementation;
    int32_t plan_only;
    int32_t reserved;
    uint64_t workspace_needed;
    char *message;
    uint64_t message_capacity;
} DNLSCall;

#ifdef __cplusplus
}
#endif

#endif /* DNLS_TYPES_H */
