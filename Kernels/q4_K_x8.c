// q4_K weights interleaved by 8 rows, for generation on CPUs with AVX-512 VNNI.
//
// The in-place q4_K kernel spends most of its instructions per row on each block's scales
// (unpacking 6-bit values, broadcasting each sub-block's scale), so that it computes slower than
// memory streams the weights. Interleaving 8 rows (as llama.cpp's
// repack does) lets one instruction serve 8 rows: the scales of a block are stored unpacked
// with the 8 rows side by side, and the quants in 4-byte groups of the 8 rows, so one
// VPDPBUSD against 4 broadcast activation bytes gives 8 rows' partial sums in its 8 lanes.
// The copy is made once at load; the batched path reads the same copy (infer_qgemm_pack,
// infer_dequantize_rows), so the file's pages of these weights need not stay resident.
#include "kernels.h"
#include "blocks.h"
#include "kernel_table.h"
#include "x8_batch.h"
#include <string.h>
#include "prefetch.h"

size_t infer_q4_K_x8_bytes(int rows, int cols) {
    return (size_t)(rows / 8) * (size_t)(cols / QK_K) * sizeof(block_q4_K_x8);
}

void infer_q4_K_x8_repack(const void *src, size_t row_bytes, int rows, int cols, void *dst) {
    int nb = cols / QK_K;
    block_q4_K_x8 *out = dst;
    for (int g = 0; g < rows / 8; g++) {
        for (int i = 0; i < nb; i++, out++) {
            for (int j = 0; j < 8; j++) {
                const block_q4_K *b = (const block_q4_K *)((const char *)src + (size_t)(8 * g + j) * row_bytes) + i;
                uint8_t sc[8], mn[8];
                infer_k_scale_min(b->scales, sc, mn);
                out->d[j] = b->d;
                out->dmin[j] = b->dmin;
                for (int s = 0; s < 8; s++) {
                    out->scales[s][j] = sc[s];
                    out->mins[s / 2][j][s % 2] = mn[s];
                }
                for (int c = 0; c < 4; c++) {
                    for (int k = 0; k < 8; k++) memcpy(&out->qs[c][k][4 * j], b->qs + 32 * c + 4 * k, 4);
                }
            }
        }
    }
}

void infer_q4_K_x8_block(const void *x8, int cols, int row, int block, void *out) {
    const block_q4_K_x8 *x = (const block_q4_K_x8 *)x8 + (size_t)(row / 8) * (size_t)(cols / QK_K) + block;
    int j = row % 8;
    block_q4_K *b = out;
    b->d = x->d[j];
    b->dmin = x->dmin[j];
    // The inverse of infer_k_scale_min's unpacking.
    for (int s = 0; s < 4; s++) {
        uint8_t sc_hi = x->scales[s + 4][j], mn_hi = x->mins[(s + 4) / 2][j][s % 2];
        b->scales[s] = (uint8_t)(x->scales[s][j] | ((sc_hi >> 4) << 6));
        b->scales[s + 4] = (uint8_t)(x->mins[s / 2][j][s % 2] | ((mn_hi >> 4) << 6));
        b->scales[s + 8] = (uint8_t)((sc_hi & 0x0F) | ((mn_hi & 0x0F) << 4));
    }
    for (int c = 0; c < 4; c++) {
        for (int k = 0; k < 8; k++) memcpy(b->qs + 32 * c + 4 * k, &x->qs[c][k][4 * j], 4);
    }
}

#if defined(__x86_64__)
#include <immintrin.h>
#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

