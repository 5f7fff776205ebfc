// The text of Sources/CDNLSKernels/include/dnls_kernels.h, which NVRTC compiles at the top of every
// kernel module while Swift imports the same header as the CDNLSKernels module. A copy, not a build
// step: a build plugin's tool is an executable, which the fuzzing build (libFuzzer supplies `main`)
// cannot link. CUDAKernelModuleTests fails when the two differ; copy the header here after editing it.
extension CUDAKernelSource {
    static let parameters = #"""
/*
 * The parameters of the DNLS CUDA kernels, declared once for both sides of a launch: Swift reads
 * this header through the CDNLSKernels module and fills the structs; NVRTC compiles it at the top
 * of every kernel module, where each converted kernel takes its struct by value as its only
 * parameter. Both sides lay the structs out by the same C rules (8-byte pointers and i64, 4-byte
 * int and float), so the bytes Swift passes are the fields the kernel reads.
 *
 * Under NVRTC a device pointer field is a typed C pointer; on the host it is the 64-bit device
 * address (CUdeviceptr), which Swift sees as UInt64.
 */
#ifndef DNLS_KERNELS_H
#define DNLS_KERNELS_H

#ifdef __CUDACC_RTC__
typedef long long dnls_i64;
#define DNLS_DEVICE(type) type*
#else
#include <stdint.h>
typedef int64_t dnls_i64;
#define DNLS_DEVICE(type) uint64_t
#endif

/* Tensor math (one thread per output element; sums in double, in an order fixed by the shapes). */

/* out[i] = value for i < count. */
typedef struct DNLSMathFill {
    DNLS_DEVICE(float) out;
    float value;
    dnls_i64 count;
} DNLSMathFill;

/* out[i] = a[i] op b[i]; op: 0 add, 1 subtract, 2 multiply, 3 divide. */
typedef struct DNLSMathCombine {
    DNLS_DEVICE(const float) a;
    DNLS_DEVICE(const float) b;
    DNLS_DEVICE(float) out;
    dnls_i64 count;
    int op;
} DNLSMathCombine;

/* out[i] = scale · a[i], times factor[0] when factor is not null (read on the device). */
typedef struct DNLSMathScale {
    DNLS_DEVICE(const float) a;
    DNLS_DEVICE(const float) factor;
    float scale;
    DNLS_DEVICE(float) out;
    dnls_i64 count;
} DNLSMathScale;

/* out[i] = exp(a[i]). */
typedef struct DNLSMathExp {
    DNLS_DEVICE(const float) a;
    DNLS_DEVICE(float) out;
    dnls_i64 count;
} DNLSMathExp;

/* y = the softmax of each of `rows` rows of `length` of x. */
typedef struct DNLSMathSoftmax {
    DNLS_DEVICE(const float) x;
    DNLS_DEVICE(float) y;
    dnls_i64 rows;
    int length;
} DNLSMathSoftmax;

/* The softmax's adjoint: out = y ⊙ (gradient − Σ gradient ⊙ y) per row. */
typedef struct DNLSMathSoftmaxBackward {
    DNLS_DEVICE(const float) y;
    DNLS_DEVICE(const float) gradient;
    DNLS_DEVICE(float) out;
    dnls_i64 rows;
    int length;
} DNLSMathSoftmaxBackward;

#endif
"""#
}
