// q8_0 weights interleaved by 8 rows, for generation on CPUs with AVX-512 VNNI, in the layout
// of x8_scaled_blocks.h, as q4_0's (a block of 8 rows holds their 8 scales, then their quants
// in 4-byte groups), so one VPDPBUSD against 4 broadcast activation bytes gives 8 rows' partial
// sums, and the scale work of a block is done once for 8 rows. Read in place, the q8_0 kernel
// computes barely faster than two cores read from memory, so it cannot keep up with the reads
// (Benchmarks/README.md, "Design decisions and their measurements").
#include "kernels.h"
#include "blocks.h"
#include "kernel_table.h"
#include "x8_batch.h"
#include "x8_scaled_blocks.h"
#include <string.h>

size_t infer_q8_0_x8_bytes(int rows, int cols) { return x8_scaled_bytes(rows, cols, QK8_0); }

void infer_q8_0_x8_repack(const void *src, size_t row_bytes, int rows, int cols, void *dst) {
    x8_scaled_repack(src, row_bytes, rows, cols, QK8_0, dst);
}

void infer_q8_0_x8_block(const void *x8, int cols, int row, int block, void *out) {
    x8_scaled_block(x8, cols, row, block, QK8_0, out);
}

#if defined(__x86_64__)
#include <immintrin.h>
#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

/// VPDPBUSD multiplies unsigned bytes by signed ones, so the quants go in offset by 128
/// (a sign-bit flip): Σ q y = Σ (q + 128) y - 128 Σ y per block, with Σ y (times the
/// activation's scale) taken from the activation's per-block sums.
VNNI void infer_q8_0_x8_dot8(const void *group, const void *act, int n, float out[8]) {
    const block_q8_0_x8 *w = group;
    q8_32_view x = q8_32_at(act, n);
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    __m256 acc = _mm256_setzero_ps(), off = _mm256_setzero_ps();  // lanes: the 8 rows
    for (int i = 0; i < n / QK8_0; i++) {
        const int8_t *y = x.qs + 32 * i;
        __m256i even = _mm256_setzero_si256(), odd = even;  // two chains: groups 0, 2, .. and 1, 3, ..
        for (int k = 0; k < 8; k += 2) {
            int32_t y0, y1;
            memcpy(&y0, y + 4 * k, 4);
            memcpy(&y1, y + 4 * k + 4, 4);
            __m256i q0 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)w[i].qs[k]), flip);
            __m256i q1 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)w[i].qs[k + 1]), flip);
            even = _mm256_dpbusd_epi32(even, q0, _mm256_set1_epi32(y0));
            odd = _mm256_dpbusd_epi32(odd, q1, _mm256_set1_epi32(y1));
        }
        __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)w[i].d));
        acc = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(x.d[i])), _mm256_cvtepi32_ps(_mm256_add_epi32(even, odd)), acc);
        off = _mm256_fmadd_ps(dw, _mm256_set1_ps(x.sum[i]), off);
    }
    _mm256_storeu_ps(out, _mm256_fnmadd_ps(_mm256_set1_ps(128.0f), off, acc));
}
#endif

#if defined(__x86_64__)
/// The 8 rows against K activations (K at most 8, a constant where it is inlined): each block's
/// quants loaded and offset once for all K, then per activation the arithmetic of
/// infer_q8_0_x8_dot8 in its order, so each activation's sums are that kernel's, bit for bit.
__attribute__((always_inline)) static inline VNNI void rows_of_k(const block_q8_0_x8 *w, const q8_32_view *x, int K,
                                                                 int n, float *const *out, size_t at) {
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    __m256 acc[8], off[8];
    for (int v = 0; v < K; v++) acc[v] = off[v] = _mm256_setzero_ps();
    for (int i = 0; i < n / QK8_0; i++) {
        __m256i q[8];
        for (int k = 0; k < 8; k++) q[k] = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)w[i].qs[k]), flip);
        __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)w[i].d));
        for (int v = 0; v < K; v++) {
            const int8_t *y = x[v].qs + 32 * i;
            __m256i even = _mm256_setzero_si256(), odd = even;
            for (int k = 0; k < 8; k += 2) {
                int32_t y0, y1;
                memcpy(&y0, y + 4 * k, 4);
                memcpy(&y1, y + 4 * k + 4, 4);
                even = _mm256_dpbusd_epi32(even, q[k], _mm256_set1_epi32(y0));
                odd = _mm256_dpbusd_epi32(odd, q[k + 1], _mm256_set1_epi32(y1));
            }
            acc[v] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(x[v].d[i])),
                                     _mm256_cvtepi32_ps(_mm256_add_epi32(even, odd)), acc[v]);
            off[v] = _mm256_fmadd_ps(dw, _mm256_set1_ps(x[v].sum[i]), off[v]);
        }
    }
    for (int v = 0; v < K; v++) _mm256_storeu_ps(out[v] + at, _mm256_fnmadd_ps(_mm256_set1_ps(128.0f), off[v], acc[v]));
}

X8_DOT8_BATCH(infer_q8_0_x8_dot8_batch, infer_q8_0_x8_dot8, q8_32_view, q8_32_at)
#endif
