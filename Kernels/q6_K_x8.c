// q6_K weights interleaved by 8 rows, for generation on CPUs with AVX-512 VNNI: as in
// q4_K_x8.c, a block of 8 rows holds their scales side by side, then their quants in 4-byte
// groups of the 8 rows, so one VPDPBUSD against 4 broadcast activation bytes gives 8 rows'
// partial sums. q6_K holds the output matrix of Q4_0 and Q4_K_M files and half of a Q4_K_M
// file's feed-forward down projections. The 6-bit values are stored so that three of every
// four come out of their bytes with one mask each (blocks.h, block_q6_K_x8), where the file's
// layout (low 4 and high 2 bits apart) takes 11 shifts and masks for 4 groups and computes at
// about half the speed.
#include "kernels.h"
#include "blocks.h"
#include "kernel_table.h"
#include "x8_batch.h"
#include <string.h>
#include "prefetch.h"

size_t infer_q6_K_x8_bytes(int rows, int cols) {
    return (size_t)(rows / 8) * (size_t)(cols / QK_K) * sizeof(block_q6_K_x8);
}

void infer_q6_K_x8_repack(const void *src, size_t row_bytes, int rows, int cols, void *dst) {
    int nb = cols / QK_K;
    block_q6_K_x8 *out = dst;
    for (int g = 0; g < rows / 8; g++) {
        for (int i = 0; i < nb; i++, out++) {
            for (int j = 0; j < 8; j++) {
                const block_q6_K *b = (const block_q6_K *)((const char *)src + (size_t)(8 * g + j) * row_bytes) + i;
                out->d[j] = b->d;
                for (int s = 0; s < 16; s++) {
                    out->scales[s / 2][j][s % 2] = b->scales[s];
                    for (int k = 0; k < 4; k++) {
                        int fourth = q6_K_value(b, 16 * s + 12 + k);
                        for (int v = 0; v < 3; v++) {
                            out->q[s][v][4 * j + k] = (uint8_t)(q6_K_value(b, 16 * s + 4 * v + k) | ((fourth >> (2 * v)) & 3) << 6);
                        }
                    }
                }
            }
        }
    }
}

/// Row j's 16 values of sub-block s, as four 4-byte groups (group g: elements 4g to 4g + 3, a
/// byte each): the low 6 bits of the copy's three groups, and the fourth from their top bits.
static inline void x8_groups(const block_q6_K_x8 *x, int j, int s, uint32_t groups[4]) {
    uint32_t v[3];
    for (int u = 0; u < 3; u++) memcpy(&v[u], &x->q[s][u][4 * j], 4);
    for (int u = 0; u < 3; u++) groups[u] = v[u] & 0x3F3F3F3Fu;
    groups[3] = (v[0] >> 6 & 0x03030303u) | (v[1] >> 4 & 0x0C0C0C0Cu) | (v[2] >> 2 & 0x30303030u);
}

