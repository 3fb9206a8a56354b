// Generation's forward pass of one token per sequence, for one sequence or several at once (a
// batched step), every thread of a pool running all of it together (Kernels/decode.c), and the
// KV cache layers it reads and writes (Kernels/kv_cache.c).
//
// The pass reads a description of the model's blocks (infer_block, infer_decoder): which of
// the optional pieces a family has (biases, Q/K norms, post-norms, soft-caps, a sliding
// window, the activation) is data, not code, so one pass runs every family.
#ifndef INFER_DECODE_H
#define INFER_DECODE_H

#include <stddef.h>
#include "kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

// ---- the KV cache of one layer -----------------------------------------------------------------
/// Keys and values of one layer, by KV head: head j's row r (one position's head_dim values, of
/// `type`: f32, f16, or q8_0 blocks) starts at byte (j * slots + r) * row_bytes.
/// Position p lives in row p % ring; where slots is 2 * ring the row is written twice, at
/// p % ring and p % ring + ring, so that any `ring` consecutive positions are consecutive rows
/// (a sliding window reads its positions as one stream even where the ring wraps).
typedef struct {
    void *keys, *values;  // (kv_heads, slots, row_bytes)
    infer_type type;      // INFER_TYPE_F32, INFER_TYPE_F16 or INFER_TYPE_Q8_0
    size_t row_bytes;     // infer_cache_row_bytes(type, head_dim)
    int slots;            // rows per KV head: ring, or 2 * ring
    int ring;             // positions held; the cache's capacity for a layer without a window
    int window;           // a query sees the last `window` positions, its own included; 0: all
} infer_cache_layer;

/// Whether a cache can keep rows of head_dim values as `type` (q8_0: whole blocks of 32).
int infer_cache_type_supported(infer_type type, int head_dim);
/// Bytes of one row of head_dim values of `type`.
size_t infer_cache_row_bytes(infer_type type, int head_dim);
/// A row of n values of `type` from f32 (rounded to f16, or quantized to q8_0 blocks as llama.cpp
/// quantizes them: scale max|x| / 127, values rounded to nearest).
void infer_cache_row_store(infer_type type, const float *x, void *row, int n);
/// The row as f32.
void infer_cache_row_widen(infer_type type, const void *row, float *out, int n);
/// q · row over n values, in f32 (the scalar reference of attention's scores).
float infer_cache_row_dot(infer_type type, const float *q, const void *row, int n);
/// out += a · row over n values (the scalar reference of attention's weighted values).
void infer_cache_row_add(infer_type type, float a, const void *row, float *out, int n);

/// Writes the keys and values of position `pos` (kv_heads * head_dim each) into layer `c`.
void infer_cache_store(const infer_cache_layer *c, int kv_heads, int head_dim, int pos, const float *k, const float *v);
/// Moves the keys and values of old positions `from[i]` to new positions `to[i]` for i in
/// [0, count) in layer c (a context shift), rotating each moved key by the angles of `cos` and
/// `sin` (rope_dim / 2 pairs: the rotation of to[i] - from[i], the same for every i whose from
/// and to differ; keys with from[i] == to[i] stay as they are). Rows are gathered into `scratch`
/// (count * 2 * row_bytes + head_dim * 4 bytes, 4-byte aligned) first, so sources and
/// destinations may overlap in any order.
void infer_cache_move(const infer_cache_layer *c, int kv_heads, int head_dim, const int *from, const int *to, int count,
                      int rope_dim, int neox, const float *cos, const float *sin, void *scratch);
/// The first position a query at `pos` attends to, and the row where that position lies:
/// the query reads `pos - first + 1` consecutive rows from there.
int infer_cache_first(const infer_cache_layer *c, int pos, int *row);

// ---- feed-forward activations ---------------------------------------------------------------------
/// What multiplies up in the gated feed-forward: act(gate) * up.
typedef enum {
    INFER_ACTIVATION_SILU = 0,       // SwiGLU (Llama, Qwen, Phi-3)
    INFER_ACTIVATION_GELU_TANH = 1,  // GeGLU with GELU's tanh approximation (Gemma)
} infer_activation;

/// gate[i] = act(gate[i]) * up[i] over n values (vectorized where the CPU has AVX2).
void infer_gated_activation(infer_activation act, float *gate, const float *up, size_t n);

/// x[i] = cap * tanh(x[i] / cap) over n values (soft-capping of scores and logits).
void infer_soft_cap(float *x, size_t n, float cap);

