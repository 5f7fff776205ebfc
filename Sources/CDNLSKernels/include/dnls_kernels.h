/*
 * The parameters of the DNLS CUDA kernels, declared once for both sides of a launch: Swift reads
 * this header through the CDNLSKernels module and fills the structs; NVRTC compiles it at the top
 * of every kernel module, where each kernel takes its struct by value as its only parameter. Both
 * sides lay the structs out by the same C rules (8-byte pointers and i64, 4-byte int and float),
 * so the bytes Swift passes are the fields the kernel reads.
 *
 * Under NVRTC a device pointer field is a typed C pointer; on the host it is the 64-bit device
 * address (CUdeviceptr), which Swift sees as UInt64 (0 for a null pointer). Video dimensions are
 * B (batch), T (frames), C (channels), H (height) and W (width); ps is the patch size.
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

/* Shared parts. */

/* A grid of query or site positions (a batch of a QueryGrid): item q of the batch starting at
 * `start` is at (t0 + n / (rows·cols), h0 + stride·(n / cols % rows), w0 + stride·(n % cols)),
 * n = start + q. on = 0 (all zero): no grid; positions come from a table instead. */
typedef struct DNLSGrid {
    int on, t0, h0, w0, stride, frames, rows, cols;
    dnls_i64 start;
} DNLSGrid;

/* One pass of a device anchor table: the sites anchored at pixel pixel0 + p of the pass are
 * members[starts[p] ..< starts[p + 1]], numbered from `first`. starts = 0: no table. */
typedef struct DNLSAnchors {
    DNLS_DEVICE(const int) starts;
    DNLS_DEVICE(const int) members;
    dnls_i64 first, pixel0, pixels;
} DNLSAnchors;

/* The patch search. `block` is the geometry table block (resolved rows and columns, patch and
 * window offsets, frame orders); F frames searched per query, `slots` kept per query. */

/* One thread per query (explicit queries or a grid, flows or none); l2: squared L2, else inner product. */
typedef struct DNLSSearchForward {
    DNLS_DEVICE(const float) video;
    DNLS_DEVICE(const float) keys;
    DNLS_DEVICE(const int) queries;
    dnls_i64 queryBatchStride;
    DNLSGrid grid;
    DNLS_DEVICE(const float) forwardFlow;
    DNLS_DEVICE(const float) backwardFlow;
    DNLS_DEVICE(const int) block;
    int B, T, C, H, W, channels, ps, ws, F, Q, slots, l2;
    DNLS_DEVICE(float) distances;
    DNLS_DEVICE(int) indices;
    /* When not null, the kernel runs only if *onlyIfSet is not 0 (the flows move some window). */
    DNLS_DEVICE(const int) onlyIfSet;
} DNLSSearchForward;

/* The box-filtered search of a query grid; dmin is the first window offset. Blocks that share a
 * tile leave partial lists in partKeys/partEntries for search_box_merge. Compiled for flows
 * (BOX_FLOW), it box-filters the union of the tile's flow-moved windows, reading the flows. */
typedef struct DNLSSearchForwardBox {
    DNLS_DEVICE(const float) video;
    DNLS_DEVICE(const float) keys;
    DNLSGrid grid;
    DNLS_DEVICE(const int) block;
    int B, T, C, H, W, channels, F, Q, slots, dmin, unitsPerBlock;
    DNLS_DEVICE(float) partKeys;
    DNLS_DEVICE(int) partEntries;
    DNLS_DEVICE(float) distances;
    DNLS_DEVICE(int) indices;
    /* When not null, the kernel does nothing if *skipIfSet is not 0 (given flows move a window). */
    DNLS_DEVICE(const int) skipIfSet;
    /* BOX_FLOW: the flows (either may be null), and, when not null, the kernel runs only if
     * *onlyIfSet is not 0 (the flows move some window). */
    DNLS_DEVICE(const float) forwardFlow;
    DNLS_DEVICE(const float) backwardFlow;
    DNLS_DEVICE(const int) onlyIfSet;
} DNLSSearchForwardBox;

/* Merges the partial lists of tiles that several box-search blocks shared. */
typedef struct DNLSSearchBoxMerge {
    DNLSGrid grid;
    DNLS_DEVICE(const int) block;
    int B, H, W, F, Q, slots, unitsPerBlock;
    DNLS_DEVICE(const float) partKeys;
    DNLS_DEVICE(const int) partEntries;
    DNLS_DEVICE(float) distances;
    DNLS_DEVICE(int) indices;
    /* As DNLSSearchForwardBox's. */
    DNLS_DEVICE(const int) skipIfSet;
} DNLSSearchBoxMerge;

