// CKernels: the hot loops of infer.
//
// Every kernel has a portable scalar reference; optimized paths (AVX2+FMA+F16C on x86-64,
// NEON on arm64) live beside it, are chosen at run time, and are checked against it by the
// tests. Weights are read in place (zero-copy from the memory-mapped model file), so every
// matrix kernel takes a raw row pointer and the byte stride between rows.
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
    INFER_TYPE_Q4_0 = 2,
    INFER_TYPE_Q4_1 = 3,
    INFER_TYPE_Q5_0 = 6,
    INFER_TYPE_Q5_1 = 7,
    INFER_TYPE_Q8_0 = 8,
    INFER_TYPE_Q2_K = 10,
    INFER_TYPE_Q3_K = 11,
    INFER_TYPE_Q4_K = 12,
    INFER_TYPE_Q5_K = 13,
    INFER_TYPE_Q6_K = 14,
    INFER_TYPE_BF16 = 30,
    /// llama2.c version-2 checkpoints: int8 values and one f32 scale per `group_size` values,
    /// the groups running over the flattened matrix (they may straddle rows). Not a GGUF id.
    INFER_TYPE_Q8_GROUPED = 1000,
    /// q4_K rows interleaved by 8 (block_q4_K_x8, made by infer_q4_K_x8_repack) for CPUs with
    /// AVX-512 VNNI: row_bytes is unused, rows is a multiple of 8. Not a GGUF id.
    INFER_TYPE_Q4_K_X8 = 1001,
    /// q4_0 rows interleaved by 8 (block_q4_0_x8, infer_q4_0_x8_repack), likewise.
    INFER_TYPE_Q4_0_X8 = 1002,
    /// q6_K rows interleaved by 8 (block_q6_K_x8, infer_q6_K_x8_repack), likewise.
    INFER_TYPE_Q6_K_X8 = 1003,
    /// q8_0 rows interleaved by 8 (block_q8_0_x8, infer_q8_0_x8_repack), likewise.
    INFER_TYPE_Q8_0_X8 = 1004,
} infer_type;

/// Instruction sets with their own kernels.
typedef enum {
    INFER_ISA_SCALAR = 0,
    INFER_ISA_AVX2 = 1,   // x86-64 with AVX2, FMA and F16C
    INFER_ISA_NEON = 2,   // arm64
    INFER_ISA_AVX512 = 3, // x86-64 with AVX2 and AVX-512 F/BW/VL/DQ/VNNI (AVX2 kernels where it has none)
} infer_isa;

/// Whether this build and this CPU can run `isa`'s kernels.
int infer_isa_supported(infer_isa isa);
/// The instruction set matrix products use: the best supported one, unless the environment
/// variable INFER_ISA says otherwise (scalar: the reference kernels; avx2: no AVX-512).
infer_isa infer_isa_active(void);
/// The ISA whose dot kernel for `type` runs when `isa` is asked for: AVX-512 borrows the AVX2
/// kernels of the types it has none for (f16: see Kernels/dot_avx512.c).
infer_isa infer_dot_kernel_isa(infer_isa isa, infer_type type);

/// Whether the kernels compute with `type` (the GGUF types above; not the grouped one).
int infer_type_supported(infer_type type);
/// Elements per block of `type` (1 for float types).
int infer_type_block_size(infer_type type);

// ---- hashing -------------------------------------------------------------------------
/// XXH64 of n bytes with `seed` (fast, not cryptographic): model identities, file checks.
uint64_t infer_hash64(const void *data, size_t n, uint64_t seed);

// ---- half precision ----------------------------------------------------------------
float infer_fp16_to_fp32(uint16_t h);
uint16_t infer_fp32_to_fp16(float f);
// ---- matrices interleaved by 8 rows (for generation on AVX-512 VNNI CPUs) --------------
// `type` is an interleaved type (INFER_TYPE_Q4_K_X8, INFER_TYPE_Q4_0_X8, INFER_TYPE_Q6_K_X8,
// INFER_TYPE_Q8_0_X8);
// rows a multiple of 8.
/// Bytes of the interleaved copy of a (rows, cols) matrix.
size_t infer_interleaved_bytes(infer_type type, int rows, int cols);
/// Writes the interleaved copy of rows of the file's type (`row_bytes` apart) to dst.
void infer_interleave(infer_type type, const void *src, size_t row_bytes, int rows, int cols, void *dst);
/// Block `block` of row `row` of an interleaved matrix, as the block is in the file.
void infer_interleaved_block(infer_type type, const void *x8, int cols, int row, int block, void *out);

