// PNG through libpng's low-level API with only the transforms that keep stored sample values
// (palette lookup, 1/2/4-bit gray to 8 bits, alpha stripped: no gamma, no colour management, no
// compositing), and JPEG through libjpeg. Both decode from memory (the Swift side reads regular
// files only) with error handlers that return here by longjmp instead of calling abort() or
// exit(), and both check the declared dimensions before allocating the picture. Linked
// statically (see Package.swift).
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

void dnls_image_free(dnls_image *image) {
    if (image && image->pixels) { free(image->pixels); image->pixels = NULL; }
}

/// Writes a refusal naming the declared size into `message` and returns 0 when width × height ×
/// channels exceeds DNLS_IMAGE_MAX_SAMPLES (computed without overflow), else returns 1.
static int check_samples(const char *kind, size_t width, size_t height, size_t channels,
                         char *message, size_t size) {
    size_t limit = DNLS_IMAGE_MAX_SAMPLES;
    if (width == 0 || height == 0) {
        snprintf(message, size, "the %s declares %zu × %zu pixels: an empty picture", kind, width, height);
        return 0;
    }
    if (width > limit / height || width * height > limit / channels) {
        snprintf(message, size, "the %s declares %zu × %zu pixels × %zu channel%s, more than the %zu samples "
                 "(2^28) DNLS reads", kind, width, height, channels, channels == 1 ? "" : "s", limit);
        return 0;
    }
    return 1;
}

// MARK: PNG

struct png_source {
    const unsigned char *data;
    size_t size;
    size_t offset;
};

struct png_failure {
    char message[384];
    char warning[128];  // the last warning, which often says why the error came (libpng checks IHDR so)
};

static void png_read_memory(png_structp png, png_bytep out, size_t length) {
    struct png_source *source = (struct png_source *)png_get_io_ptr(png);
    if (length > source->size - source->offset) {
        png_error(png, "the file is truncated (it ends inside a chunk)");
    }
    memcpy(out, source->data + source->offset, length);
    source->offset += length;
}

static void png_fail(png_structp png, png_const_charp message) {
    struct png_failure *failure = (struct png_failure *)png_get_error_ptr(png);
    if (failure->message[0] == 0) { snprintf(failure->message, sizeof failure->message, "%s", message); }
    png_longjmp(png, 1);
}

static void png_warn(png_structp png, png_const_charp message) {
    struct png_failure *failure = (struct png_failure *)png_get_error_ptr(png);
    snprintf(failure->warning, sizeof failure->warning, "%s", message);
}

/// Ends decoding with DNLS's own message in `failure` (no libpng warning appended).
__attribute__((noreturn)) static void own_error(png_structp png, struct png_failure *failure) {
    failure->warning[0] = 0;
    png_longjmp(png, 1);
}