/* Anchor tables: sites counted, scanned, filled and sorted per anchor pixel. */

/* data[0 ..< n] = 0 and, when not null, *also = 0. */
typedef struct DNLSAnchorClear {
    DNLS_DEVICE(int) data;
    dnls_i64 n;
    DNLS_DEVICE(int) also;
} DNLSAnchorClear;

/* Sites first ..< last of positions `positions` (S per batch item, batchStride apart): anchor_count
 * counts them per pixel of [pixel0, pixel0 + pixels) into starts; anchor_fill files them into members. */
typedef struct DNLSAnchorSites {
    DNLS_DEVICE(const int) positions;
    dnls_i64 batchStride, S, first, last;
    int T, H, W;
    dnls_i64 pixel0, pixels;
    DNLS_DEVICE(int) starts;
    DNLS_DEVICE(int) members;
} DNLSAnchorSites;

/* The scan of data[0 ..< n] in blocks of 1024: scan_blocks leaves each block's total in totals,
 * scan_add adds the scanned totals back. */
typedef struct DNLSScan {
    DNLS_DEVICE(int) data;
    dnls_i64 n;
    DNLS_DEVICE(int) totals;
} DNLSScan;

/* The exclusive scan of totals[0 ..< count] in one block. */
typedef struct DNLSScanTotals {
    DNLS_DEVICE(int) totals;
    int count;
} DNLSScanTotals;

/* used[r] = whether row r (of `width` pixels) of a pass of `pixels` pixels holds a site. */
typedef struct DNLSAnchorRows {
    DNLS_DEVICE(const int) ends;
    dnls_i64 pixels;
    int width;
    DNLS_DEVICE(int) used;
} DNLSAnchorRows;

/* Sorts the members of pixels p0 ..< p1 (a warp each); longer lists go to big for anchor_sort_big. */
typedef struct DNLSAnchorSort {
    DNLS_DEVICE(const int) starts;
    DNLS_DEVICE(int) members;
    dnls_i64 p0, p1;
    DNLS_DEVICE(int) big;
} DNLSAnchorSort;

/* Sorts the long member lists that anchor_sort listed in big (count first). */
typedef struct DNLSAnchorSortBig {
    DNLS_DEVICE(const int) starts;
    DNLS_DEVICE(int) members;
    DNLS_DEVICE(const int) big;
} DNLSAnchorSortBig;

/* Adds aggregated patches P (count per anchor, channels c0 ..< c0 + cs) into out: rows
 * firstRow ..< firstRow + rows of each of `batches` blocks of rowsPerBatch flat rows; anchors
 * from `grid`, else pixels pixel0 + slot. reach: the largest |patch offset|. */
typedef struct DNLSFoldSlots {
    DNLS_DEVICE(const float) P;
    DNLSGrid grid;
    dnls_i64 pixel0, count;
    DNLS_DEVICE(const int) block;
    int T, C, H, W, reach, c0, cs;
    dnls_i64 firstRow, rows;
    int batches;
    dnls_i64 rowsPerBatch;
    DNLS_DEVICE(float) out;
} DNLSFoldSlots;

/* The search backward: per anchor slot, the gradient patch of one side (0: queries, 1: keys) into
 * P, over `slots` slots of channels c0 ..< c0 + cs. aggregate_search walks slotsPerBlock slots a
 * block; aggregate_search_hubs takes the hub slots listed in big. */
typedef struct DNLSAggregateSearch {
    int side;
    DNLS_DEVICE(const float) video;
    DNLS_DEVICE(const float) keys;
    DNLS_DEVICE(const int) indices;
    DNLS_DEVICE(const float) gradient;
    DNLS_DEVICE(const int) queries;
    dnls_i64 queryBatchStride;
    DNLSGrid queryGrid, slotGrid;
    DNLSAnchors anchors;
    dnls_i64 slot0, queryOffset;
    DNLS_DEVICE(const int) block;
    int T, C, H, W, ps, Q, K, l2, c0, cs;
    dnls_i64 slots, count;
    int slotsPerBlock;
    DNLS_DEVICE(const int) big;
    DNLS_DEVICE(float) P;
} DNLSAggregateSearch;