/// Per row, Σ_s d scale_s Σ q y - dmin Σ_s min_s Σ y over each 32-element sub-block s, the
/// activation's sums standing in for Σ y. The copy's compute speed (in L2) must stay well above
/// what a thread streams from memory for the work to hide behind the reads; the three changes
/// marked below raise it (Benchmarks/README.md, "Design decisions and their measurements").
VNNI void infer_q4_K_x8_dot8(const void *group, const void *act, int n, float out[8]) {
    const block_q4_K_x8 *w = group;
    const block_q8_K *x = act;
    const __m256i low4 = _mm256_set1_epi8(0x0F), high4 = _mm256_set1_epi8((char)0xF0);
    __m256 acc = _mm256_setzero_ps(), acc_min = _mm256_setzero_ps();  // lanes: the 8 rows
    for (int i = 0; i < n / QK_K; i++) {
        const int8_t *y = x[i].qs;
        prefetch_x8(&w[i], (int)offsetof(block_q4_K_x8, qs));  // the head: 160 bytes
        // The block's head first (d, dmin, mins; the scales share their cache lines), then the
        // quants: memory read in order, which the hardware prefetcher follows.
        __m256 dy = _mm256_set1_ps(x[i].d);
        __m256 d = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)w[i].d)), dy);
        __m256 dmin = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)w[i].dmin)), dy);
        // Σ_s min_s (bsums_2s + bsums_2s+1), per row, two sub-blocks at a time: each row's pair
        // of mins, stored side by side, as 16-bit values against the pair of sums in one
        // VPDPWSSD (change 1: stored apart, the pairs took two shuffles more). Sums of 32 quants
        // fit 16 bits (|s| <= 4064), and min · sum 32 bits: exact.
        __m256i b = _mm256_loadu_si256((const __m256i *)x[i].bsums);
        __m256i pair_sums = _mm256_hadd_epi16(b, b);  // 32-bit element 0, 1, 4, 5: sub-blocks (0, 1) ... (6, 7)
        __m256i mins = _mm256_setzero_si256();
        for (int t = 0; t < 4; t++) {
            __m256i m_pairs = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)w[i].mins[t]));
            __m256i sums = _mm256_permutevar8x32_epi32(pair_sums, _mm256_set1_epi32(t < 2 ? t : t + 2));
            mins = _mm256_dpwssd_epi32(mins, m_pairs, sums);
        }
        acc_min = _mm256_fmadd_ps(dmin, _mm256_cvtepi32_ps(mins), acc_min);
        // Change 2: the high nibbles are taken in place (q & 0xF0, 16 times their value) and the
        // sum of their sub-blocks divided by 16 once a block, exactly: one shift a group less.
        // Change 3: two accumulators a sub-block, so that a chain of dependent VPDPBUSD is 4
        // long, not 8 (the scheduler holds too few of the long chains to keep the units busy).
        __m256i sum = _mm256_setzero_si256(), sum_high = sum;
        for (int c = 0; c < 4; c++) {
            __m256i lo[2], hi[2];  // sub-blocks 2c and 2c + 1, per row, even and odd groups k
            lo[0] = lo[1] = hi[0] = hi[1] = _mm256_setzero_si256();
            for (int k = 0; k < 8; k++) {
                if (k % 2 == 0) prefetch_x8(w[i].qs[c][k], 64);
                __m256i q = _mm256_loadu_si256((const __m256i *)w[i].qs[c][k]);
                int32_t ylo, yhi;
                memcpy(&ylo, y + 64 * c + 4 * k, 4);
                memcpy(&yhi, y + 64 * c + 32 + 4 * k, 4);
                lo[k % 2] = _mm256_dpbusd_epi32(lo[k % 2], _mm256_and_si256(q, low4), _mm256_set1_epi32(ylo));
                hi[k % 2] = _mm256_dpbusd_epi32(hi[k % 2], _mm256_and_si256(q, high4), _mm256_set1_epi32(yhi));
            }
            __m256i s_lo = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)w[i].scales[2 * c]));
            __m256i s_hi = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)w[i].scales[2 * c + 1]));
            sum = _mm256_add_epi32(sum, _mm256_mullo_epi32(_mm256_add_epi32(lo[0], lo[1]), s_lo));
            sum_high = _mm256_add_epi32(sum_high, _mm256_mullo_epi32(_mm256_add_epi32(hi[0], hi[1]), s_hi));
        }
        sum = _mm256_add_epi32(sum, _mm256_srai_epi32(sum_high, 4));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sum), acc);
    }
    _mm256_storeu_ps(out, _mm256_sub_ps(acc, acc_min));
}
#endif

