// Attention of the query heads that share one KV head, over the KV cache, with AVX2 and FMA
// (x86-64), chosen at run time by infer_attention_heads_isa: the scalar path's computation in
// another shape. Scores are computed for eight positions at a time, each position's lanes
// accumulating the elements i ≡ lane (mod 8), with one transposing reduction for the eight
// sums instead of a call and a horizontal sum per position; the heads of a group take each
// block of positions in turn, so the cache is read from memory once per group, not once per
// head; the softmax takes the batched path's vectorized exp (expf has a slow path for the
// underflowing scores that most positions far from the query give). No software prefetch: a
// head's rows are one contiguous stream in the cache, which the hardware prefetcher follows on
// its own (requests of ours only compete with it). Cache rows of f16 and q8_0 are widened as they are loaded, eight values at a
// time. The results agree with the scalar path to within a few f32 ulps (fused multiply-adds,
// another exp), not bit for bit.
#if defined(__x86_64__)
#include "kernels.h"
#include "kernel_table.h"
#include "batch.h"
#include "decode.h"
#include "blocks.h"
#include <immintrin.h>

#define AVX2_FMA __attribute__((target("avx2,fma,f16c")))

/// The eight sums ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7)) of the lanes of each of
/// v[0..7], in one vector.
AVX2_FMA static inline __m256 sums_of_8(const __m256 v[8]) {
    __m256 g1 = _mm256_hadd_ps(_mm256_hadd_ps(v[0], v[1]), _mm256_hadd_ps(v[2], v[3]));
    __m256 g2 = _mm256_hadd_ps(_mm256_hadd_ps(v[4], v[5]), _mm256_hadd_ps(v[6], v[7]));
    // Lanes 0-3 of g1 hold v[0..3]'s (p0 + p1) + (p2 + p3), lanes 4-7 their (p4 + p5) + (p6 + p7).
    return _mm256_add_ps(_mm256_permute2f128_ps(g1, g2, 0x20), _mm256_permute2f128_ps(g1, g2, 0x31));
}

/// Eight values of a cache row of `type` from element i (a multiple of 8): f32 as they are, f16
/// widened, q8_0 scaled by their block's scale.
__attribute__((always_inline)) AVX2_FMA static inline __m256 load8(infer_type type, const void *row, int i) {
    if (type == INFER_TYPE_F16) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)row + i)));
    if (type == INFER_TYPE_Q8_0) {
        const block_q8_0 *b = (const block_q8_0 *)row + i / QK8_0;
        __m256 q = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(b->qs + i % QK8_0))));
        return _mm256_mul_ps(_mm256_set1_ps(_cvtsh_ss(b->d)), q);
    }
    return _mm256_loadu_ps((const float *)row + i);
}

/// scores[j] = scale (q · k_j) for the eight positions j in [0, 8) from k (`row_bytes` apart):
/// each position's lanes accumulate the elements i ≡ lane (mod 8), then one transposing reduction.
__attribute__((always_inline)) AVX2_FMA static inline void scores_of_8(infer_type type, const float *q, const char *k,
                                                                        size_t row_bytes, int head_dim, float scale,
                                                                        float *scores) {
    __m256 acc[8];
    for (int j = 0; j < 8; j++) acc[j] = _mm256_setzero_ps();
    for (int i = 0; i < head_dim; i += 8) {
        __m256 qi = _mm256_loadu_ps(q + i);
        for (int j = 0; j < 8; j++) acc[j] = _mm256_fmadd_ps(qi, load8(type, k + (size_t)j * row_bytes, i), acc[j]);
    }
    _mm256_storeu_ps(scores, _mm256_mul_ps(sums_of_8(acc), _mm256_set1_ps(scale)));
}

/// o[0, 8 lanes) += Σ_{t in [t0, t1)} s[t] v_t[d0, d0 + 8 lanes), starting from zero when t0 is 0.
/// Called with lanes a constant, so that the sums stay in registers (a count known only at run
/// time kept them on the stack, a store and a load per position).
__attribute__((always_inline)) AVX2_FMA static inline void add_values(infer_type type, int lanes, const float *s,
                                                                      const char *v, size_t row_bytes, int d0, int t0,
                                                                      int t1, float *o) {
    __m256 acc[8];
    for (int j = 0; j < lanes; j++) acc[j] = t0 == 0 ? _mm256_setzero_ps() : _mm256_loadu_ps(o + 8 * j);
    for (int t = t0; t < t1; t++) {
        const char *vt = v + (size_t)t * row_bytes;
        __m256 a = _mm256_set1_ps(s[t]);
        for (int j = 0; j < lanes; j++) acc[j] = _mm256_fmadd_ps(a, load8(type, vt, d0 + 8 * j), acc[j]);
    }
    for (int j = 0; j < lanes; j++) _mm256_storeu_ps(o + 8 * j, acc[j]);
}