/* Patches, unfolds and weighted sums. Sites come from `sites` (siteBatchStride apart) or `grid`. */

/* out = weights[f] · (or 1 ·) the patch at every site f, sitesPerBlock sites a block. */
typedef struct DNLSExtractPatches {
    DNLS_DEVICE(const float) video;
    DNLS_DEVICE(const float) weights;
    DNLS_DEVICE(const int) sites;
    dnls_i64 siteBatchStride;
    DNLSGrid grid;
    DNLS_DEVICE(const int) block;
    int B, T, C, H, W, ps;
    dnls_i64 S;
    int sitesPerBlock;
    DNLS_DEVICE(float) out;
} DNLSExtractPatches;

/* The iunfold of grid rows R0 ..< R0 + rowCount, a run of queries a block, staged over `span` columns. */
typedef struct DNLSUnfoldRuns {
    DNLS_DEVICE(const float) video;
    DNLSGrid grid;
    DNLS_DEVICE(const int) block;
    int B, T, C, H, W;
    dnls_i64 S, R0, rowCount;
    int span;
    DNLS_DEVICE(float) out;
} DNLSUnfoldRuns;

/* The iunfold of S grid queries, four outputs a thread (unfold_grid, and unfold_grid32 in 32-bit
 * index arithmetic). */
typedef struct DNLSUnfoldGrid {
    DNLS_DEVICE(const float) video;
    DNLSGrid grid;
    DNLS_DEVICE(const int) block;
    int B, T, C, H, W;
    dnls_i64 S;
    DNLS_DEVICE(float) out;
} DNLSUnfoldGrid;

/* A gather's weight gradient per site: <patch, gradient> plus the weight-sum gradient when given. */
typedef struct DNLSGatherWeightGradient {
    DNLS_DEVICE(const float) patches;
    DNLS_DEVICE(const float) gradient;
    DNLS_DEVICE(const float) sumGradient;
    DNLS_DEVICE(const int) sites;
    dnls_i64 siteBatchStride;
    DNLS_DEVICE(const int) block;
    int B, T, C, H, W, ps;
    dnls_i64 S;
    DNLS_DEVICE(float) out;
} DNLSGatherWeightGradient;

/* out[b, q] = Σ_k weights[b, q, k] · the patch at site (q, k), Q queries of K sites. */
typedef struct DNLSWeightedSum {
    DNLS_DEVICE(const float) video;
    DNLS_DEVICE(const float) weights;
    DNLS_DEVICE(const int) sites;
    dnls_i64 siteBatchStride;
    DNLS_DEVICE(const int) block;
    int B, T, C, H, W, ps, Q, K;
    DNLS_DEVICE(float) out;
} DNLSWeightedSum;

/* The weighted sum's weight gradient: out[b, q, k] = <patch at (q, k), gradient[b, q]>. */
typedef struct DNLSWeightedSumWeightGradient {
    DNLS_DEVICE(const float) video;
    DNLS_DEVICE(const float) gradient;
    DNLS_DEVICE(const int) sites;
    dnls_i64 siteBatchStride;
    DNLS_DEVICE(const int) block;
    int B, T, C, H, W, ps, Q, K;
    DNLS_DEVICE(float) out;
} DNLSWeightedSumWeightGradient;

/* Deposits: per anchor slot, the sum of the contributions of its sites into P (mode 0: weight ·
 * patches (B, S, C, ps, ps); 1: the weight alone; 3: weight · patches (B, Q, C, ps, ps) at q = s / K),
 * for fold_slots to add into the video. */
typedef struct DNLSAggregateDeposit {
    int mode;
    DNLS_DEVICE(const float) patches;
    DNLS_DEVICE(const float) weights;
    int K;
    DNLSAnchors anchors;
    dnls_i64 slot0;
    int T, C, H, W, ps;
    dnls_i64 S;
    int c0, cs;
    dnls_i64 slots;
    int slotsPerBlock;
    DNLS_DEVICE(float) P;
} DNLSAggregateDeposit;

/* Small deposits without an anchor table: out[b, t, c, y, x] += what `mode` adds (as above) over
 * every site s of batch item b (ascending) and each entry of its patch that reads (y, x), and, when
 * weightSum is given, weightSum[b, t, 0, y, x] += the weights over the same (= with overwrite).
 * Sites are a grid's (grid.on) or a table's ((B or 1, S, 3), siteBatchStride apart). */
