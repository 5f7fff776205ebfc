#ifndef DNLS_CIMAGECODECS_H
#define DNLS_CIMAGECODECS_H
#include <stddef.h>

/// The most samples (width × height × channels) a decoded picture may have: 2^28, a 1 GiB
/// `Float` tensor. Larger declared sizes are refused before anything is allocated.
#define DNLS_IMAGE_MAX_SAMPLES 268435456

/// Decoded 8-bit pixels, interleaved (H, W, C), C = 1 (gray) or 3 (RGB); alpha is dropped.
/// `pixels` is malloc'd; free it with dnls_image_free.
typedef struct {
    unsigned char *pixels;
    int width;
    int height;
    int channels;
} dnls_image;

/// Each returns 0 on success, or -1 with a message in `error` (nothing allocated, nothing written).
/// Decodes the PNG file held in `data`: 8-bit gray, gray+alpha, RGB, RGBA or palette, sample
/// values as stored (no gamma or colour conversion; 1/2/4-bit gray scaled to 8 bits).
int dnls_png_decode(const unsigned char *data, size_t size, dnls_image *out, char *error, size_t errorSize);
/// Writes 8-bit gray (channels 1) or RGB (channels 3) pixels as a PNG file.
int dnls_png_write(const char *path, const unsigned char *pixels, int width, int height, int channels,
                   char *error, size_t errorSize);
/// Writes 16-bit gray pixels (used by tests to make 16-bit files).
int dnls_png_write_gray16(const char *path, const unsigned short *pixels, int width, int height,
                          char *error, size_t errorSize);
/// Decodes the gray or RGB (YCbCr) JPEG file held in `data`.
int dnls_jpeg_decode(const unsigned char *data, size_t size, dnls_image *out, char *error, size_t errorSize);
/// Writes gray or RGB pixels as a baseline JPEG (used by tests to make JPEG files).
int dnls_jpeg_write(const char *path, const unsigned char *pixels, int width, int height, int channels,
                    int quality, char *error, size_t errorSize);
void dnls_image_free(dnls_image *image);

#endif
