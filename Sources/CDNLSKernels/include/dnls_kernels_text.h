/* The text of the kernel headers, for the library to hand to NVRTC (host only). */
#ifndef DNLS_KERNELS_TEXT_H
#define DNLS_KERNELS_TEXT_H

/* dnls_kernels.h as a NUL-terminated string, byte for byte. */
const char *dnls_kernels_header_text(void);

/* dnls_rules.h as a NUL-terminated string, byte for byte. */
const char *dnls_rules_header_text(void);

#endif
