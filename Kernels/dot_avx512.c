// AVX-512 kernels (x86-64 with AVX-512 F/BW/VL and VNNI, e.g. Zen 4, Ice Lake and later)
// for the two most common 32-element types, where they beat the AVX2 ones (see
// Benchmarks/README.md); every other type uses the AVX2 kernel. The references are in
// dot_scalar.c. Not f16: VCVTPH2PS on zmm (16 halves at once) converts slower than two
// conversions of 8 on ymm on the AVX-512 CPUs tried, so an f16 kernel on zmm computes slower
// than the AVX2 one and no faster than memory streams (Benchmarks/README.md, "Design decisions
// and their measurements").
//
// Against AVX2 they save instructions two ways: VPDPBUSD multiplies and sums four
// byte pairs into int32 in one step (AVX2 needs maddubs then madd), and one zmm holds two
// blocks. The fp16 scales of eight blocks are picked out of two or four zmm loads with one
// word permute each, instead of eight scalar loads and inserts.
#if defined(__x86_64__)
#include "kernels.h"
#include "blocks.h"
#include "kernel_table.h"
#include "prefetch.h"
#include "x86_sums.h"
#include <immintrin.h>
#include <string.h>

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))

/// Σ of one block's (unsigned quants × y) in 8 int32: q4_0's nibbles, or q8_0's quants + 128.
__attribute__((always_inline)) AVX512 static inline __m256i block_sums(int q8, const uint8_t *qs, const int8_t *y) {
    __m256i q;
    if (q8) {
        q = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)qs), _mm256_set1_epi8((char)0x80));
    } else {
        __m256i both = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));
        q = _mm256_and_si256(_mm256_srlv_epi64(both, _mm256_set_epi64x(4, 4, 0, 0)), _mm256_set1_epi8(0x0F));
    }
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), q, _mm256_loadu_si256((const __m256i *)y));
}

/// fp16 scales of four blocks `bytes` apart, as floats.
AVX512 static inline __m128 scales4(const uint8_t *b, int bytes) {
    // Block k's scale sits at byte 2k of the 16 bytes loaded from k (bytes - 2): four
    // loads and three word blends instead of four scalar loads and inserts.
    const uint8_t *p = b;
    __m128i h = _mm_loadu_si128((const __m128i *)p);
    h = _mm_blend_epi16(h, _mm_loadu_si128((const __m128i *)(p + (bytes - 2))), 0x02);
    h = _mm_blend_epi16(h, _mm_loadu_si128((const __m128i *)(p + 2 * (bytes - 2))), 0x04);
    h = _mm_blend_epi16(h, _mm_loadu_si128((const __m128i *)(p + 3 * (bytes - 2))), 0x08);
    return _mm_cvtph_ps(h);
}

/// As dot_blocks32 in dot_avx2.c (four blocks a step, two hadds), with VNNI products. The
/// quants are unsigned with an offset c (8 for q4_0's nibbles, 128 for q8_0's flipped bytes):
/// Σ d_w d_x Σ (u - c) y = Σ d_w (d_x Σ u y) - c Σ d_w sum_x.
__attribute__((always_inline)) AVX512 static inline float dot32(int q8, const void *row, const void *act, int n) {
    const int bytes = q8 ? 34 : 18;
    const float c = q8 ? 128.0f : 8.0f;
    const uint8_t *w = row;
    q8_32_view x = q8_32_at(act, n);
    int nb = n / 32, i = 0;
    __m256 acc = _mm256_setzero_ps();
    __m128 off = _mm_setzero_ps();
    for (; i + 4 <= nb; i += 4) {
        const uint8_t *b = w + (size_t)i * bytes;
        __m256i p01 = _mm256_hadd_epi32(block_sums(q8, b + 2, x.qs + 32 * i), block_sums(q8, b + bytes + 2, x.qs + 32 * i + 32));
        __m256i p23 = _mm256_hadd_epi32(block_sums(q8, b + 2 * bytes + 2, x.qs + 32 * i + 64),
                                        block_sums(q8, b + 3 * bytes + 2, x.qs + 32 * i + 96));
        __m128 dw = scales4(b, bytes);
        __m128 scale = _mm_mul_ps(dw, _mm_loadu_ps(x.d + i));
        acc = _mm256_fmadd_ps(_mm256_set_m128(scale, scale), _mm256_cvtepi32_ps(_mm256_hadd_epi32(p01, p23)), acc);
        off = _mm_fmadd_ps(dw, _mm_loadu_ps(x.sum + i), off);
    }
    float tail = 0, tail_off = 0;
    for (; i < nb; i++) {
        const uint8_t *b = w + (size_t)i * bytes;
        uint16_t h;
        memcpy(&h, b, 2);
        float dw = _cvtsh_ss(h);
        tail += dw * x.d[i] * (float)hsum_epi32(block_sums(q8, b + 2, x.qs + 32 * i));
        tail_off += dw * x.sum[i];
    }
    return hsum_ps(acc) + tail - c * (hsum_ps128(off) + tail_off);
}

AVX512 static float dot_q8_0(const void *row, const void *act, int n) { return dot32(1, row, act, n); }