// ---- memory for weight copies ------------------------------------------------------------
/// `bytes` of zeroed memory, 2 MiB-aligned and advised to use transparent huge pages (fewer
/// TLB misses when streamed); NULL when the system has none to give.
void *infer_huge_pages_alloc(size_t bytes);
/// Frees memory from infer_huge_pages_alloc, given the same byte count.
void infer_huge_pages_free(void *memory, size_t bytes);

/// out[i] = x[i] rounded to the nearest f16 (ties to even), as f32; out may be x.
void infer_round_to_f16_precision(const float *x, float *out, size_t n);

// ---- rows: dequantization and dot products ------------------------------------------
/// Writes a row of n elements of `type` as f32 (the scalar reference decoding; also the
/// token-embedding lookup). n is a multiple of the block size.
void infer_dequantize_row(infer_type type, const void *row, float *out, int n);

/// Dot products consume the activation vector in the form their weight type pairs with:
/// f32 for float weights, int8 blocks (blocks.h: block_q8_32 or block_q8_K) for quantized
/// ones. Bytes needed for n activations of a product with `type` weights:
size_t infer_activation_bytes(infer_type type, int n);
/// Converts x (n elements) into the activation form for `type` weights with `isa`'s code.
/// Every ISA produces the same bytes.
void infer_prepare_activation(infer_isa isa, infer_type type, const float *x, void *act, int n);
/// Dot product of one weight row of `type` (n elements) with a prepared activation, using
/// `isa`'s kernel. n must be a multiple of the block size.
float infer_dot(infer_isa isa, infer_type type, const void *row, const void *act, int n);

/// Plain f32 dot product (attention scores, tests).
float infer_dot_f32(const float *a, const float *b, int n);

// ---- llama2.c version-2 Q8_0 (INFER_TYPE_Q8_GROUPED) ----------------------------------
/// y[r] = dot(W[r], x) for r in [row_begin, row_end), W flattened row-major.
void infer_matvec_q8_grouped(const int8_t *q, const float *scales, int group_size,
                             const float *x, float *y, int row_begin, int row_end, int cols);
/// n values of the flattened matrix from index `first`, as f32.
void infer_dequantize_q8_grouped(const int8_t *q, const float *scales, int group_size,
                                 size_t first, float *out, int n);

// ---- threads ---------------------------------------------------------------------------
/// A fixed set of worker threads that run the parts of one parallel job at a time. The
/// calling thread takes part, so a pool of n threads starts n - 1 workers. Workers spin
/// briefly between jobs (a token's ~150 products follow each other within microseconds)
/// and then sleep, so an idle pool costs nothing.
typedef struct infer_pool infer_pool;
/// task(context, begin, end, thread) handles the indices [begin, end); thread is in
/// [0, threads), so a task can use per-thread scratch.
typedef void (*infer_task)(void *context, int begin, int end, int thread);

/// A pool of `threads` threads (at least 1; the caller counts as one).
infer_pool *infer_pool_create(int threads);
void infer_pool_destroy(infer_pool *pool);
int infer_pool_threads(const infer_pool *pool);
/// Runs task over the indices [0, count) on the pool's threads, in ranges of at least
/// `grain` indices, and returns when all are done. A NULL pool runs everything on the
/// caller. Not reentrant: one job at a time per pool.
void infer_pool_run(infer_pool *pool, infer_task task, void *context, int count, int grain);
/// Runs task(context, t, t + 1, t) on every thread t of the pool at once (the caller is 0) and
/// returns when all are done: for tasks that wait for each other (a barrier), which
/// infer_pool_run's ranges cannot be (one thread may take them all).
void infer_pool_gang(infer_pool *pool, infer_task task, void *context);