// ---- the forward pass of one token per sequence -------------------------------------------
/// One transformer block as infer_decode reads it. Optional pieces are NULL (or 0) when the
/// model's family has none.
typedef struct {
    const infer_matrix *wq, *wk, *wv;   // (heads * head_dim, dim), (kv_heads * head_dim, dim) twice
    const infer_matrix *gate, *up;      // (hidden, dim)
    /// O (dim, heads * head_dim) and down (dim, hidden) in column parts: part p is the matrix over
    /// columns [p, p + 1) cols / count (one part: the whole matrix). W x = Σ_p W_p x_p, summed in
    /// the order of p.
    const infer_matrix *wo_parts, *down_parts;
    int wo_part_count, down_part_count;
    const float *q_bias, *k_bias, *v_bias;            // (heads * head_dim), (kv_heads * head_dim) twice
    const float *q_norm, *k_norm;                     // (head_dim): RMSNorm of each head of Q, of K
    const float *attention_norm, *ffn_norm;           // (dim): the norms before the sublayers
    const float *post_attention_norm, *post_ffn_norm; // (dim): norms of the sublayers' outputs
    int rope;                                         // which of the decoder's rotations it uses
} infer_block;

/// Most sequences one infer_decode call takes.
#define INFER_DECODE_MAX_SEQUENCES 16

/// A model and the buffers of up to `capacity` sequences' tokens, for infer_decode. Buffers of
/// several sequences hold sequence s's row at s times the row's width.
typedef struct {
    int layer_count, dim, heads, kv_heads, head_dim, hidden, rope_dim, neox;
    infer_activation activation;
    float rms_epsilon;
    float attention_scale;     // multiplies q · k
    float attention_soft_cap;  // scores capped to (-cap, cap) before the softmax; 0: none
    float logit_soft_cap;      // logits capped likewise; 0: none
    const infer_block *layers;
    const float *output_norm;  // (dim)
    const infer_matrix *output;
    int capacity;                   // sequences a call may take: 1 to INFER_DECODE_MAX_SEQUENCES
    float *x;                       // (capacity, dim) the tokens' scaled embeddings in; the normed last hidden states out
    float *q, *attention;           // (capacity, heads * head_dim)
    float *key, *value;             // (capacity, kv_heads * head_dim)
    float *gate, *up;               // (capacity, hidden)
    float *scores;                  // (heads, scores_stride)
    size_t scores_stride;           // at least the most positions a query attends to
    /// (most column parts of O, capacity, dim) and (most column parts of down, capacity, dim): each
    /// part's output for each sequence. Two buffers, so that a thread may start the next sublayer
    /// while another still sums.
    float *attention_partials, *ffn_partials;
    void *scratch;                  // (threads, scratch_bytes), 64-byte aligned
    size_t scratch_bytes;           // each thread's: infer_decode_scratch_bytes
} infer_decoder;

/// One sequence's token in a call of infer_decode: where its state is and where its logits go.
typedef struct {
    const infer_cache_layer *caches;   // (layer_count) the sequence's KV cache, layer by layer
    int pos;                           // the token's position in the sequence
    const float *rope_cos, *rope_sin;  // (rotations, rope_dim / 2) the rotations of pos, each rotation's
    float *logits;                     // (output rows) out
} infer_sequence;

/// Scratch bytes each thread needs (a multiple of 64).
size_t infer_decode_scratch_bytes(const infer_decoder *d);
/// The forward pass of one token of each of `count` sequences (at most d->capacity): token s's
/// scaled embedding in row s of d->x; its keys and values into seqs[s]'s cache at seqs[s].pos, its
/// logits into seqs[s].logits. Every weight matrix is read once for all the tokens; attention is
/// each sequence's own, over its own cache. Every thread of `pool` runs all of it, tensor
/// parallel: thread t of T computes the Q rows and attention of heads [t, t + 1) heads / T, the K
/// and V rows of its KV heads (when they share evenly, else its share of their rows), its share of
/// gate's and up's rows; O and down are summed from their column parts: where a matrix has one
/// part a thread over exactly the columns that thread computed, each thread multiplies its own
/// part, else the threads share every part's rows. Barriers separate the steps that read other
/// threads' results. Every thread adds the parts' sum, in part order, to its own copy of the
/// residual stream: the logits do not depend on the thread count, bit for bit, for the same
/// column parts, nor on the other sequences of the call (each token's products are the
/// one-input kernels' results, bit for bit).
void infer_decode(infer_pool *pool, const infer_decoder *d, const infer_sequence *seqs, int count);

#ifdef __cplusplus
}
#endif
#endif