// ---- q4_0, eight blocks a step ---------------------------------------------------------------
// One VPDPBUSD takes a pair of blocks: VPERMB lays out the pair's 32 quant bytes as each
// block's 16 bytes twice, and one AND keeps the low nibbles of the first copy (elements 0-15)
// and the high nibbles of the second (elements 16-31, as 16 q). The 1/16 goes into the float
// scale of those lanes, so the nibbles are never shifted. The 16 int32 sums of a pair (four
// per half-block) are scaled per lane and accumulated in floats: no horizontal adds until
// the end of the row. The fp16 scales of the eight blocks come out of two loads with one
// word permute.

/// Word indices of the eight scales (bytes 18k) in two 64-byte loads at 0 and 64.
static const uint16_t Q4_0_SCALE_PICK[32] = {0, 9, 18, 27, 32 + 4, 32 + 13, 32 + 22, 32 + 31};

static const uint16_t Q4_0_PAIR_PICK[32] = {
    1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
    10, 11, 12, 13, 14, 15, 16, 17, 10, 11, 12, 13, 14, 15, 16, 17,
};
static const uint32_t Q4_0_LANE_SCALE[4][16] = {
#define PAIR(k) {2 * k, 2 * k, 2 * k, 2 * k, 8 + 2 * k, 8 + 2 * k, 8 + 2 * k, 8 + 2 * k, \
                 2 * k + 1, 2 * k + 1, 2 * k + 1, 2 * k + 1, 8 + 2 * k + 1, 8 + 2 * k + 1, 8 + 2 * k + 1, 8 + 2 * k + 1}
    PAIR(0), PAIR(1), PAIR(2), PAIR(3),
#undef PAIR
};

__attribute__((always_inline)) AVX512 static inline void q4_0_group(const uint8_t *b, const int8_t *y, const float *xd, const float *xs,
        __m512i pick, __m512i scale_pick, __m512i keep, int safe, __m512 *acc0, __m512 *acc1, __m256 *off) {
    __m512i halves = _mm512_permutex2var_epi16(_mm512_loadu_si512(b), scale_pick, _mm512_loadu_si512(b + 64));
    __m256 dw = _mm256_cvtph_ps(_mm512_castsi512_si128(halves));
    __m256 s = _mm256_mul_ps(dw, _mm256_loadu_ps(xd));
    *off = _mm256_fmadd_ps(dw, _mm256_loadu_ps(xs), *off);
    __m512 both = _mm512_insertf32x8(_mm512_castps256_ps512(s), _mm256_mul_ps(s, _mm256_set1_ps(1.0f / 16)), 1);
    for (int k = 0; k < 4; k++) {
        __m512i raw = safe ? _mm512_loadu_si512(b + 36 * k) : _mm512_maskz_loadu_epi8(0xFFFFFFFFFULL, b + 36 * k);
        __m512i q = _mm512_and_si512(_mm512_permutexvar_epi16(pick, raw), keep);
        __m512i sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q, _mm512_loadu_si512(y + 64 * k));
        __m512 scale = _mm512_permutexvar_ps(_mm512_loadu_si512(Q4_0_LANE_SCALE[k]), both);
        if (k & 1) *acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), scale, *acc1);
        else *acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), scale, *acc0);
    }
}

AVX512 static float dot_q4_0(const void *row, const void *act, int n) {
    const uint8_t *w = row;
    q8_32_view x = q8_32_at(act, n);
    const __m512i pick = _mm512_loadu_si512(Q4_0_PAIR_PICK);
    const __m512i scale_pick = _mm512_loadu_si512(Q4_0_SCALE_PICK);
    const __m512i keep = _mm512_set_epi64((long long)0xF0F0F0F0F0F0F0F0ULL, (long long)0xF0F0F0F0F0F0F0F0ULL, 0x0F0F0F0F0F0F0F0FLL, 0x0F0F0F0F0F0F0F0FLL,
                                          (long long)0xF0F0F0F0F0F0F0F0ULL, (long long)0xF0F0F0F0F0F0F0F0ULL, 0x0F0F0F0F0F0F0F0FLL, 0x0F0F0F0F0F0F0F0FLL);
    int nb = n / 32, i = 0;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0;
    __m256 off = _mm256_setzero_ps();
    for (; i + 10 <= nb; i += 8) {
        prefetch_ahead(w + (size_t)i * 18, 8 * 18);
        q4_0_group(w + (size_t)i * 18, x.qs + 32 * i, x.d + i, x.sum + i, pick, scale_pick, keep, 1, &acc0, &acc1, &off);
    }
    for (; i + 8 <= nb; i += 8) q4_0_group(w + (size_t)i * 18, x.qs + 32 * i, x.d + i, x.sum + i, pick, scale_pick, keep, 0, &acc0, &acc1, &off);
    float tail = 0, tail_off = 0;
    for (; i < nb; i++) {
        const uint8_t *b = w + (size_t)i * 18;
        uint16_t h;
        memcpy(&h, b, 2);
        float dw = _cvtsh_ss(h);
        tail += dw * x.d[i] * (float)hsum_epi32(block_sums(0, b + 2, x.qs + 32 * i));
        tail_off += dw * x.sum[i];
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) + tail - 8.0f * (hsum_ps(off) + tail_off);
}

const kernel_table infer_kernels_avx512 = {
    .dot = {[INFER_TYPE_Q4_0] = dot_q4_0, [INFER_TYPE_Q8_0] = dot_q8_0},
};
#endif
