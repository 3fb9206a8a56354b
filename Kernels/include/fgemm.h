// A float matrix–matrix kernel for batched prompts over f32 weight tiles (widened from F16
// or other types, or f32 in place): y (n, rows) = x (n, k) · wᵀ.
//
// BLAS would pack both operands again for every tile; here the weights are read in place
// (row-major, each value broadcast to 16 tokens) and only the activations are rearranged,
// once per product: transposed to (k, n rounded up to 16), so one 64-byte load gives 16
// tokens' values of one column. AVX-512; where the CPU has none, callers use BLAS.
#ifndef INFER_FGEMM_H
#define INFER_FGEMM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Whether this CPU runs the kernel.
int infer_fgemm_supported(void);

/// Tokens rounded up to the kernel's 16.
int infer_fgemm_padded_tokens(int n);

/// xt = x (n, k) transposed, in blocks of 16 tokens each (k, 16); x's rows `x_stride` floats
/// apart; padding tokens are zero: k * padded n floats.
void infer_fgemm_transpose(const float *x, size_t x_stride, int n, int k, float *xt);

/// Floats of partial sums infer_fgemm needs for `rows` rows and n tokens.
size_t infer_fgemm_partial_floats(int rows, int n);

/// y[t * y_stride + r] = Σ_i w[r * w_stride + i] · x[t][i] for r < rows, t < n, with x given
/// as infer_fgemm_transpose wrote it; `partial` holds infer_fgemm_partial_floats floats.
void infer_fgemm(const float *w, size_t w_stride, int rows, int k, const float *xt, int n,
                 float *y, size_t y_stride, float *partial);

#ifdef __cplusplus
}
#endif
#endif
