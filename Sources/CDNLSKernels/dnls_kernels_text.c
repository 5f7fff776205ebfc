/* The parameter header's bytes, embedded by the compiler from the one file both sides use: NVRTC
 * compiles this text, Swift imports the same header as the CDNLSKernels module. */
#include "dnls_kernels_text.h"

#pragma clang diagnostic ignored "-Wc23-extensions"
static const char text[] = {
#embed "include/dnls_kernels.h"
    , 0
};

const char *dnls_kernels_header_text(void) { return text; }