/// Positions of V a pass takes for every head before moving on (16 rows of a 128-wide head
/// are 8 KB, which the other heads then read from L1).
#define VALUE_BLOCK 16

/// The kernel for one cache type (a constant in each caller, so that the loads specialize).
__attribute__((always_inline)) AVX2_FMA static inline void attention(infer_type type, const float *q, int heads,
                                                                     const char *k, const char *v, size_t row_bytes,
                                                                     int n_pos, int head_dim, float scale, float soft_cap,
                                                                     float *scores, size_t scores_stride, float *out) {
    if (n_pos <= 0) {  // nothing to attend to: zeros, as the scalar path gives
        for (int i = 0; i < heads * head_dim; i++) out[i] = 0;
        return;
    }
    // Every head's scores of eight positions before the next eight: the heads of a group
    // then read those keys from L1, not each from memory (a layer's cache is megabytes at
    // long contexts, and the weights streamed between tokens leave none of it in cache).
    int t = 0;
    for (; t + 8 <= n_pos; t += 8) {
        for (int h = 0; h < heads; h++) {
            scores_of_8(type, q + (size_t)h * head_dim, k + (size_t)t * row_bytes, row_bytes, head_dim, scale,
                        scores + (size_t)h * scores_stride + t);
        }
    }
    for (int h = 0; h < heads; h++) {
        float *s = scores + (size_t)h * scores_stride;
        for (int p = t; p < n_pos; p++) {
            s[p] = infer_cache_row_dot(type, q + (size_t)h * head_dim, k + (size_t)p * row_bytes, head_dim) * scale;
        }
        if (soft_cap > 0) infer_soft_cap(s, (size_t)n_pos, soft_cap);
        infer_softmax_prefix(s, n_pos, n_pos);
    }
    // out_h = Σ_t scores_h[t] v_t, in blocks of positions taken by every head in turn; each
    // output element adds its terms in the order of t, as a head alone would.
    for (int t0 = 0; t0 < n_pos; t0 += VALUE_BLOCK) {
        int t1 = t0 + VALUE_BLOCK < n_pos ? t0 + VALUE_BLOCK : n_pos;
        for (int h = 0; h < heads; h++) {
            const float *s = scores + (size_t)h * scores_stride;
            float *o_h = out + (size_t)h * head_dim;
            int d = 0;
            for (; d + 64 <= head_dim; d += 64) add_values(type, 8, s, v, row_bytes, d, t0, t1, o_h + d);
            switch ((head_dim - d) / 8) {  // the rest of the head, with a constant count
            case 1: add_values(type, 1, s, v, row_bytes, d, t0, t1, o_h + d); break;
            case 2: add_values(type, 2, s, v, row_bytes, d, t0, t1, o_h + d); break;
            case 3: add_values(type, 3, s, v, row_bytes, d, t0, t1, o_h + d); break;
            case 4: add_values(type, 4, s, v, row_bytes, d, t0, t1, o_h + d); break;
            case 5: add_values(type, 5, s, v, row_bytes, d, t0, t1, o_h + d); break;
            case 6: add_values(type, 6, s, v, row_bytes, d, t0, t1, o_h + d); break;
            case 7: add_values(type, 7, s, v, row_bytes, d, t0, t1, o_h + d); break;
            default: break;
            }
        }
    }
}

AVX2_FMA void infer_attention_heads_avx2(const float *q, int heads, const void *k, const void *v, infer_type type,
                                         size_t row_bytes, int n_pos, int head_dim, float scale, float soft_cap,
                                         float *scores, size_t scores_stride, float *out) {
    switch (type) {
    case INFER_TYPE_F16:
        attention(INFER_TYPE_F16, q, heads, k, v, row_bytes, n_pos, head_dim, scale, soft_cap, scores, scores_stride, out);
        break;
    case INFER_TYPE_Q8_0:
        attention(INFER_TYPE_Q8_0, q, heads, k, v, row_bytes, n_pos, head_dim, scale, soft_cap, scores, scores_stride, out);
        break;
    default:
        attention(INFER_TYPE_F32, q, heads, k, v, row_bytes, n_pos, head_dim, scale, soft_cap, scores, scores_stride, out);
        break;
    }
}
#endif
