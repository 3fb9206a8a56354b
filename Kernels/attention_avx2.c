// One head's attention over the KV cache with AVX2 and FMA (x86-64), chosen at run time by
// infer_attention_head: the scalar path's computation in another shape. Scores are computed
// for eight positions at a time, each position's lanes accumulating the elements i ≡ lane
// (mod 8), with one transposing reduction for the eight sums instead of a call and a
// horizontal sum per position (attention was 7% of a TinyLlama Q4_0 token with one thread);
// the softmax takes the batched path's vectorized exp (expf's slow path for underflowing
// scores alone cost 0.7% of a Q4_K_M token). The results agree with the scalar path to within
// a few f32 ulps (fused multiply-adds, another exp), not bit for bit.
#if defined(__x86_64__)
#include "kernels.h"
#include "kernel_table.h"
#include "batch.h"
#include <immintrin.h>

#define AVX2_FMA __attribute__((target("avx2,fma")))

/// The eight sums ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7)) of the lanes of each of
/// v[0..7], in one vector.
AVX2_FMA static inline __m256 sums_of_8(const __m256 v[8]) {
    __m256 g1 = _mm256_hadd_ps(_mm256_hadd_ps(v[0], v[1]), _mm256_hadd_ps(v[2], v[3]));
    __m256 g2 = _mm256_hadd_ps(_mm256_hadd_ps(v[4], v[5]), _mm256_hadd_ps(v[6], v[7]));
    // Lanes 0-3 of g1 hold v[0..3]'s (p0 + p1) + (p2 + p3), lanes 4-7 their (p4 + p5) + (p6 + p7).
    return _mm256_add_ps(_mm256_permute2f128_ps(g1, g2, 0x20), _mm256_permute2f128_ps(g1, g2, 0x31));
}

AVX2_FMA void infer_attention_head_avx2(const float *q, const float *k, const float *v, size_t stride,
                                    int n_pos, int head_dim, float scale, float *scores, float *out) {
    int t = 0;
    for (; t + 8 <= n_pos; t += 8) {
        __m256 acc[8];
        for (int j = 0; j < 8; j++) acc[j] = _mm256_setzero_ps();
        for (int i = 0; i < head_dim; i += 8) {
            __m256 qi = _mm256_loadu_ps(q + i);
            for (int j = 0; j < 8; j++) {
                __m256 kj = _mm256_loadu_ps(k + (size_t)(t + j) * stride + i);
                acc[j] = _mm256_fmadd_ps(qi, kj, acc[j]);
            }
        }
        _mm256_storeu_ps(scores + t, _mm256_mul_ps(sums_of_8(acc), _mm256_set1_ps(scale)));
    }
    for (; t < n_pos; t++) scores[t] = infer_dot_f32(q, k + (size_t)t * stride, head_dim) * scale;
    infer_softmax_prefix(scores, n_pos, n_pos);
    // out = Σ_t scores[t] v_t, 64 elements at a time over all positions.
    for (int d = 0; d < head_dim; d += 64) {
        int lanes = head_dim - d < 64 ? (head_dim - d) / 8 : 8;
        __m256 o[8];
        for (int j = 0; j < lanes; j++) o[j] = _mm256_setzero_ps();
        for (int p = 0; p < n_pos; p++) {
            const float *vt = v + (size_t)p * stride + d;
            __m256 a = _mm256_set1_ps(scores[p]);
            for (int j = 0; j < lanes; j++) o[j] = _mm256_fmadd_ps(a, _mm256_loadu_ps(vt + 8 * j), o[j]);
        }
        for (int j = 0; j < lanes; j++) _mm256_storeu_ps(out + d + 8 * j, o[j]);
    }
}
#endif
