// CKernels: the hot loops of infer.
//
// Every kernel has a portable scalar reference; optimized paths live beside it and
// are checked against it by the tests. Weights are read in place (zero-copy from the
// memory-mapped model file), so every matrix kernel takes a raw row pointer and the
// byte stride between rows.
#ifndef INFER_KERNELS_H
#define INFER_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Weight storage types the kernels understand. The values of the GGML types equal
/// the GGUF type ids so that a GGUF tensor's type maps directly.
typedef enum {
    INFER_TYPE_F32 = 0,
    INFER_TYPE_F16 = 1,
    INFER_TYPE_Q8_0 = 8,
} infer_type;

// ---- half precision ----------------------------------------------------------------
float infer_fp16_to_fp32(uint16_t h);
uint16_t infer_fp32_to_fp16(float f);

// ---- vector primitives ---------------------------------------------------------------
float infer_dot_f32(const float *a, const float *b, int n);

/// Dot product of one weight row of `type` (n elements) with the f32 vector x.
/// Returns NaN for a type this build cannot compute (the loader refuses such files first).
float infer_dot_row(infer_type type, const void *row, const float *x, int n);

/// y[r] = dot(W[r], x) for r in [row_begin, row_end). W has `cols` elements per row and
/// consecutive rows are `row_bytes` apart.
void infer_matvec(infer_type type, const void *w, size_t row_bytes, const float *x,
                  float *y, int row_begin, int row_end, int cols);

/// Writes row r of a weight matrix as f32 (used for token embeddings).
void infer_dequantize_row(infer_type type, const void *row, float *out, int n);

// ---- llama2.c version-2 Q8_0: int8 values and one f32 scale per `group_size` values,
// the groups running over the flattened tensor (they may straddle row boundaries). ----
/// y[r] = dot(W[r], x) for r in [row_begin, row_end), W flattened row-major.
void infer_matvec_q8_grouped(const int8_t *q, const float *scales, int group_size,
                             const float *x, float *y, int row_begin, int row_end, int cols);
void infer_dequantize_q8_grouped(const int8_t *q, const float *scales, int group_size,
                                 size_t first, float *out, int n);

// ---- transformer pieces ----------------------------------------------------------------
/// out = x / rms(x) * weight, rms over n elements with epsilon eps.
void infer_rmsnorm(float *out, const float *x, const float *weight, int n, float eps);
/// In-place numerically stable softmax over n elements.
void infer_softmax(float *x, int n);
/// x[i] += y[i]
void infer_add(float *x, const float *y, int n);
/// gate[i] = silu(gate[i]) * up[i]
void infer_swiglu(float *gate, const float *up, int n);

/// Rotary position embedding of one head vector in place.
/// neox = 0: rotate adjacent pairs (x[2i], x[2i+1]) (llama2.c, GGUF "llama").
/// neox = 1: rotate halves (x[i], x[i + rot_dim/2]) (NeoX, Qwen, Phi, Gemma).
/// Only the first rot_dim elements of the head rotate; freq_i = theta^(-2i/rot_dim).
void infer_rope(float *head, int rot_dim, int pos, float theta, int neox);

/// Attention of one query head over positions [0, n_pos) of the KV cache.
/// q: (head_dim); k, v: rows of the cache for this KV head, `stride` floats apart;
/// scores: scratch of n_pos floats; out: (head_dim).
void infer_attention_head(const float *q, const float *k, const float *v, size_t stride,
                          int n_pos, int head_dim, float scale, float *scores, float *out);

#ifdef __cplusplus
}
#endif
#endif