typedef struct DNLSDepositDirect {
    int mode;
    DNLS_DEVICE(const float) patches;
    DNLS_DEVICE(const float) weights;
    DNLS_DEVICE(const int) sites;
    dnls_i64 siteBatchStride;
    DNLSGrid grid;
    DNLS_DEVICE(const int) block;
    int B, T, C, H, W, ps, K;
    dnls_i64 S;
    int overwrite;
    DNLS_DEVICE(float) out;
    DNLS_DEVICE(float) weightSum;
} DNLSDepositDirect;

/* Input checks: the lowest failing entry into a report word preset to all ones ("none"). */

/* Triples entries outside the T × H × W video (the marker (−1, −1, −1) allowed when allowMissing). */
typedef struct DNLSFirstInvalidTriple {
    DNLS_DEVICE(const int) triples;
    dnls_i64 entries;
    int T, H, W, allowMissing;
    DNLS_DEVICE(unsigned long long) first;
} DNLSFirstInvalidTriple;

/* Copies the failing triple behind the report word. */
typedef struct DNLSCopyFirstTriple {
    DNLS_DEVICE(const int) triples;
    DNLS_DEVICE(unsigned long long) report;
} DNLSCopyFirstTriple;

/* Deferred checking: records a failure (check `id`) with its triple in the stream's failure record. */
typedef struct DNLSRecordFirstTriple {
    DNLS_DEVICE(const int) triples;
    DNLS_DEVICE(const unsigned long long) report;
    int id;
    DNLS_DEVICE(int) record;
} DNLSRecordFirstTriple;

/* One small deferred check: kind 0, the triples of `data` (count entries) in [0,T)×[0,H)×[0,W), the
   marker (-1,-1,-1) allowed when allowMissing; kind 1, the count floats of `data` finite. */
typedef struct DNLSCheckEntry {
    int kind, id;
    DNLS_DEVICE(const void) data;
    dnls_i64 count;
    int T, H, W, allowMissing;
} DNLSCheckEntry;

/* The most small checks one record_checks launch runs. */
#define DNLS_BATCHED_CHECKS 4

/* Deferred checking of up to DNLS_BATCHED_CHECKS small tensors in one launch of one block: check by
   check, in order, the lowest failing entry is recorded (check `id`) in the stream's failure record,
   which keeps the first failure recorded. */
typedef struct DNLSRecordChecks {
    int count;
    DNLSCheckEntry checks[DNLS_BATCHED_CHECKS];
    DNLS_DEVICE(int) record;
} DNLSRecordChecks;

/* Sets *moved to 1 when any of the count values of `forward` or of `backward` (either may be null)
   is not zero, i.e. when the flows may move a search window; *moved is zeroed before. */
typedef struct DNLSFlowsMove {
    DNLS_DEVICE(const float) forward;
    DNLS_DEVICE(const float) backward;
    dnls_i64 count;
    DNLS_DEVICE(int) moved;
} DNLSFlowsMove;

/* The lowest index of a NaN or infinity among count values. */
typedef struct DNLSFirstNonfinite {
    DNLS_DEVICE(const float) values;
    dnls_i64 count;
    DNLS_DEVICE(unsigned long long) first;
} DNLSFirstNonfinite;

/* Deferred checking: records a report's failure (check `id`) in the stream's failure record. */
typedef struct DNLSRecordFailure {
    DNLS_DEVICE(const unsigned long long) report;
    int id;
    DNLS_DEVICE(int) record;
} DNLSRecordFailure;

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

/* out[o, i] = Σ_j input[o, j, i] (tm_sum_axis), or out[o, j, i] = input[o, i] (tm_broadcast), for an
 * outer × n × inner layout. */
typedef struct DNLSMathAxes {
    DNLS_DEVICE(const float) input;
    DNLS_DEVICE(float) out;
    dnls_i64 outer, n, inner;
} DNLSMathAxes;

/* out[r · chunks + c] = the sum of chunk c (of `chunk` elements) of row r (of n) of x. */
typedef struct DNLSMathSumChunks {
    DNLS_DEVICE(const float) x;
    DNLS_DEVICE(float) out;
    dnls_i64 n, chunk, chunks;
} DNLSMathSumChunks;

