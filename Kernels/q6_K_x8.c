// q6_K weights interleaved by 8 rows, for generation on CPUs with AVX-512 VNNI: the layout of
// q4_K_x8.c for q6_K (a block of 8 rows holds their scales side by side, then their 6-bit
// quants in 4-byte groups, low 4 bits and high 2 bits apart), so one VPDPBUSD against 4
// broadcast activation bytes gives 8 rows' partial sums. q6_K holds the output matrix of
// Q4_0 and Q4_K_M files and half of a Q4_K_M file's feed-forward down projections; read in
// place, its kernel computes at ~25 GB/s, below what one core streams.
#include "kernels.h"
#include "blocks.h"
#include "kernel_table.h"
#include <string.h>

size_t infer_q6_K_x8_bytes(int rows, int cols) {
    return (size_t)(rows / 8) * (size_t)(cols / QK_K) * sizeof(block_q6_K_x8);
}

void infer_q6_K_x8_repack(const void *src, size_t row_bytes, int rows, int cols, void *dst) {
    int nb = cols / QK_K;
    block_q6_K_x8 *out = dst;
    for (int g = 0; g < rows / 8; g++) {
        for (int i = 0; i < nb; i++, out++) {
            memset(out, 0, sizeof *out);
            for (int j = 0; j < 8; j++) {
                const block_q6_K *b = (const block_q6_K *)((const char *)src + (size_t)(8 * g + j) * row_bytes) + i;
                out->d[j] = b->d;
                for (int s = 0; s < 16; s++) out->half[s / 8].scales[s % 8][j] = b->scales[s];
                for (int p = 0; p < 2; p++) {
                    for (int k = 0; k < 8; k++) {
                        for (int h = 0; h < 2; h++) {
                            for (int m = 0; m < 4; m++) {
                                int e = 128 * p + 64 * h + 4 * k + m, lo = q6_K_value(b, e), hi = q6_K_value(b, e + 32);
                                out->half[p].q[k].ql[h][4 * j + m] = (uint8_t)((lo & 0x0F) | (hi & 0x0F) << 4);
                                // e is 128p + 32(2h) + 4k + m, e + 32 is 128p + 32(2h + 1) + 4k + m.
                                out->half[p].q[k].qh[4 * j + m] |= (uint8_t)((lo >> 4) << (4 * h) | (hi >> 4) << (4 * h + 2));
                            }
                        }
                    }
                }
            }
        }
    }
}

void infer_q6_K_x8_block(const void *x8, int cols, int row, int block, void *out) {
    const block_q6_K_x8 *x = (const block_q6_K_x8 *)x8 + (size_t)(row / 8) * (size_t)(cols / QK_K) + block;
    int j = row % 8;
    block_q6_K *b = out;
    memset(b, 0, sizeof *b);
    b->d = x->d[j];
    for (int s = 0; s < 16; s++) b->scales[s] = x->half[s / 8].scales[s % 8][j];
    for (int e = 0; e < QK_K; e++) {
        // Where element e is in the copy: half p, group k, nibble pair h, 4-byte lane m,
        // upper (second 32 of its 64) or not.
        int p = e / 128, within = e % 128, h = within / 64, upper = (within % 64) / 32, k = (within % 32) / 4, m = e % 4;
        int low = (x->half[p].q[k].ql[h][4 * j + m] >> (4 * upper)) & 0x0F;
        int high = (x->half[p].q[k].qh[4 * j + m] >> (2 * (2 * h + upper))) & 3;
        int q = low | high << 4;
        // The file's places (blocks.h): nibble within / 64 of ql[64p + within % 64], bits
        // 2 (within / 32) of qh[32p + within % 32].
        b->ql[64 * p + within % 64] |= (uint8_t)((q & 0x0F) << (4 * (within / 64)));
        b->qh[32 * p + within % 32] |= (uint8_t)((q >> 4) << (2 * (within / 32)));
    }
}

#if defined(__x86_64__)
#include <immintrin.h>
#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

