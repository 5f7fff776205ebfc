// PNG through libpng's simplified API, JPEG through libjpeg with an error manager that returns
// (by longjmp, here in C) instead of calling exit(). Linked statically (see Package.swift).
#include "CImageCodecs.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <errno.h>
#include <png.h>
#include <jpeglib.h>

static void set_error(char *error, size_t size, const char *message) {
    if (error && size > 0) { snprintf(error, size, "%s", message); }
}

/// libpng's message, with "Read Error" (what it says when the file ends early) explained.
static void set_png_error(char *error, size_t size, const char *message) {
    if (strcmp(message, "Read Error") == 0) {
        set_error(error, size, "the file is truncated or unreadable (libpng: Read Error)");
    } else {
        set_error(error, size, message);
    }
}

void dnls_image_free(dnls_image *image) {
    if (image && image->pixels) { free(image->pixels); image->pixels = NULL; }
}

int dnls_png_read(const char *path, dnls_image *out, char *error, size_t errorSize) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    memset(out, 0, sizeof *out);
    if (!png_image_begin_read_from_file(&image, path)) {
        set_png_error(error, errorSize, image.message);
        png_image_free(&image);
        return -1;
    }
    if (image.format & PNG_FORMAT_FLAG_LINEAR) {
        set_error(error, errorSize, "16-bit PNG is not supported: DNLS reads 8-bit PNG (gray, gray+alpha, RGB, RGBA, palette); convert it to 8 bits per channel");
        png_image_free(&image);
        return -1;
    }
    int color = (image.format & PNG_FORMAT_FLAG_COLOR) != 0;
    // Read with alpha so that nothing is composited, then drop the alpha channel.
    image.format = color ? PNG_FORMAT_RGBA : PNG_FORMAT_GA;
    size_t width = image.width, height = image.height;
    if (width == 0 || height == 0 || width > 65536 || height > 65536) {
        set_error(error, errorSize, "unsupported image size");
        png_image_free(&image);
        return -1;
    }
    size_t inChannels = color ? 4 : 2, outChannels = color ? 3 : 1;
    unsigned char *buffer = malloc(PNG_IMAGE_SIZE(image));
    unsigned char *pixels = malloc(width * height * outChannels);
    if (!buffer || !pixels) {
        free(buffer); free(pixels); png_image_free(&image);
        set_error(error, errorSize, "out of memory");
        return -1;
    }
    if (!png_image_finish_read(&image, NULL, buffer, 0, NULL)) {
        set_png_error(error, errorSize, image.message);
        free(buffer); free(pixels); png_image_free(&image);
        return -1;
    }
    for (size_t i = 0; i < width * height; i++) {
        for (size_t c = 0; c < outChannels; c++) { pixels[i * outChannels + c] = buffer[i * inChannels + c]; }
    }
    free(buffer);
    png_image_free(&image);
    out->pixels = pixels;
    out->width = (int)width;
    out->height = (int)height;
    out->channels = (int)outChannels;
    return 0;
}

static int png_write(const char *path, const void *pixels, int width, int height, png_uint_32 format,
                     char *error, size_t errorSize) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = (png_uint_32)width;
    image.height = (png_uint_32)height;
    image.format = format;
    if (!png_image_write_to_file(&image, path, 0, pixels, 0, NULL)) {
        set_error(error, errorSize, image.message);
        png_image_free(&image);
        return -1;
    }
    png_image_free(&image);
    return 0;
}

int dnls_png_write(const char *path, const unsigned char *pixels, int width, int height, int channels,
                   char *error, size_t errorSize) {
    if (channels != 1 && channels != 3) { set_error(error, errorSize, "channels must be 1 or 3"); return -1; }
    return png_write(path, pixels, width, height, channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY, error, errorSize);
}

int dnls_png_write_gray16(const char *path, const unsigned short *pixels, int width, int height,
                          char *error, size_t errorSize) {
    return png_write(path, pixels, width, height, PNG_FORMAT_LINEAR_Y, error, errorSize);
}