#if defined(__x86_64__)
/// The 8 rows against K activations (K at most 8, a constant where it is inlined): each block's
/// quants loaded and split into nibbles, its scales and mins widened, once for all K; per
/// activation the arithmetic of infer_q4_K_x8_dot8 (one chain per sub-block half: the K
/// activations are the independent chains here), its float steps in that kernel's order, so each
/// activation's sums are that kernel's, bit for bit (the integer sums are exact in any order).
__attribute__((always_inline)) static inline VNNI void rows_of_k(const block_q4_K_x8 *w, const block_q8_K *const *x,
                                                                 int K, int n, float *const *out, size_t at) {
    const __m256i low4 = _mm256_set1_epi8(0x0F), high4 = _mm256_set1_epi8((char)0xF0);
    __m256 acc[8], acc_min[8];
    for (int v = 0; v < K; v++) acc[v] = acc_min[v] = _mm256_setzero_ps();
    for (int i = 0; i < n / QK_K; i++) {
        prefetch_x8(&w[i], (int)offsetof(block_q4_K_x8, qs));
        __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)w[i].d));
        __m256 dminw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)w[i].dmin));
        __m256i m_pairs[4];
        for (int t = 0; t < 4; t++) m_pairs[t] = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)w[i].mins[t]));
        __m256 d[8];
        __m256i sum[8], sum_high[8];
        for (int v = 0; v < K; v++) {
            __m256 dy = _mm256_set1_ps(x[v][i].d);
            d[v] = _mm256_mul_ps(dw, dy);
            __m256 dmin = _mm256_mul_ps(dminw, dy);
            __m256i b = _mm256_loadu_si256((const __m256i *)x[v][i].bsums);
            __m256i pair_sums = _mm256_hadd_epi16(b, b);
            __m256i mins = _mm256_setzero_si256();
            for (int t = 0; t < 4; t++) {
                __m256i sums = _mm256_permutevar8x32_epi32(pair_sums, _mm256_set1_epi32(t < 2 ? t : t + 2));
                mins = _mm256_dpwssd_epi32(mins, m_pairs[t], sums);
            }
            acc_min[v] = _mm256_fmadd_ps(dmin, _mm256_cvtepi32_ps(mins), acc_min[v]);
            sum[v] = sum_high[v] = _mm256_setzero_si256();
        }
        for (int c = 0; c < 4; c++) {
            __m256i lo[8], hi[8];
            for (int v = 0; v < K; v++) lo[v] = hi[v] = _mm256_setzero_si256();
            for (int k = 0; k < 8; k++) {
                if (k % 2 == 0) prefetch_x8(w[i].qs[c][k], 64);
                __m256i q = _mm256_loadu_si256((const __m256i *)w[i].qs[c][k]);
                __m256i q_lo = _mm256_and_si256(q, low4), q_hi = _mm256_and_si256(q, high4);
                for (int v = 0; v < K; v++) {
                    int32_t ylo, yhi;
                    memcpy(&ylo, x[v][i].qs + 64 * c + 4 * k, 4);
                    memcpy(&yhi, x[v][i].qs + 64 * c + 32 + 4 * k, 4);
                    lo[v] = _mm256_dpbusd_epi32(lo[v], q_lo, _mm256_set1_epi32(ylo));
                    hi[v] = _mm256_dpbusd_epi32(hi[v], q_hi, _mm256_set1_epi32(yhi));
                }
            }
            __m256i s_lo = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)w[i].scales[2 * c]));
            __m256i s_hi = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)w[i].scales[2 * c + 1]));
            for (int v = 0; v < K; v++) {
                sum[v] = _mm256_add_epi32(sum[v], _mm256_mullo_epi32(lo[v], s_lo));
                sum_high[v] = _mm256_add_epi32(sum_high[v], _mm256_mullo_epi32(hi[v], s_hi));
            }
        }
        for (int v = 0; v < K; v++) {
            __m256i total = _mm256_add_epi32(sum[v], _mm256_srai_epi32(sum_high[v], 4));
            acc[v] = _mm256_fmadd_ps(d[v], _mm256_cvtepi32_ps(total), acc[v]);
        }
    }
    for (int v = 0; v < K; v++) _mm256_storeu_ps(out[v] + at, _mm256_sub_ps(acc[v], acc_min[v]));
}

X8_DOT8_BATCH(infer_q4_K_x8_dot8_batch, infer_q4_K_x8_dot8, const block_q8_K *, X8_ACT_AS_IS)
#endif