/* out[o, c', p] = Σ_c w[c', c] · x[o, c, p] (+ bias[c']) for C → Cp channels of P pixels. */
typedef struct DNLSMathChannelMix {
    DNLS_DEVICE(const float) x;
    DNLS_DEVICE(const float) weight;
    DNLS_DEVICE(const float) bias;
    DNLS_DEVICE(float) out;
    dnls_i64 outer;
    int C, Cp;
    dnls_i64 P;
} DNLSMathChannelMix;

/* The channel mixing's input gradient: out[o, c, p] = Σ_c' w[c', c] · gradient[o, c', p]. */
typedef struct DNLSMathChannelMixInput {
    DNLS_DEVICE(const float) gradient;
    DNLS_DEVICE(const float) weight;
    DNLS_DEVICE(float) out;
    dnls_i64 outer;
    int C, Cp;
    dnls_i64 P;
} DNLSMathChannelMixInput;

/* The channel mixing's weight and bias gradients as partial sums over chunks of `chunk` items. */
typedef struct DNLSMathChannelMixPartials {
    DNLS_DEVICE(const float) gradient;
    DNLS_DEVICE(const float) x;
    DNLS_DEVICE(float) out;
    dnls_i64 outer;
    int C, Cp;
    dnls_i64 P, chunk, chunks;
} DNLSMathChannelMixPartials;

/* The denoisers (non-local Bayes and non-local means). */

/* The Bayes estimate of every patch of a batch of groups, into out: `groups` groups of K patches
 * of C channels × D entries (patches[(g·K + r)·C·D + c·D + e]), row r of group g present when
 * indices[3·(g·K + r)] ≥ 0. model (null: the patches themselves) holds the patches whose group
 * mean and covariance model the estimate; variance is σ². Rows and channels not estimated are
 * copied. One warp per (group, channel). */
typedef struct DNLSBayesGroups {
    DNLS_DEVICE(const float) patches;
    DNLS_DEVICE(float) out;
    DNLS_DEVICE(const float) model;
    DNLS_DEVICE(const int) indices;
    /* When not null, flat[g] ≠ 0 marks a flat group, whose rows take flatMeans[g·C + c]. */
    DNLS_DEVICE(const int) flat;
    DNLS_DEVICE(const double) flatMeans;
    dnls_i64 groups;
    int K, C;
    double variance;
} DNLSBayesGroups;

/* Which groups of a first step are flat: the mean over the C channels of each channel's sample
 * variance (over the group's present rows and D entries) below flatness; the channel means of
 * each group into means[g·C + c]. One thread per group. */
typedef struct DNLSBayesFlat {
    DNLS_DEVICE(const float) patches;
    DNLS_DEVICE(const int) indices;
    DNLS_DEVICE(int) flat;
    DNLS_DEVICE(double) means;
    dnls_i64 groups;
    int K, C, D;
    double flatness;
} DNLSBayesFlat;

/* out[f, c, p] = Σ_j w[3·c + j] · in[f, j, p] for frames of three channels of P pixels. */
typedef struct DNLSColourBasis {
    DNLS_DEVICE(const float) in;
    DNLS_DEVICE(float) out;
    dnls_i64 frames, P;
    float w[9];
} DNLSColourBasis;

/* out[f, c, p] = counts[f, p] > 0 ? sums[f, c, p] / counts[f, p] : fallback[f, c, p]. */
typedef struct DNLSNormalise {
    DNLS_DEVICE(const float) sums;
    DNLS_DEVICE(const float) counts;
    DNLS_DEVICE(const float) fallback;
    DNLS_DEVICE(float) out;
    dnls_i64 frames;
    int C;
    dnls_i64 P;
} DNLSNormalise;

/* The correction a coarser level of the denoiser's pyramid brings, over frames of C planes of
 * h × w: out = s · (coarse − coarseOfFine) per channel, with one share s per frame and pixel,
 * s = noise / (noise + v), v the mean over the channels of the variance of coarse over the 3 × 3
 * pixels around (clamped into the plane): full where the coarse estimate is flat, little at its
 * edges and textures, which the finer level resolves better. */
typedef struct DNLSPyramidCorrection {
    DNLS_DEVICE(const float) coarse;
    DNLS_DEVICE(const float) coarseOfFine;
    DNLS_DEVICE(float) out;
    dnls_i64 frames;
    int C, h, w;
    float noise;
} DNLSPyramidCorrection;

