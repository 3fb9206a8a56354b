// q4_0 weights interleaved by 8 rows, for generation on CPUs with AVX-512 VNNI, in the layout
// of x8_scaled_blocks.h (a block of 8 rows holds their 8 scales, then their quants in 4-byte
// groups), so one VPDPBUSD against 4 broadcast activation bytes gives 8 rows' partial sums.
// Measured with kernel-bench and infer bench (Benchmarks/README.md).
#include "kernels.h"
#include "blocks.h"
#include "kernel_table.h"
#include "x8_batch.h"
#include "x8_scaled_blocks.h"
#include <string.h>

size_t infer_q4_0_x8_bytes(int rows, int cols) { return x8_scaled_bytes(rows, cols, QK4_0 / 2); }

void infer_q4_0_x8_repack(const void *src, size_t row_bytes, int rows, int cols, void *dst) {
    x8_scaled_repack(src, row_bytes, rows, cols, QK4_0 / 2, dst);
}

void infer_q4_0_x8_block(const void *x8, int cols, int row, int block, void *out) {
    x8_scaled_block(x8, cols, row, block, QK4_0 / 2, out);
}

#if defined(__x86_64__)
#include <immintrin.h>
#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

/// Σ (q - 8) y = Σ q y - 8 Σ y per block, with Σ y (times the activation's scale) taken from
/// the activation's per-block sums.
VNNI void infer_q4_0_x8_dot8(const void *group, const void *act, int n, float out[8]) {
    const block_q4_0_x8 *w = group;
    q8_32_view x = q8_32_at(act, n);
    const __m256i low4 = _mm256_set1_epi8(0x0F), high4 = _mm256_set1_epi8((char)0xF0);
    __m256 acc = _mm256_setzero_ps(), off = _mm256_setzero_ps();  // lanes: the 8 rows
    for (int i = 0; i < n / QK4_0; i++) {
        const int8_t *y = x.qs + 32 * i;
        // Elements 0-15 and 16-31, per row; the high nibbles taken in place (q & 0xF0, 16 times
        // their value), their sum divided by 16 once, exactly: one shift a group less.
        __m256i lo = _mm256_setzero_si256(), hi = lo;
        for (int k = 0; k < 4; k++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)w[i].qs[k]);
            int32_t ylo, yhi;
            memcpy(&ylo, y + 4 * k, 4);
            memcpy(&yhi, y + 16 + 4 * k, 4);
            lo = _mm256_dpbusd_epi32(lo, _mm256_and_si256(q, low4), _mm256_set1_epi32(ylo));
            hi = _mm256_dpbusd_epi32(hi, _mm256_and_si256(q, high4), _mm256_set1_epi32(yhi));
        }
        __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)w[i].d));
        __m256i sum = _mm256_add_epi32(lo, _mm256_srai_epi32(hi, 4));
        acc = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(x.d[i])), _mm256_cvtepi32_ps(sum), acc);
        off = _mm256_fmadd_ps(dw, _mm256_set1_ps(x.sum[i]), off);
    }
    _mm256_storeu_ps(out, _mm256_fnmadd_ps(_mm256_set1_ps(8.0f), off, acc));
}
#endif

#if defined(__x86_64__)
/// The 8 rows against K activations (K at most 8, a constant where it is inlined): each block's
/// quants loaded and split into nibbles once for all K, then per activation the arithmetic of
/// infer_q4_0_x8_dot8 in its order, so each activation's sums are that kernel's, bit for bit.
__attribute__((always_inline)) static inline VNNI void rows_of_k(const block_q4_0_x8 *w, const q8_32_view *x, int K,
                                                                 int n, float *const *out, size_t at) {
    const __m256i low4 = _mm256_set1_epi8(0x0F), high4 = _mm256_set1_epi8((char)0xF0);
    __m256 acc[8], off[8];
    for (int v = 0; v < K; v++) acc[v] = off[v] = _mm256_setzero_ps();
    for (int i = 0; i < n / QK4_0; i++) {
        __m256i lo4[4], hi4[4];
        for (int k = 0; k < 4; k++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)w[i].qs[k]);
            lo4[k] = _mm256_and_si256(q, low4);
            hi4[k] = _mm256_and_si256(q, high4);
        }
        __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)w[i].d));
        for (int v = 0; v < K; v++) {
            const int8_t *y = x[v].qs + 32 * i;
            __m256i lo = _mm256_setzero_si256(), hi = lo;
            for (int k = 0; k < 4; k++) {
                int32_t ylo, yhi;
                memcpy(&ylo, y + 4 * k, 4);
                memcpy(&yhi, y + 16 + 4 * k, 4);
                lo = _mm256_dpbusd_epi32(lo, lo4[k], _mm256_set1_epi32(ylo));
                hi = _mm256_dpbusd_epi32(hi, hi4[k], _mm256_set1_epi32(yhi));
            }
            __m256i sum = _mm256_add_epi32(lo, _mm256_srai_epi32(hi, 4));
            acc[v] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(x[v].d[i])), _mm256_cvtepi32_ps(sum), acc[v]);
            off[v] = _mm256_fmadd_ps(dw, _mm256_set1_ps(x[v].sum[i]), off[v]);
        }
    }
    for (int v = 0; v < K; v++) _mm256_storeu_ps(out[v] + at, _mm256_fnmadd_ps(_mm256_set1_ps(8.0f), off[v], acc[v]));
}

X8_DOT8_BATCH(infer_q4_0_x8_dot8_batch, infer_q4_0_x8_dot8, q8_32_view, q8_32_at)
#endif