void infer_q6_K_x8_block(const void *x8, int cols, int row, int block, void *out) {
    const block_q6_K_x8 *x = (const block_q6_K_x8 *)x8 + (size_t)(row / 8) * (size_t)(cols / QK_K) + block;
    int j = row % 8;
    block_q6_K *b = out;
    memset(b, 0, sizeof *b);
    b->d = x->d[j];
    for (int s = 0; s < 16; s++) {
        b->scales[s] = x->scales[s / 2][j][s % 2];
        uint32_t groups[4];
        x8_groups(x, j, s, groups);
        for (int w = 0; w < 16; w++) {
            int q = (int)(groups[w / 4] >> (8 * (w % 4)) & 0x3F), e = 16 * s + w;
            // The file's places (blocks.h): nibble within / 64 of ql[64 half + within % 64], bits
            // 2 (within / 32) of qh[32 half + within % 32].
            int half = e / 128, within = e % 128;
            b->ql[64 * half + within % 64] |= (uint8_t)((q & 0x0F) << (4 * (within / 64)));
            b->qh[32 * half + within % 32] |= (uint8_t)((q >> 4) << (2 * (within / 32)));
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>
#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

/// Σ_s scale_s Σ (q - 32) y over each 16-element sub-block s = Σ_s scale_s (Σ q y - 32 bsum_s),
/// the activation's sums standing in for Σ y.
VNNI void infer_q6_K_x8_dot8(const void *group, const void *act, int n, float out[8]) {
    const block_q6_K_x8 *w = group;
    const block_q8_K *x = act;
    const __m256i low6 = _mm256_set1_epi8(0x3F), bits_2_3 = _mm256_set1_epi8(0x0C), bits_4_5 = _mm256_set1_epi8(0x30);
    __m256 acc = _mm256_setzero_ps();  // lanes: the 8 rows
    for (int i = 0; i < n / QK_K; i++) {
        const int8_t *y = x[i].qs;
        prefetch_x8(&w[i], (int)offsetof(block_q6_K_x8, q));  // the head: 144 bytes
        __m256 d = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)w[i].d)), _mm256_set1_ps(x[i].d));
        __m256i sum = _mm256_setzero_si256(), offset = sum;
        for (int t = 0; t < 8; t++) {
            // Row j's scales of sub-blocks 2t and 2t + 1 as a pair of 16-bit values: one
            // VPDPWSSD takes both into Σ scale_s bsum_s.
            __m256i scale_pairs = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w[i].scales[t]));
            int32_t bsum_pair;
            memcpy(&bsum_pair, x[i].bsums + 2 * t, 4);
            offset = _mm256_dpwssd_epi32(offset, scale_pairs, _mm256_set1_epi32(bsum_pair));
            for (int u = 0; u < 2; u++) {
                int s = 2 * t + u;
                const int8_t *ys = y + 16 * s;
                prefetch_x8(w[i].q[s], 96);
                __m256i v0 = _mm256_loadu_si256((const __m256i *)w[i].q[s][0]);
                __m256i v1 = _mm256_loadu_si256((const __m256i *)w[i].q[s][1]);
                __m256i v2 = _mm256_loadu_si256((const __m256i *)w[i].q[s][2]);
                // Elements 12-15 from the top bits: v0's at bits 0-1, v1's at 2-3, v2's at 4-5
                // (bit selects; 16-bit shifts carry the next byte's bits into bits 2-7 of v0's,
                // masked off with the rest).
                __m256i fourth = _mm256_ternarylogic_epi32(_mm256_srli_epi16(v0, 6), _mm256_srli_epi16(v1, 4), bits_2_3, 0xD8);
                fourth = _mm256_and_si256(_mm256_ternarylogic_epi32(fourth, _mm256_srli_epi16(v2, 2), bits_4_5, 0xD8), low6);
                int32_t y0, y1, y2, y3;
                memcpy(&y0, ys, 4);
                memcpy(&y1, ys + 4, 4);
                memcpy(&y2, ys + 8, 4);
                memcpy(&y3, ys + 12, 4);
                // Two chains of two, not one of four: the scheduler then keeps the units busy.
                __m256i a = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_and_si256(v0, low6), _mm256_set1_epi32(y0));
                __m256i b = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_and_si256(v1, low6), _mm256_set1_epi32(y1));
                a = _mm256_dpbusd_epi32(a, _mm256_and_si256(v2, low6), _mm256_set1_epi32(y2));
                b = _mm256_dpbusd_epi32(b, fourth, _mm256_set1_epi32(y3));
                __m256i scale = u ? _mm256_srai_epi32(scale_pairs, 16) : _mm256_srai_epi32(_mm256_slli_epi32(scale_pairs, 16), 16);
                sum = _mm256_add_epi32(sum, _mm256_mullo_epi32(_mm256_add_epi32(a, b), scale));
            }
        }
        __m256i total = _mm256_sub_epi32(sum, _mm256_slli_epi32(offset, 5));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(total), acc);
    }
    _mm256_storeu_ps(out, acc);
}