int dnls_png_decode(const unsigned char *data, size_t size, dnls_image *out, char *error, size_t errorSize) {
    memset(out, 0, sizeof *out);
    struct png_failure failure;
    memset(&failure, 0, sizeof failure);
    struct png_source source = {data, size, 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &failure, png_fail, png_warn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_read_struct(&png, NULL, NULL);
        set_error(error, errorSize, "out of memory");
        return -1;
    }
    unsigned char *volatile pixels = NULL;
    unsigned char *volatile indices = NULL;
    if (setjmp(png_jmpbuf(png))) {
        if (error && errorSize > 0) {
            const char *message = failure.message[0] ? failure.message : "libpng failed";
            if (failure.warning[0]) {
                snprintf(error, errorSize, "%s (%s)", message, failure.warning);
            } else {
                snprintf(error, errorSize, "%s", message);
            }
        }
        png_destroy_read_struct(&png, &info, NULL);
        free(pixels);
        free(indices);
        return -1;
    }
    png_set_read_fn(png, &source, png_read_memory);
    // Corruption that libpng would only warn about (bad CRCs, image data left over) is an error,
    // as for JPEG.
    png_set_benign_errors(png, 0);
    png_set_crc_action(png, PNG_CRC_DEFAULT, PNG_CRC_ERROR_QUIT);
    // Every chunk but IHDR, PLTE, IDAT and IEND is skipped unread: gamma (gAMA), colour (cHRM,
    // sRGB, iCCP), significant bits (sBIT), transparency (tRNS: alpha is dropped anyway), text.
    // So nothing changes the stored values, and no compressed text or profile is inflated.
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, (png_const_bytep) "tRNS", 1);
    png_read_info(png, info);

    png_uint_32 width = 0, height = 0;
    int depth = 0, colorType = 0, interlace = 0;
    png_get_IHDR(png, info, &width, &height, &depth, &colorType, &interlace, NULL, NULL);
    if (depth == 16) {
        snprintf(failure.message, sizeof failure.message, "16-bit PNG is not supported: DNLS reads 8-bit PNG (gray, "
                 "gray+alpha, RGB, RGBA, palette); convert it to 8 bits per channel");
        own_error(png, &failure);
    }
    int isPalette = colorType == PNG_COLOR_TYPE_PALETTE;
    size_t channels = (colorType & PNG_COLOR_MASK_COLOR) ? 3 : 1;  // palette images have the colour bit
    if (!check_samples("PNG", width, height, channels, failure.message, sizeof failure.message)) {
        own_error(png, &failure);
    }
    // Deflate packs at most 1032 bytes into one, so a file too small for the declared rows is
    // refused before the picture is allocated.
    size_t inputRowBytes = ((size_t)width * (size_t)png_get_channels(png, info) * (size_t)depth + 7) / 8 + 1;
    if (inputRowBytes * height / 1032 > size) {
        snprintf(failure.message, sizeof failure.message, "the PNG declares %u × %u pixels, more than its %zu bytes "
                 "can hold: the file is truncated or corrupt", (unsigned)width, (unsigned)height, size);
        own_error(png, &failure);
    }
    // Palette indices are read as bytes and looked up here, so that an index past the palette is
    // an error (libpng checks only 1, 2 and 4-bit indices, and reads the others as black).
    if (isPalette && depth < 8) { png_set_packing(png); }
    if (colorType == PNG_COLOR_TYPE_GRAY && depth < 8) { png_set_expand_gray_1_2_4_to_8(png); }
    if (colorType & PNG_COLOR_MASK_ALPHA) { png_set_strip_alpha(png); }
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t decoded = isPalette ? 1 : channels;
    size_t rowBytes = png_get_rowbytes(png, info);
    if (png_get_bit_depth(png, info) != 8 || png_get_channels(png, info) != decoded || rowBytes != width * decoded) {
        snprintf(failure.message, sizeof failure.message, "unexpected PNG layout after decoding (%d-bit, %d channels)",
                 png_get_bit_depth(png, info), png_get_channels(png, info));
        own_error(png, &failure);
    }
    unsigned char *rows = malloc(rowBytes * height);
    if (isPalette) { indices = rows; } else { pixels = rows; }
    if (!rows) {
        snprintf(failure.message, sizeof failure.message, "out of memory for %u × %u pixels", (unsigned)width,
                 (unsigned)height);
        own_error(png, &failure);
    }
    for (int pass = 0; pass < passes; pass++) {
        for (png_uint_32 y = 0; y < height; y++) { png_read_row(png, rows + (size_t)y * rowBytes, NULL); }
    }
    png_read_end(png, NULL);
    if (isPalette) {
        png_colorp palette = NULL;
        int entries = 0;
        if (!png_get_PLTE(png, info, &palette, &entries)) {
            snprintf(failure.message, sizeof failure.message, "the palette PNG has no PLTE chunk");
            own_error(png, &failure);
        }
        pixels = malloc((size_t)width * height * 3);
        if (!pixels) {
            snprintf(failure.message, sizeof failure.message, "out of memory for %u × %u pixels", (unsigned)width,
                     (unsigned)height);
            own_error(png, &failure);
        }
        for (size_t i = 0; i < (size_t)width * height; i++) {
            int index = indices[i];
            if (index >= entries) {
                snprintf(failure.message, sizeof failure.message, "pixel (%zu, %zu) uses palette index %d, past the "
                         "%d-entry palette", i % width, i / width, index, entries);
                own_error(png, &failure);
            }
            pixels[3 * i] = palette[index].red;
            pixels[3 * i + 1] = palette[index].green;
            pixels[3 * i + 2] = palette[index].blue;
        }
        free(indices);
        indices = NULL;
    }
    png_destroy_read_struct(&png, &info, NULL);
    out->pixels = pixels;
    out->width = (int)width;
    out->height = (int)height;
    out->channels = (int)channels;
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
    // Speed over size (one filter, fast deflate): the same pixels, written several times faster;
    // encoding was most of the time of writing a denoised HD video's pictures.
    image.flags = PNG_IMAGE_FLAG_FAST;
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