/// Σ_s scale_s Σ (q - 32) y over each 16-element sub-block s = Σ_s scale_s (Σ q y - 32 bsum_s),
/// the activation's block sums standing in for Σ y.
VNNI void infer_q6_K_x8_dot8(const void *group, const void *act, int n, float out[8]) {
    const block_q6_K_x8 *w = group;
    const block_q8_K *x = act;
    const __m256i low4 = _mm256_set1_epi8(0x0F), low2 = _mm256_set1_epi8(3);
    __m256 acc = _mm256_setzero_ps();  // lanes: the 8 rows
    for (int i = 0; i < n / QK_K; i++) {
        __m256i sum = _mm256_setzero_si256(), offset = _mm256_setzero_si256();
        for (int p = 0; p < 2; p++) {
            const int8_t *y = x[i].qs + 128 * p;
            // part[s]: sub-block 8p + s, per row. Group k covers elements 4k to 4k + 3 of each
            // 32: sub-blocks 4h + 2u + k / 4 for nibble pair h, upper half u.
            __m256i part[8];
            for (int s = 0; s < 8; s++) part[s] = _mm256_setzero_si256();
            for (int k = 0; k < 8; k++) {
                __m256i qh = _mm256_loadu_si256((const __m256i *)w[i].half[p].q[k].qh);
                for (int h = 0; h < 2; h++) {
                    __m256i ql = _mm256_loadu_si256((const __m256i *)w[i].half[p].q[k].ql[h]);
                    __m256i bits = _mm256_srli_epi16(qh, 4 * h);
                    __m256i lo = _mm256_or_si256(_mm256_and_si256(ql, low4), _mm256_slli_epi16(_mm256_and_si256(bits, low2), 4));
                    __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql, 4), low4),
                                                 _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(bits, 2), low2), 4));
                    int32_t ylo, yhi;
                    memcpy(&ylo, y + 64 * h + 4 * k, 4);
                    memcpy(&yhi, y + 64 * h + 32 + 4 * k, 4);
                    part[4 * h + k / 4] = _mm256_dpbusd_epi32(part[4 * h + k / 4], lo, _mm256_set1_epi32(ylo));
                    part[4 * h + 2 + k / 4] = _mm256_dpbusd_epi32(part[4 * h + 2 + k / 4], hi, _mm256_set1_epi32(yhi));
                }
            }
            for (int s = 0; s < 8; s++) {
                __m256i scale = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)w[i].half[p].scales[s]));
                sum = _mm256_add_epi32(sum, _mm256_mullo_epi32(part[s], scale));
                offset = _mm256_add_epi32(offset, _mm256_mullo_epi32(scale, _mm256_set1_epi32(x[i].bsums[8 * p + s])));
            }
        }
        __m256 d = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)w[i].d)), _mm256_set1_ps(x[i].d));
        __m256i total = _mm256_sub_epi32(sum, _mm256_slli_epi32(offset, 5));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(total), acc);
    }
    _mm256_storeu_ps(out, acc);
}

/// Row `row` as f32: for each group of 4 elements, its low and high bits from the copy, four
/// at a time, as infer_dequantize_row(INFER_TYPE_Q6_K) computes them (d * scale * (q - 32)).
VNNI void infer_q6_K_x8_widen(const void *x8, int cols, int row, float *out) {
    const block_q6_K_x8 *x = (const block_q6_K_x8 *)x8 + (size_t)(row / 8) * (size_t)(cols / QK_K);
    int j = row % 8;
    const __m128i low4 = _mm_set1_epi8(0x0F), low2 = _mm_set1_epi8(3), bias = _mm_set1_epi32(32);
    for (int i = 0; i < cols / QK_K; i++, out += QK_K) {
        float d = _cvtsh_ss(x[i].d[j]);
        for (int p = 0; p < 2; p++) {
            for (int k = 0; k < 8; k++) {
                int32_t h4;
                memcpy(&h4, &x[i].half[p].q[k].qh[4 * j], 4);
                for (int h = 0; h < 2; h++) {
                    int32_t l4;
                    memcpy(&l4, &x[i].half[p].q[k].ql[h][4 * j], 4);
                    __m128i ql = _mm_cvtsi32_si128(l4), bits = _mm_srli_epi16(_mm_cvtsi32_si128(h4), 4 * h);
                    __m128i lo = _mm_or_si128(_mm_and_si128(ql, low4), _mm_slli_epi16(_mm_and_si128(bits, low2), 4));
                    __m128i hi = _mm_or_si128(_mm_and_si128(_mm_srli_epi16(ql, 4), low4),
                                              _mm_slli_epi16(_mm_and_si128(_mm_srli_epi16(bits, 2), low2), 4));
                    int e = 128 * p + 64 * h + 4 * k;  // lo: elements e to e + 3, hi: e + 32 to e + 35
                    __m128 scale_lo = _mm_set1_ps(d * (float)x[i].half[p].scales[e % 128 / 16][j]);
                    __m128 scale_hi = _mm_set1_ps(d * (float)x[i].half[p].scales[(e + 32) % 128 / 16][j]);
                    _mm_storeu_ps(out + e, _mm_mul_ps(scale_lo, _mm_cvtepi32_ps(_mm_sub_epi32(_mm_cvtepu8_epi32(lo), bias))));
                    _mm_storeu_ps(out + e + 32, _mm_mul_ps(scale_hi, _mm_cvtepi32_ps(_mm_sub_epi32(_mm_cvtepu8_epi32(hi), bias))));
                }
            }
        }
    }
}
#endif