/// The 8 rows against K activations (K at most 8, a constant where it is inlined): each
/// sub-block's quants loaded and unpacked, its scales widened, once for all K; per activation
/// the arithmetic of infer_q6_K_x8_dot8, its float steps in that kernel's order, so each
/// activation's sums are that kernel's, bit for bit (the integer sums are exact in any order).
__attribute__((always_inline)) static inline VNNI void rows_of_k(const block_q6_K_x8 *w, const block_q8_K *const *x,
                                                                 int K, int n, float *const *out, size_t at) {
    const __m256i low6 = _mm256_set1_epi8(0x3F), bits_2_3 = _mm256_set1_epi8(0x0C), bits_4_5 = _mm256_set1_epi8(0x30);
    __m256 acc[8];
    for (int v = 0; v < K; v++) acc[v] = _mm256_setzero_ps();
    for (int i = 0; i < n / QK_K; i++) {
        prefetch_x8(&w[i], (int)offsetof(block_q6_K_x8, q));
        __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)w[i].d));
        __m256i sum[8], offset[8];
        for (int v = 0; v < K; v++) sum[v] = offset[v] = _mm256_setzero_si256();
        for (int t = 0; t < 8; t++) {
            __m256i scale_pairs = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w[i].scales[t]));
            for (int v = 0; v < K; v++) {
                int32_t bsum_pair;
                memcpy(&bsum_pair, x[v][i].bsums + 2 * t, 4);
                offset[v] = _mm256_dpwssd_epi32(offset[v], scale_pairs, _mm256_set1_epi32(bsum_pair));
            }
            for (int u = 0; u < 2; u++) {
                int s = 2 * t + u;
                prefetch_x8(w[i].q[s], 96);
                __m256i v0 = _mm256_loadu_si256((const __m256i *)w[i].q[s][0]);
                __m256i v1 = _mm256_loadu_si256((const __m256i *)w[i].q[s][1]);
                __m256i v2 = _mm256_loadu_si256((const __m256i *)w[i].q[s][2]);
                __m256i fourth = _mm256_ternarylogic_epi32(_mm256_srli_epi16(v0, 6), _mm256_srli_epi16(v1, 4), bits_2_3, 0xD8);
                fourth = _mm256_and_si256(_mm256_ternarylogic_epi32(fourth, _mm256_srli_epi16(v2, 2), bits_4_5, 0xD8), low6);
                __m256i q0 = _mm256_and_si256(v0, low6), q1 = _mm256_and_si256(v1, low6), q2 = _mm256_and_si256(v2, low6);
                __m256i scale = u ? _mm256_srai_epi32(scale_pairs, 16) : _mm256_srai_epi32(_mm256_slli_epi32(scale_pairs, 16), 16);
                for (int v = 0; v < K; v++) {
                    const int8_t *ys = x[v][i].qs + 16 * s;
                    int32_t y0, y1, y2, y3;
                    memcpy(&y0, ys, 4);
                    memcpy(&y1, ys + 4, 4);
                    memcpy(&y2, ys + 8, 4);
                    memcpy(&y3, ys + 12, 4);
                    __m256i a = _mm256_dpbusd_epi32(_mm256_setzero_si256(), q0, _mm256_set1_epi32(y0));
                    __m256i b = _mm256_dpbusd_epi32(_mm256_setzero_si256(), q1, _mm256_set1_epi32(y1));
                    a = _mm256_dpbusd_epi32(a, q2, _mm256_set1_epi32(y2));
                    b = _mm256_dpbusd_epi32(b, fourth, _mm256_set1_epi32(y3));
                    sum[v] = _mm256_add_epi32(sum[v], _mm256_mullo_epi32(_mm256_add_epi32(a, b), scale));
                }
            }
        }
        for (int v = 0; v < K; v++) {
            __m256 d = _mm256_mul_ps(dw, _mm256_set1_ps(x[v][i].d));
            __m256i total = _mm256_sub_epi32(sum[v], _mm256_slli_epi32(offset[v], 5));
            acc[v] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(total), acc[v]);
        }
    }
    for (int v = 0; v < K; v++) _mm256_storeu_ps(out[v] + at, acc[v]);
}

X8_DOT8_BATCH(infer_q6_K_x8_dot8_batch, infer_q6_K_x8_dot8, const block_q8_K *, X8_ACT_AS_IS)

/// Row `row` as f32, a sub-block at a time, as infer_dequantize_row(INFER_TYPE_Q6_K) computes
/// it (d * scale * (q - 32)).
VNNI void infer_q6_K_x8_widen(const void *x8, int cols, int row, float *out) {
    const block_q6_K_x8 *x = (const block_q6_K_x8 *)x8 + (size_t)(row / 8) * (size_t)(cols / QK_K);
    int j = row % 8;
    const __m128i bias = _mm_set1_epi32(32);
    for (int i = 0; i < cols / QK_K; i++, out += QK_K) {
        float d = _cvtsh_ss(x[i].d[j]);
        for (int s = 0; s < 16; s++) {
            uint32_t groups[4];
            x8_groups(&x[i], j, s, groups);
            __m128 scale = _mm_set1_ps(d * (float)x[i].scales[s / 2][j][s % 2]);
            for (int g = 0; g < 4; g++) {
                __m128i q4 = _mm_cvtepu8_epi32(_mm_cvtsi32_si128((int)groups[g]));
                _mm_storeu_ps(out + 16 * s + 4 * g, _mm_mul_ps(scale, _mm_cvtepi32_ps(_mm_sub_epi32(q4, bias))));
            }
        }
    }
}
#endif