// JPEG: errors and warnings (corrupt or truncated data) jump back here with the message.
struct dnls_jpeg_error {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

static void jpeg_fail(j_common_ptr info) {
    struct dnls_jpeg_error *err = (struct dnls_jpeg_error *)info->err;
    (*info->err->format_message)(info, err->message);
    longjmp(err->jump, 1);
}

static void jpeg_message(j_common_ptr info, int level) {
    // level < 0: a warning, which libjpeg gives for corrupt or truncated data. Treat it as an error.
    if (level < 0) { jpeg_fail(info); }
}

int dnls_jpeg_read(const char *path, dnls_image *out, char *error, size_t errorSize) {
    memset(out, 0, sizeof *out);
    FILE *file = fopen(path, "rb");
    if (!file) {
        char message[256];
        snprintf(message, sizeof message, "cannot open for reading: %s (errno %d)", strerror(errno), errno);
        set_error(error, errorSize, message);
        return -1;
    }
    struct jpeg_decompress_struct info;
    struct dnls_jpeg_error err;
    unsigned char *volatile pixels = NULL;
    info.err = jpeg_std_error(&err.base);
    err.base.error_exit = jpeg_fail;
    err.base.emit_message = jpeg_message;
    if (setjmp(err.jump)) {
        set_error(error, errorSize, err.message);
        jpeg_destroy_decompress(&info);
        fclose(file);
        free(pixels);
        return -1;
    }
    jpeg_create_decompress(&info);
    jpeg_stdio_src(&info, file);
    jpeg_read_header(&info, TRUE);
    if (info.num_components == 1) {
        info.out_color_space = JCS_GRAYSCALE;
    } else if (info.jpeg_color_space == JCS_YCbCr || info.jpeg_color_space == JCS_RGB) {
        info.out_color_space = JCS_RGB;
    } else {
        snprintf(err.message, sizeof err.message,
                 "unsupported JPEG colour space (%d components): DNLS reads gray and RGB JPEG", info.num_components);
        longjmp(err.jump, 1);
    }
    jpeg_start_decompress(&info);
    size_t width = info.output_width, height = info.output_height, channels = info.output_components;
    pixels = malloc(width * height * channels);
    if (!pixels) { snprintf(err.message, sizeof err.message, "out of memory"); longjmp(err.jump, 1); }
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = pixels + (size_t)info.output_scanline * width * channels;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    fclose(file);
    out->pixels = pixels;
    out->width = (int)width;
    out->height = (int)height;
    out->channels = (int)channels;
    return 0;
}

int dnls_jpeg_write(const char *path, const unsigned char *pixels, int width, int height, int channels,
                    int quality, char *error, size_t errorSize) {
    if (channels != 1 && channels != 3) { set_error(error, errorSize, "channels must be 1 or 3"); return -1; }
    FILE *file = fopen(path, "wb");
    if (!file) { set_error(error, errorSize, strerror(errno)); return -1; }
    struct jpeg_compress_struct info;
    struct dnls_jpeg_error err;
    info.err = jpeg_std_error(&err.base);
    err.base.error_exit = jpeg_fail;
    err.base.emit_message = jpeg_message;
    if (setjmp(err.jump)) {
        set_error(error, errorSize, err.message);
        jpeg_destroy_compress(&info);
        fclose(file);
        remove(path);
        return -1;
    }
    jpeg_create_compress(&info);
    jpeg_stdio_dest(&info, file);
    info.image_width = (JDIMENSION)width;
    info.image_height = (JDIMENSION)height;
    info.input_components = channels;
    info.in_color_space = channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, quality, TRUE);
    jpeg_start_compress(&info, TRUE);
    while (info.next_scanline < info.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)info.next_scanline * width * channels);
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    jpeg_destroy_compress(&info);
    if (fclose(file) != 0) { set_error(error, errorSize, strerror(errno)); remove(path); return -1; }
    return 0;
}