// ---- matrix-vector products --------------------------------------------------------------
/// A weight matrix in place: `rows` rows of `cols` elements of `type`, `row_bytes` apart.
typedef struct {
    infer_type type;
    const void *data;
    size_t row_bytes;
    int rows;
    int cols;
    const float *group_scales;  // INFER_TYPE_Q8_GROUPED only: one scale per group
    int group_size;             // INFER_TYPE_Q8_GROUPED only
} infer_matrix;

/// y = W x.
typedef struct {
    const infer_matrix *w;
    const float *x;   // (cols)
    float *y;         // (rows)
} infer_product;

/// Most products infer_matvec takes at once.
#define INFER_MATVEC_MAX_PRODUCTS 8

/// Computes `count` (at most INFER_MATVEC_MAX_PRODUCTS) products as one parallel job: each x is prepared once (products that
/// share an x and activation form share the preparation), then the rows of all products are
/// split among the pool's threads. `scratch` holds the prepared activations: at least
/// infer_matvec_scratch_bytes(products, count) bytes, 64-byte aligned.
void infer_matvec(infer_pool *pool, const infer_product *products, int count, void *scratch);
size_t infer_matvec_scratch_bytes(const infer_product *products, int count);

/// Bytes of scratch infer_matvec_activation needs for `w` (64-byte multiples; 0 for x read in place).
size_t infer_matvec_activation_bytes(const infer_matrix *w);
/// x as `w`'s kernels read it: prepared into `scratch` (infer_matvec_activation_bytes(w), 64-byte
/// aligned), or x itself.
const void *infer_matvec_activation(const infer_matrix *w, const float *x, void *scratch);
/// Rows [row_begin, row_end) of y = W x on the calling thread, with x prepared as `act` by
/// infer_matvec_activation; the same kernels as infer_matvec, so the same values. Both ends a
/// multiple of 8 for a matrix interleaved by 8 rows.
void infer_matvec_rows(const infer_matrix *w, const void *act, const float *x, float *y, int row_begin, int row_end);

/// Rows [row_begin, row_end) of y[v] = W x[v] for `count` inputs at once, each x[v] prepared as
/// acts[v] by infer_matvec_activation: the weights are read once for all of them (a matrix
/// interleaved by 8 rows unpacks each block once for every input; other rows are multiplied by
/// every input while in the cache), and each y[v] is the same, bit for bit, as
/// infer_matvec_rows gives for x[v] alone. Both ends a multiple of 8 for an interleaved matrix.
void infer_matvec_rows_batch(const infer_matrix *w, const void *const *acts, const float *const *x, float *const *y,
                             int count, int row_begin, int row_end);

/// The rows [row_begin, row_end) of one product with the reference kernels, one thread:
/// what the tests compare against.
void infer_matvec_reference(const infer_matrix *w, const float *x, float *y, int row_begin, int row_end);

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
/// The same with the kernels of `isa` (infer_attention_head uses the active ones); every ISA
/// agrees with the scalar path to within a few f32 ulps (its own exp in the softmax).
void infer_attention_head_isa(infer_isa isa, const float *q, const float *k, const float *v, size_t stride,
                              int n_pos, int head_dim, float scale, float *scores, float *out);
/// Attention of `heads` query heads that read the same KV head: q, out: (heads, head_dim);
/// k, v: n_pos rows of head_dim values of `kv_type` (F32, F16 or Q8_0: a KV cache's rows,
/// include/decode.h), `row_bytes` apart; scores: (heads, scores_stride) scratch. Scores above
/// `soft_cap` in size are capped smoothly first (cap * tanh(score / cap); 0: no cap). Each head's
/// result is the same, bit for bit, as it is alone; together, the cache is read once for all of
/// them. Every ISA agrees with the scalar path to within a few f32 ulps.
void infer_attention_heads_isa(infer_isa isa, const float *q, int heads, const void *k, const void *v,
                               infer_type kv_type, size_t row_bytes, int n_pos, int head_dim, float scale,
                               float soft_cap, float *scores, size_t scores_stride, float *out);

#ifdef __cplusplus
}
#endif
#endif