/// Progressive JPEGs with more scans than this are refused: each scan is a pass over the whole
/// picture, and a few bytes can declare one, so unbounded scans are a way to hang the decoder.
#define DNLS_JPEG_MAX_SCANS 500

static void jpeg_progress(j_common_ptr info) {
    j_decompress_ptr decompress = (j_decompress_ptr)info;
    if (decompress->input_scan_number > DNLS_JPEG_MAX_SCANS) {
        struct dnls_jpeg_error *err = (struct dnls_jpeg_error *)info->err;
        snprintf(err->message, sizeof err->message, "the JPEG has more than %d scans", DNLS_JPEG_MAX_SCANS);
        longjmp(err->jump, 1);
    }
}

int dnls_jpeg_decode(const unsigned char *data, size_t size, dnls_image *out, char *error, size_t errorSize) {
    memset(out, 0, sizeof *out);
    struct jpeg_decompress_struct info;
    struct dnls_jpeg_error err;
    struct jpeg_progress_mgr progress;
    unsigned char *volatile pixels = NULL;
    memset(&info, 0, sizeof info);
    info.err = jpeg_std_error(&err.base);
    err.base.error_exit = jpeg_fail;
    err.base.emit_message = jpeg_message;
    err.message[0] = 0;
    if (setjmp(err.jump)) {
        set_error(error, errorSize, err.message);
        jpeg_destroy_decompress(&info);
        free(pixels);
        return -1;
    }
    jpeg_create_decompress(&info);
    // Large buffers (whole-picture coefficients of progressive JPEGs) beyond this are an error.
    info.mem->max_memory_to_use = 1L << 30;
    progress.progress_monitor = jpeg_progress;
    info.progress = &progress;
    jpeg_mem_src(&info, data, (unsigned long)size);
    jpeg_read_header(&info, TRUE);
    if (info.num_components == 1) {
        info.out_color_space = JCS_GRAYSCALE;
    } else if (info.num_components == 3 && (info.jpeg_color_space == JCS_YCbCr || info.jpeg_color_space == JCS_RGB)) {
        info.out_color_space = JCS_RGB;
    } else {
        snprintf(err.message, sizeof err.message,
                 "unsupported JPEG colour space (%d components): DNLS reads gray and RGB JPEG", info.num_components);
        longjmp(err.jump, 1);
    }
    size_t declared = info.out_color_space == JCS_RGB ? 3 : 1;
    if (!check_samples("JPEG", info.image_width, info.image_height, declared, err.message, sizeof err.message)) {
        longjmp(err.jump, 1);
    }
    jpeg_start_decompress(&info);
    size_t width = info.output_width, height = info.output_height, channels = info.output_components;
    if (width != info.image_width || height != info.image_height || channels != declared) {
        snprintf(err.message, sizeof err.message, "unexpected JPEG layout after decoding");
        longjmp(err.jump, 1);
    }
    pixels = malloc(width * height * channels);
    if (!pixels) { snprintf(err.message, sizeof err.message, "out of memory"); longjmp(err.jump, 1); }
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = pixels + (size_t)info.output_scanline * width * channels;
        if (jpeg_read_scanlines(&info, &row, 1) != 1) {
            snprintf(err.message, sizeof err.message, "the JPEG data ends early");
            longjmp(err.jump, 1);
        }
    }
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
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
