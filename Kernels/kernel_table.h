// The kernels of one instruction set, and how each weight type pairs with an activation
// form. Private to CKernels: dispatch.c picks a table, the tests reach every table through
// infer_dot / infer_prepare_activation with an explicit ISA.
#ifndef INFER_KERNEL_TABLE_H
#define INFER_KERNEL_TABLE_H
#include "kernels.h"

/// Weight types are GGUF ids below this.
#define INFER_TYPE_LIMIT 31

/// What a weight type's dot product reads the activation as.
typedef enum {
    ACT_NONE = 0,   // type not computed
    ACT_F32,        // f32 and bf16 weights: x as is
    ACT_F16,        // f16 weights: x rounded to fp16, as llama.cpp does. Half the bytes of
                    // f32 per row: with f32 x the vector loads of x, not the weights
                    // streamed from memory, become the limit
    ACT_Q8_32,      // 32-element weight blocks: block_q8_32
    ACT_Q8_K,       // K-quants: block_q8_K
} activation_form;

activation_form infer_activation_form(infer_type type);

typedef float (*dot_kernel)(const void *row, const void *act, int n);
typedef void (*prepare_kernel)(const float *x, void *act, int n);

typedef struct {
    dot_kernel dot[INFER_TYPE_LIMIT];  // NULL: the fallback ISA's kernel serves this type
    prepare_kernel f16;                // NULL: the fallback ISA's conversion
    prepare_kernel q8_32;              // NULL: the fallback ISA's quantizer
    prepare_kernel q8_K;
} kernel_table;

/// isa's dot kernel for type (the scalar one where isa has none), NULL for unsupported types.
dot_kernel infer_dot_kernel(infer_isa isa, infer_type type);

extern const kernel_table infer_kernels_scalar;
#if defined(__x86_64__)
extern const kernel_table infer_kernels_avx2;
extern const kernel_table infer_kernels_avx512;
#endif
#if defined(__aarch64__)
extern const kernel_table infer_kernels_neon;
#endif

// Scalar activation quantizers (quants.c): round to nearest even, so the vector versions,
// which round the same way, produce the same bytes.
void infer_quantize_q8_32(const float *x, void *act, int n);
void infer_round_to_f16(const float *x, void *act, int n);
void infer_quantize_q8_K(const float *x, void *act, int n);

// The interleaved layouts (q4_K_x8.c, q4_0_x8.c, q6_K_x8.c, q8_0_x8.c): bytes of a copy, the copy, one block as in
// the file, the 8 dot products of a group of 8 rows with the file type's activation, and those of
// the group with `count` activations (acts[v]'s into out[v] + at .. + 8: batched decoding), each
// activation's the same floats as dot8's, bit for bit.
size_t infer_q4_K_x8_bytes(int rows, int cols);
void infer_q4_K_x8_repack(const void *src, size_t row_bytes, int rows, int cols, void *dst);
void infer_q4_K_x8_block(const void *x8, int cols, int row, int block, void *out);
void infer_q4_K_x8_dot8(const void *group, const void *act, int n, float out[8]);
void infer_q4_K_x8_dot8_batch(const void *group, const void *const *acts, int count, int n, float *const *out,
                              size_t at);
size_t infer_q4_0_x8_bytes(int rows, int cols);
void infer_q4_0_x8_repack(const void *src, size_t row_bytes, int rows, int cols, void *dst);
void infer_q4_0_x8_block(const void *x8, int cols, int row, int block, void *out);
void infer_q4_0_x8_dot8(const void *group, const void *act, int n, float out[8]);
void infer_q4_0_x8_dot8_batch(const void *group, const void *const *acts, int count, int n, float *const *out,
                              size_t at);
size_t infer_q6_K_x8_bytes(int rows, int cols);
void infer_q6_K_x8_repack(const void *src, size_t row_bytes, int rows, int cols, void *dst);
void infer_q6_K_x8_block(const void *x8, int cols, int row, int block, void *out);
void infer_q6_K_x8_dot8(const void *group, const void *act, int n, float out[8]);
void infer_q6_K_x8_dot8_batch(const void *group, const void *const *acts, int count, int n, float *const *out,
                              size_t at);
void infer_q6_K_x8_widen(const void *x8, int cols, int row, float *out);
size_t infer_q8_0_x8_bytes(int rows, int cols);
void infer_q8_0_x8_repack(const void *src, size_t row_bytes, int rows, int cols, void *dst);
void infer_q8_0_x8_block(const void *x8, int cols, int row, int block, void *out);
void infer_q8_0_x8_dot8(const void *group, const void *act, int n, float out[8]);
void infer_q8_0_x8_dot8_batch(const void *group, const void *const *acts, int count, int n, float *const *out,
                              size_t at);

/// What the code around the kernels needs to know of an interleaved type.
typedef struct {
    infer_type file_type;  // the type of the rows in the file
    int block;             // elements per block
    size_t block_bytes;    // bytes of a block in the file
    void (*dot8)(const void *group, const void *act, int n, float out[8]);
    void (*dot8_batch)(const void *group, const void *const *acts, int count, int n, float *const *out, size_t at);
    size_t (*bytes)(int rows, int cols);
    void (*repack)(const void *src, size_t row_bytes, int rows, int cols, void *dst);
    void (*block_of)(const void *x8, int cols, int row, int block, void *out);  // as in the file
    /// Row `row` as f32 for the batched path's float tiles, or NULL: rebuilt block by block
    /// (the types the batched path packs as integers instead).
    void (*widen)(const void *x8, int cols, int row, float *out);
} interleaved_layout;

/// The layout of an interleaved type (INFER_TYPE_Q4_K_X8, INFER_TYPE_Q4_0_X8,
/// INFER_TYPE_Q6_K_X8, INFER_TYPE_Q8_0_X8); NULL for others.
const interleaved_layout *infer_interleaved(infer_type type);

#if defined(__x86_64__)
/// infer_attention_heads_isa with AVX2 and FMA (attention_avx2.c); head_dim a multiple of 8.
void infer_attention_heads_avx2(const float *q, int heads, const void *k, const void *v, infer_type type,
                                size_t row_bytes, int n_pos, int head_dim, float scale, float soft_cap,
                                float *scores, size_t scores_stride, float *out);
#elif defined(__aarch64__)
/// infer_attention_heads_isa with NEON (attention_neon.c); head_dim a multiple of 4.
void infer_attention_heads_neon(const float *q, int heads, const void *k, const void *v, infer_type type,
                                size_t row_bytes, int n_pos, int head_dim, float scale, float soft_cap,
                                float *scores, size_t scores_stride, float *out);
#endif

// Sub-block scales of the K-quants, unpacked (quants.c).
void infer_q3_K_scales(const uint8_t packed[12], int8_t scales[16]);
void infer_k_scale_min(const uint8_t packed[12], uint8_t scales[8], uint8_t mins[8]);

#endif
