// AVX-512 kernels (x86-64 with AVX-512 F/BW/VL and VNNI, e.g. Zen 4, Ice Lake and later)
// for the two most common 32-element types, where they beat the AVX2 ones on Zen 4 (see
// Benchmarks/README.md); every other type uses the AVX2 kernel. The references are in
// dot_scalar.c.
//
// Against AVX2 they save instructions two ways: VPDPBUSD multiplies and sums four
// byte pairs into int32 in one step (AVX2 needs maddubs then madd), and one zmm holds two
// blocks. The fp16 scales of eight blocks are picked out of two or four zmm loads with one
// word permute each, instead of eight scalar loads and inserts.
#if defined(__x86_64__)
#include "kernels.h"
#include "blocks.h"
#include "kernel_table.h"
#include <immintrin.h>
#include <string.h>

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))

AVX512 static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AVX512 static inline int hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

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
    __m128 o = _mm_add_ps(off, _mm_movehl_ps(off, off));
    o = _mm_add_ss(o, _mm_movehdup_ps(o));
    return hsum256(acc) + tail - c * (_mm_cvtss_f32(o) + tail_off);
}

AVX512 static float dot_q4_0(const void *row, const void *act, int n) { return dot32(0, row, act, n); }
AVX512 static float dot_q8_0(const void *row, const void *act, int n) { return dot32(1, row, act, n); }

const kernel_table infer_kernels_avx512 = {
    .dot = {[INFER_TYPE_Q4_0] = dot_q4_0, [INFER_TYPE_Q8_0] = dot_q8_0},
};
#endif
