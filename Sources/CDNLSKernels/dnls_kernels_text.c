/* The kernel headers' bytes, embedded by the compiler from the files both sides use: NVRTC
 * compiles this text, Swift imports the same headers as the CDNLSKernels module. */
#include "dnls_kernels_text.h"

#pragma clang diagnostic ignored "-Wc23-extensions"
static const char parameters[] = {
#embed "include/dnls_kernels.h"
    , 0
};

static const char rules[] = {
#embed "include/dnls_rules.h"
    , 0
};

const char *dnls_kernels_header_text(void) { return parameters; }

const char *dnls_rules_header_text(void) { return rules; }