/* One level of the denoiser's pyramid added back, planes of H × W from planes of h × w (the
 * halves): out = fine + up(correction), where up takes, at fine pixel (y, x), the weights
 * (1/4, 1/2, 1/4) over the rows y − 1, y, y + 1 and the same over the columns (clamped into the
 * fine plane), each read at coarse pixel (row / 2, column / 2). */
typedef struct DNLSPyramidExpand {
    DNLS_DEVICE(const float) fine;
    DNLS_DEVICE(const float) correction;
    DNLS_DEVICE(float) out;
    dnls_i64 planes;
    int H, W, h, w;
} DNLSPyramidExpand;

/* Non-local means weights of Q queries of K distances: weights[q, k] = exp(−max(d / entries −
 * noise, 0) / h²) (0 for a non-finite distance) and spread[q, e] = Σ_k weights[q, k] for the E
 * entries of its patch. */
typedef struct DNLSMeansWeights {
    DNLS_DEVICE(const float) distances;
    DNLS_DEVICE(float) weights;
    DNLS_DEVICE(float) spread;
    dnls_i64 Q;
    int K, E;
    float entries, noise, hh;
} DNLSMeansWeights;

/* Flow estimation (coarse-to-fine patch search). Flows are whole pixels, int (N, 2, H, W):
 * channel 0 the column displacement, 1 the row displacement. */

/* One pass of the separable Gaussian pre-filter over `planes` planes of H × W (the border
 * replicated): along 0 rows (x), 1 columns (y); taps[0 ..< 2·reach + 1]. */
typedef struct DNLSFlowBlur {
    DNLS_DEVICE(const float) in;
    DNLS_DEVICE(float) out;
    DNLS_DEVICE(const float) taps;
    dnls_i64 planes;
    int H, W, reach, along;
} DNLSFlowBlur;

/* The mean of each 2 × 2 block (clipped at the border) of H × W planes into H2 × W2. */
typedef struct DNLSFlowHalve {
    DNLS_DEVICE(const float) in;
    DNLS_DEVICE(float) out;
    dnls_i64 planes;
    int H, W, H2, W2;
} DNLSFlowHalve;

/* n planes of h × w flow at twice the size H × W: out = 2 · in at (min(y/2, h−1), min(x/2, w−1)). */
typedef struct DNLSFlowDouble {
    DNLS_DEVICE(const int) in;
    DNLS_DEVICE(int) out;
    dnls_i64 n;
    int h, w, H, W;
} DNLSFlowDouble;

/* The median of each (2·radius + 1)² window (clipped at the border; the lower middle value of an
 * even count) of n planes of H × W. */
typedef struct DNLSFlowMedian {
    DNLS_DEVICE(const int) in;
    DNLS_DEVICE(int) out;
    dnls_i64 n;
    int H, W, radius;
} DNLSFlowMedian;

/* The two-frame clips of pairs first ..< first + P (pair p: every forward pair (b·T + t, b·T + t + 1)
 * of the B × T frames, then every backward one (b·T + t, b·T + t − 1)): video (P, 2, C, H, W) the
 * frame and its target, keys the target twice, moves (P, 2, 2, H, W) the predicted flow of the
 * pair in slot 0 and zeros in slot 1. */
typedef struct DNLSFlowClip {
    DNLS_DEVICE(const float) level;
    DNLS_DEVICE(const int) predicted;
    DNLS_DEVICE(float) video;
    DNLS_DEVICE(float) keys;
    DNLS_DEVICE(float) moves;
    dnls_i64 first;
    int P, B, T, C, H, W;
} DNLSFlowClip;

/* The displacements a K = 1 search found for queries start ..< start + n of the H × W grid of each
 * clip (indices (P, n, 1, 3)) into the flows of pairs first ..< first + P; a query without a
 * candidate keeps its flow. */
typedef struct DNLSFlowUpdate {
    DNLS_DEVICE(const int) indices;
    DNLS_DEVICE(int) flows;
    dnls_i64 first, start;
    int P, n, H, W;
} DNLSFlowUpdate;

/* The flows of the pairs as forward and backward flows (B·T, 2, plane), zero where a frame has no
 * pair (the last frame forward, the first backward). */
typedef struct DNLSFlowAssemble {
    DNLS_DEVICE(const int) flows;
    DNLS_DEVICE(float) forward;
    DNLS_DEVICE(float) backward;
    int B, T;
    dnls_i64 plane;
} DNLSFlowAssemble;

#endif
