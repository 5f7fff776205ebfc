/*
 * The rules every DNLS backend follows, written once: the CUDA kernels compile this header (NVRTC,
 * after dnls_kernels.h) and the CPU backends call the same functions through the CDNLSKernels
 * module, so a grid query's position and number, a flow hop, the ranking of two candidates and a
 * candidate's number come from one definition on every device.
 *
 * Functions that kernels also need in 32-bit arithmetic (divisions in int are several times
 * cheaper on a GPU) are stamped out for both widths from one body.
 */
#ifndef DNLS_RULES_H
#define DNLS_RULES_H

#ifdef __CUDACC_RTC__
#define DNLS_RULE __device__ __forceinline__
#else
#include <math.h>
#include <stdbool.h>
#include "dnls_kernels.h"
#define DNLS_RULE static inline
#endif

/* Query-grid numbering. A grid has `rows` × `cols` positions per frame, `stride` apart, from
 * (t0, h0, w0), numbered in raster order: frame, then row, then column. */

typedef struct DNLSGridPoint {
    dnls_i64 t, h, w;
} DNLSGridPoint;

typedef struct DNLSGridPoint32 {
    int t, h, w;
} DNLSGridPoint32;

/* The position of query number n (n ≥ 0; beyond the last frame it keeps counting frames). */
#define DNLS_GRID_POSITION(NAME, I, POINT)                                                       \
    DNLS_RULE POINT NAME(I n, I t0, I h0, I w0, I stride, I rows, I cols) {                      \
        I plane = rows * cols, frame = n / plane, r = n - frame * plane, row = r / cols;         \
        POINT p;                                                                                 \
        p.t = t0 + frame;                                                                        \
        p.h = h0 + stride * row;                                                                 \
        p.w = w0 + stride * (r - row * cols);                                                    \
        return p;                                                                                \
    }
DNLS_GRID_POSITION(dnls_grid_position, dnls_i64, DNLSGridPoint)
DNLS_GRID_POSITION(dnls_grid_position32, int, DNLSGridPoint32)

/* The number of the query at grid frame `frame`, grid row `row`, grid column `col` (each counted
 * from the grid's origin in grid steps), 64-bit. */
DNLS_RULE dnls_i64 dnls_grid_number(dnls_i64 frame, dnls_i64 row, dnls_i64 col, dnls_i64 rows, dnls_i64 cols) {
    return (frame * rows + row) * cols + col;
}

/* The number of the query at (t, h, w) on a grid of `frames` frames, or -1 when no query is there.
 * Stride 1 needs no division. The number is 64-bit at either coordinate width. */
#define DNLS_GRID_QUERY(NAME, I)                                                                 \
    DNLS_RULE dnls_i64 NAME(I t, I h, I w, I t0, I h0, I w0, I stride, I frames, I rows, I cols) { \
        I dt = t - t0, dh = h - h0, dw = w - w0;                                                 \
        if (dt < 0 || dt >= frames || dh < 0 || dw < 0) return -1;                               \
        if (stride != 1) {                                                                       \
            if (dh % stride != 0 || dw % stride != 0) return -1;                                 \
            dh /= stride;                                                                        \
            dw /= stride;                                                                        \
        }                                                                                        \
        if (dh >= rows || dw >= cols) return -1;                                                 \
        return dnls_grid_number(dt, dh, dw, rows, cols);                                         \
    }
DNLS_GRID_QUERY(dnls_grid_query, dnls_i64)
DNLS_GRID_QUERY(dnls_grid_query32, int)

/* One hop of the flow chain: the centre x moved by the flow d, rounded half up and clamped into
 * [0, last], computed in the flow's precision (x and last are integers held in it). */
#define DNLS_FLOW_HOP(NAME, S, FLOOR, FMIN, FMAX)                                                \
    DNLS_RULE S NAME(S x, S d, S last) { return FMIN(FMAX(FLOOR((x + d) + (S)0.5), (S)0), last); }
DNLS_FLOW_HOP(dnls_flow_hop, float, floorf, fminf, fmaxf)
DNLS_FLOW_HOP(dnls_flow_hop_double, double, floor, fmin, fmax)

/* The ranking of search candidates: whether candidate (ka, ea) goes ahead of (kb, eb), where k is
 * the key (smaller is better: a distance, or a negated similarity) and e the candidate number.
 * Ties go to the smaller number; NaN ranks after every number, NaNs by number. */
#define DNLS_AHEAD(NAME, S)                                                                      \
    DNLS_RULE bool NAME(S ka, dnls_i64 ea, S kb, dnls_i64 eb) {                                  \
        if (isnan(ka)) return isnan(kb) && ea < eb;                                              \
        if (isnan(kb)) return true;                                                              \
        return ka < kb || (ka == kb && ea < eb);                                                 \
    }
DNLS_AHEAD(dnls_ahead, float)
DNLS_AHEAD(dnls_ahead_double, double)

/* Candidate numbering. A query's candidates are numbered frame slot by frame slot (the visiting
 * order), then window row, then window column, in a window of ws × ws: the number is the slot of
 * a whole-window search's output, and the tie order of the ranking. */

typedef struct DNLSCandidate {
    int slot, row, col;
} DNLSCandidate;

DNLS_RULE int dnls_candidate_number(int slot, int row, int col, int ws) { return (slot * ws + row) * ws + col; }

DNLS_RULE DNLSCandidate dnls_candidate(int number, int ws) {
    int perFrame = ws * ws, inFrame = number % perFrame;
    DNLSCandidate c;
    c.slot = number / perFrame;
    c.row = inFrame / ws;
    c.col = inFrame % ws;
    return c;
}

#endif
