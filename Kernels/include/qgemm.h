// Integer matrix–matrix products for batched prompt processing with quantized weights:
// y (n, rows) = x (n, k) · Wᵀ computed on int8 values with AVX-512 VNNI, the way llama.cpp
// multiplies quantized matrices (activations quantized to 8 bits per block of 32).
//
// Both operands are put in a form made for the kernel first:
// - the activations: each token's values in blocks of 32, as int8 q = round(x / d) with
//   d = max|x| / 127 (llama.cpp's Q8_0 rounding), with d and d · Σq per block;
// - the weights, a tile of rows at a time: as unsigned bytes u with a scale s and a bias b per
//   row and block of 32, so that w = s · u + b (Q8_0: u = q + 128, s = d, b = -128 d), laid
//   out for the kernel in panels of 16 rows.
// Then Σ w x over a block = s · d_x · Σ u q + b · d_x · Σ q, and Σ u q is what VNNI computes.
#ifndef INFER_QGEMM_H
#define INFER_QGEMM_H

#include <stddef.h>
#include <stdint.h>
#include "kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

#define INFER_QGEMM_BLOCK 32
#define INFER_QGEMM_PANEL_ROWS 16

/// Quantized activations of n tokens of k values (k a multiple of 32).
typedef struct {
    const int8_t *q;     // (n, k)
    const float *scale;  // (n, k / 32): d of each block
    const float *sum;    // (n, k / 32): d · Σq of each block
    int n;
    int k;
} infer_q8_batch;

/// Whether this CPU runs the integer kernel and `type` has a weight packing.
int infer_qgemm_supported(infer_type type);

/// Quantizes x (n rows of k floats, `x_stride` floats apart) into q, scale and sum laid out
/// as infer_q8_batch describes.
void infer_quantize_batch(const float *x, size_t x_stride, int n, int k, int8_t *q, float *scale, float *sum);

/// Bytes of the packed form of `rows` weight rows of k values (rows rounded up to 16).
size_t infer_qgemm_panel_bytes(int rows, int k);

/// Packs rows [row_begin, row_end) of a weight matrix of `type` (rows `row_bytes` apart,
/// k values each) into `panel` (infer_qgemm_panel_bytes(row_end - row_begin, k) bytes,
/// 64-byte aligned). Rows past row_end in the last panel are zero. For an interleaved type
/// (INFER_TYPE_Q4_0_X8, Q4_K_X8, Q8_0_X8; `row_bytes` unused), row_begin and row_end are
/// multiples of 8.
void infer_qgemm_pack(infer_type type, const void *w, size_t row_bytes, int row_begin, int row_end,
                      int k, void *panel);

/// y[t * y_stride + r] = Σ_i w[r][i] x[t][i] for the `rows` packed rows and every token t.
void infer_qgemm(const void *panel, int rows, const infer_q8_batch *x, float *y, size_t y_stride);

/// The same products computed from the packed weights and quantized activations with
/// plain scalar arithmetic: what the tests check the kernel against.
void infer_qgemm_reference(const void *panel, int rows, const infer_q8_batch *x, float *y, size_t y_stride);

#ifdef __cplusplus
}
#endif
#endif
