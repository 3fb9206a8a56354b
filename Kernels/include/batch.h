// Pieces of batched prompt processing (Sources/InferKit/Model/BatchedForward.swift):
// widening weight tiles to f32 for BLAS, and rotary embedding from a per-position table,
// so a batch computes each position's angles once instead of once per head and layer.
#ifndef INFER_BATCH_H
#define INFER_BATCH_H

#include <stddef.h>
#include "kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Rows [row_begin, row_end) of a weight matrix of `type` (rows `row_bytes` apart, `cols`
/// elements each) as f32 rows `out_stride` floats apart from `out`. F16 and Q8_0 use
/// AVX2/F16C where the CPU has them; other types decode row by row with infer_dequantize_row.
void infer_dequantize_rows(infer_type type, const void *w, size_t row_bytes, int row_begin,
                           int row_end, int cols, float *out, size_t out_stride);

/// The cosines and sines of position `pos` for the rot_dim/2 rotating pairs, computed with
/// the same expressions as infer_rope, so rotating with them gives its results bit for bit.
void infer_rope_angles(int pos, int rot_dim, float theta, float *cos_out, float *sin_out);

/// The rotation frequencies of the rot_dim/2 pairs: theta^(-2i/rot_dim) as infer_rope computes
/// them, divided by factors[i] where `factors` is given (Llama 3's and Phi-3's long-context
/// frequency factors), times `scale` (linear RoPE scaling: 1 / the scaling factor).
void infer_rope_frequencies(int rot_dim, float theta, const float *factors, float scale, float *freqs);

/// The cosines and sines of position `pos` for `pairs` pairs of frequencies `freqs`
/// (infer_rope_frequencies), times `magnitude` (a long-context attention factor; 1: none).
/// With the plain frequencies, the same values as infer_rope_angles.
void infer_rope_angles_of(int pos, int pairs, const float *freqs, float magnitude, float *cos_out, float *sin_out);

/// Rotates one head vector in place with a position's table from infer_rope_angles
/// (neox as in infer_rope).
void infer_rope_rotate(float *head, int rot_dim, const float *cos_table, const float *sin_table, int neox);

/// Causal softmax of one row of attention scores: softmax over the first `valid` entries
/// (the positions the query may see) and zeros in the entries [valid, n). Vectorized
/// (AVX2) where the CPU has it: exponentials within a few ulp of expf.
void infer_softmax_prefix(float *row, int valid, int n);

/// gate[i] = silu(gate[i]) * up[i] over n values, vectorized like infer_softmax_prefix.
void infer_swiglu_batch(float *gate, const float *up, size_t n);

#ifdef __cplusplus
}
#endif
#endif
