// AVX2 + FMA + F16C kernels (x86-64), chosen at run time when the CPU has them; the scalar
// references in dot_scalar.c and quants.c say what each computes.
//
// Integer products use _mm256_maddubs_epi16, which multiplies unsigned by signed bytes. The
// weight quants are therefore kept unsigned (q4_0's q - 8 becomes q, with 8 * Σy subtracted
// once per block through the activation's precomputed sum), which also saves the sign
// juggling of a signed × signed product. maddubs adds pairs with int16 saturation; every
// caller's ranges stay below it (largest: q6_K, 63 * 127 * 2).
#if defined(__x86_64__)
#include "kernels.h"
#include "blocks.h"
#include "kernel_table.h"
#include "prefetch.h"
#include "x86_sums.h"
#include <immintrin.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2,fma,f16c")))

AVX2 static inline float half(uint16_t h) { return _cvtsh_ss(h); }



/// Σ u*s over each 4 bytes: u unsigned, s signed → 8 int32.
AVX2 static inline __m256i dot_u8s8(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

AVX2 static inline __m256i load256(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }
AVX2 static inline __m128i load128(const void *p) { return _mm_loadu_si128((const __m128i *)p); }

// ---- float weights ---------------------------------------------------------------------------

// Four accumulators hide the FMA latency; the row streams from memory either way. load_w reads
// 8 weights as f32, load_x 8 activation values.
#define FLOAT_DOT(load_w, load_x)                                                   \
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                    \
    int i = 0;                                                                      \
    for (; i + 32 <= n; i += 32) {                                                  \
        a0 = _mm256_fmadd_ps(load_w(w + i), load_x(x + i), a0);                     \
        a1 = _mm256_fmadd_ps(load_w(w + i + 8), load_x(x + i + 8), a1);             \
        a2 = _mm256_fmadd_ps(load_w(w + i + 16), load_x(x + i + 16), a2);           \
        a3 = _mm256_fmadd_ps(load_w(w + i + 24), load_x(x + i + 24), a3);           \
    }                                                                               \
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(load_w(w + i), load_x(x + i), a0); \
    float s = hsum_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));

AVX2 static inline __m256 load_f32(const float *p) { return _mm256_loadu_ps(p); }
AVX2 static inline __m256 load_f16(const uint16_t *p) { return _mm256_cvtph_ps(load128(p)); }
AVX2 static inline __m256 load_bf16(const uint16_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(load128(p)), 16));
}

AVX2 static float dot_f32(const void *row, const void *act, int n) {
    const float *w = row, *x = act;
    FLOAT_DOT(load_f32, load_f32)
    for (; i < n; i++) s += w[i] * x[i];
    return s;
}

AVX2 static float dot_f16(const void *row, const void *act, int n) {
    const uint16_t *w = row, *x = act;
    FLOAT_DOT(load_f16, load_f16)
    for (; i < n; i++) s += half(w[i]) * half(x[i]);
    return s;
}

AVX2 static void round_to_f16(const float *x, void *act, int n) {
    uint16_t *h = act;
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm_storeu_si128((__m128i *)(h + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) h[i] = _cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT);
}

AVX2 static float dot_bf16(const void *row, const void *act, int n) {
    const uint16_t *w = row;
    const float *x = act;
    FLOAT_DOT(load_bf16, load_f32)
    for (; i < n; i++) {
        uint32_t bits = (uint32_t)w[i] << 16;
        float f;
        memcpy(&f, &bits, sizeof f);
        s += f * x[i];
    }
    return s;
}

// ---- 32-element blocks ---------------------------------------------------------------------
// One routine serves the five types: it is inlined into each kernel with the layout constant.
// Four blocks per step: their four int32 vectors of partial sums are folded with two hadds
// into one vector (lanes: blocks 0-3 low halves, then high halves), converted once and
// scaled by one vector of four scales, instead of a conversion and a broadcast per block.

typedef struct {
    int bytes;      // block size
    int m;          // byte offset of the fp16 min (q4_1, q5_1), or -1
    int qh;         // byte offset of the fifth bits (q5_*), or -1
    int qs;         // byte offset of the quants
    int nibbles;    // 4-bit quants (else int8, q8_0)
    float offset;   // what Σ d_w sum_x is multiplied by: -8 (q4_0), -16 (q5_0), 0 (none or min)
} layout32;

static const layout32 Q4_0_LAYOUT = {18, -1, -1, 2, 1, -8.0f};
static const layout32 Q4_1_LAYOUT = {20, 2, -1, 4, 1, 0.0f};
static const layout32 Q5_0_LAYOUT = {22, -1, 2, 6, 1, -16.0f};
static const layout32 Q5_1_LAYOUT = {24, 2, 4, 8, 1, 0.0f};
static const layout32 Q8_0_LAYOUT = {34, -1, -1, 2, 0, 0.0f};

/// The 32 nibbles of 16 bytes in element order: low nibbles, then high nibbles.
AVX2 static inline __m256i nibbles(const uint8_t *qs) {
    __m256i both = _mm256_broadcastsi128_si256(load128(qs));
    return _mm256_and_si256(_mm256_srlv_epi64(both, _mm256_set_epi64x(4, 4, 0, 0)), _mm256_set1_epi8(0x0F));
}

/// 0x10 in byte j where bit j of the little-endian uint32 at qh is set: the fifth bits.
AVX2 static inline __m256i fifth_bits(const uint8_t *qh) {
    uint32_t h;
    memcpy(&h, qh, sizeof h);
    // byte j ← byte j / 8 of h, then test bit j % 8
    const __m256i spread = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                             0x0101010101010101, 0x0000000000000000);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int)h), spread);
    __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit);
    return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

/// Σ q*y of one block in 8 int32 partial sums (q unsigned, or q8_0's signed quants).
__attribute__((always_inline)) AVX2 static inline __m256i block_sums(layout32 l, const uint8_t *block, const int8_t *y) {
    __m256i yv = load256(y);
    if (!l.nibbles) {
        // signed × signed through maddubs: |q| times y with q's sign moved onto y
        __m256i q = load256(block + l.qs);
        return dot_u8s8(_mm256_sign_epi8(q, q), _mm256_sign_epi8(yv, q));
    }
    __m256i q = nibbles(block + l.qs);
    if (l.qh >= 0) q = _mm256_or_si256(q, fifth_bits(block + l.qh));
    return dot_u8s8(q, yv);
}

/// fp16 at byte `at` of four blocks `bytes` apart (at + 10 <= bytes), as floats.
AVX2 static inline __m128 halves4(const uint8_t *b, int bytes, int at) {
    // Block k's scale sits at byte 2k of the 16 bytes loaded from at + k (bytes - 2): four
    // loads and three word blends instead of four scalar loads and inserts.
    const uint8_t *p = b + at;
    __m128i h = _mm_loadu_si128((const __m128i *)p);
    h = _mm_blend_epi16(h, _mm_loadu_si128((const __m128i *)(p + (bytes - 2))), 0x02);
    h = _mm_blend_epi16(h, _mm_loadu_si128((const __m128i *)(p + 2 * (bytes - 2))), 0x04);
    h = _mm_blend_epi16(h, _mm_loadu_si128((const __m128i *)(p + 3 * (bytes - 2))), 0x08);
    return _mm_cvtph_ps(h);
}

AVX2 static inline uint16_t half_at(const uint8_t *p, int at) {
    uint16_t h;
    memcpy(&h, p + at, 2);
    return h;
}

__attribute__((always_inline)) AVX2 static inline float dot_blocks32(layout32 l, const void *row, const void *act, int n) {
    const uint8_t *w = row;
    q8_32_view x = q8_32_at(act, n);
    int nb = n / 32, i = 0;
    __m256 acc = _mm256_setzero_ps();
    __m128 off = _mm_setzero_ps();
    for (; i + 4 <= nb; i += 4) {
        const uint8_t *b = w + (size_t)i * l.bytes;
        if (l.bytes < 34) prefetch_ahead(b, 4 * l.bytes);  // not q8_0: see prefetch.h
        __m256i p01 = _mm256_hadd_epi32(block_sums(l, b, x.qs + 32 * i), block_sums(l, b + l.bytes, x.qs + 32 * i + 32));
        __m256i p23 = _mm256_hadd_epi32(block_sums(l, b + 2 * l.bytes, x.qs + 32 * i + 64),
                                        block_sums(l, b + 3 * l.bytes, x.qs + 32 * i + 96));
        __m128 dw = halves4(b, l.bytes, 0);
        __m128 scale = _mm_mul_ps(dw, _mm_loadu_ps(x.d + i));
        acc = _mm256_fmadd_ps(_mm256_set_m128(scale, scale), _mm256_cvtepi32_ps(_mm256_hadd_epi32(p01, p23)), acc);
        if (l.m >= 0) off = _mm_fmadd_ps(halves4(b, l.bytes, l.m), _mm_loadu_ps(x.sum + i), off);
        else if (l.offset != 0) off = _mm_fmadd_ps(dw, _mm_loadu_ps(x.sum + i), off);
    }
    float tail = 0, tail_off = 0;
    for (; i < nb; i++) {
        const uint8_t *b = w + (size_t)i * l.bytes;
        float dw = half(half_at(b, 0));
        tail += dw * x.d[i] * (float)hsum_epi32(block_sums(l, b, x.qs + 32 * i));
        if (l.m >= 0) tail_off += half(half_at(b, l.m)) * x.sum[i];
        else tail_off += dw * x.sum[i];
    }
    float offsets = hsum_ps128(off) + tail_off;
    return hsum_ps(acc) + tail + (l.m >= 0 ? offsets : l.offset * offsets);
}

AVX2 static float dot_q4_0(const void *row, const void *act, int n) { return dot_blocks32(Q4_0_LAYOUT, row, act, n); }
AVX2 static float dot_q4_1(const void *row, const void *act, int n) { return dot_blocks32(Q4_1_LAYOUT, row, act, n); }
AVX2 static float dot_q5_0(const void *row, const void *act, int n) { return dot_blocks32(Q5_0_LAYOUT, row, act, n); }
AVX2 static float dot_q5_1(const void *row, const void *act, int n) { return dot_blocks32(Q5_1_LAYOUT, row, act, n); }
AVX2 static float dot_q8_0(const void *row, const void *act, int n) { return dot_blocks32(Q8_0_LAYOUT, row, act, n); }

// ---- K-quants ----------------------------------------------------------------------------------

/// int16 scales of sub-blocks (2k, 2k + 1) of 16 elements each, for the 16 int16 products
/// of one 32-element maddubs: from 16 int8 scales.
AVX2 static inline __m256i scale_pair(__m128i scales8, int k) {
    const __m128i pick = _mm_set_epi64x((long long)(0x0101010101010101ULL * (uint64_t)(2 * k + 1)),
                                        (long long)(0x0101010101010101ULL * (uint64_t)(2 * k)));
    return _mm256_cvtepi8_epi16(_mm_shuffle_epi8(scales8, pick));
}

/// int16 scale k (of 8, held as int16 in both lanes of scales16) in every position.
AVX2 static inline __m256i scale_one(__m256i scales16, int k) {
    return _mm256_shuffle_epi8(scales16, _mm256_set1_epi16((short)(((2 * k + 1) << 8) | (2 * k))));
}

/// Σ_k scale_k · bsums_k over 16 sub-blocks: 4 int32.
AVX2 static inline __m128i scaled_bsums(__m128i scales8, const int16_t *bsums) {
    __m128i lo = _mm_madd_epi16(_mm_cvtepi8_epi16(scales8), load128(bsums));
    __m128i hi = _mm_madd_epi16(_mm_cvtepi8_epi16(_mm_srli_si128(scales8, 8)), load128(bsums + 8));
    return _mm_add_epi32(lo, hi);
}

AVX2 static float dot_q2_K(const void *row, const void *act, int n) {
    const block_q2_K *w = row;
    const block_q8_K *x = act;
    __m256 acc = _mm256_setzero_ps();
    __m128 acc_min = _mm_setzero_ps();
    const __m256i three = _mm256_set1_epi8(3);
    for (int i = 0; i < n / QK_K; i++) {
        __m128i packed = load128(w[i].scales);
        __m128i scales = _mm_and_si128(packed, _mm_set1_epi8(0x0F));
        __m128i mins = _mm_and_si128(_mm_srli_epi16(packed, 4), _mm_set1_epi8(0x0F));
        float dy = x[i].d;
        acc_min = _mm_fmadd_ps(_mm_set1_ps(-dy * half(w[i].dmin)),
                               _mm_cvtepi32_ps(scaled_bsums(mins, x[i].bsums)), acc_min);
        __m256i sum = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            __m256i q = load256(w[i].qs + 32 * h);
            for (int j = 0; j < 4; j++) {
                __m256i u = _mm256_and_si256(_mm256_srli_epi16(q, 2 * j), three);
                __m256i p = _mm256_maddubs_epi16(u, load256(x[i].qs + 128 * h + 32 * j));
                sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p, scale_pair(scales, 4 * h + j)));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dy * half(w[i].d)), _mm256_cvtepi32_ps(sum), acc);
    }
    return hsum_ps(acc) + hsum_ps128(acc_min);
}

AVX2 static float dot_q3_K(const void *row, const void *act, int n) {
    const block_q3_K *w = row;
    const block_q8_K *x = act;
    __m256 acc = _mm256_setzero_ps();
    __m128 acc_off = _mm_setzero_ps();
    const __m256i three = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
    for (int i = 0; i < n / QK_K; i++) {
        // The 16 six-bit scales (see infer_q3_K_scales), four at a time through uint32 masks.
        uint32_t u[3];
        memcpy(u, w[i].scales, 12);
        const uint32_t low4 = 0x0F0F0F0F, low2 = 0x03030303;
        __m128i scales = _mm_sub_epi8(
            _mm_set_epi32((int)(((u[1] >> 4) & low4) | (((u[2] >> 6) & low2) << 4)),
                          (int)(((u[0] >> 4) & low4) | (((u[2] >> 4) & low2) << 4)),
                          (int)((u[1] & low4) | (((u[2] >> 2) & low2) << 4)),
                          (int)((u[0] & low4) | ((u[2] & low2) << 4))),
            _mm_set1_epi8(32));
        float d = x[i].d * half(w[i].d);
        // q = u - 4 with u = low bits | 4 * high bit, so Σ s q y = Σ s u y - 4 Σ s bsum.
        acc_off = _mm_fmadd_ps(_mm_set1_ps(-4.0f * d), _mm_cvtepi32_ps(scaled_bsums(scales, x[i].bsums)), acc_off);
        __m256i hmask = load256(w[i].hmask);
        __m256i sum = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            __m256i q = load256(w[i].qs + 32 * h);
            for (int j = 0; j < 4; j++) {
                __m256i low = _mm256_and_si256(_mm256_srli_epi16(q, 2 * j), three);
                __m256i high = _mm256_and_si256(_mm256_srli_epi16(hmask, 4 * h + j), one);
                __m256i uq = _mm256_or_si256(low, _mm256_slli_epi16(high, 2));
                __m256i p = _mm256_maddubs_epi16(uq, load256(x[i].qs + 128 * h + 32 * j));
                sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p, scale_pair(scales, 4 * h + j)));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sum), acc);
    }
    return hsum_ps(acc) + hsum_ps128(acc_off);
}

/// q4_K/q5_K scales and mins (see infer_k_scale_min) as bytes 0-7 and 8-15: the three
/// packed words u0-u2 (one 16-byte load: the block's quants follow) unpacked in one vector,
/// lane by lane: u0 & 0x3F.., (u2 & 0x0F..) | (u0 >> 6 & 3..) << 4, then the same with u1
/// and u2 >> 4 for the mins.
AVX2 static inline __m128i k_scales_mins(const uint8_t packed[12]) {
    __m128i u = load128(packed);
    __m128i a = _mm_shuffle_epi32(u, _MM_SHUFFLE(1, 1, 0, 0));                                        // u0 u0 u1 u1
    __m128i b = _mm_srlv_epi32(_mm_shuffle_epi32(u, _MM_SHUFFLE(2, 2, 2, 2)), _mm_set_epi32(4, 4, 0, 0));  // u2 u2 u2>>4 u2>>4
    __m128i low6 = _mm_and_si128(a, _mm_set1_epi8(0x3F));
    __m128i top2 = _mm_slli_epi32(_mm_and_si128(_mm_srli_epi32(a, 6), _mm_set1_epi8(0x03)), 4);
    __m128i high = _mm_or_si128(_mm_and_si128(b, _mm_set1_epi8(0x0F)), top2);
    return _mm_blend_epi32(low6, high, 0xA);
}

/// Σ_s min_s · (bsums_2s + bsums_2s+1) over 8 sub-blocks of 32: 4 int32.
AVX2 static inline __m128i mins_bsums(__m128i scales_mins, const int16_t *bsums) {
    __m128i pairs = _mm_hadd_epi16(load128(bsums), load128(bsums + 8));
    return _mm_madd_epi16(_mm_cvtepu8_epi16(_mm_srli_si128(scales_mins, 8)), pairs);
}

AVX2 static float dot_q4_K(const void *row, const void *act, int n) {
    const block_q4_K *w = row;
    const block_q8_K *x = act;
    __m256 acc = _mm256_setzero_ps();
    __m128 acc_min = _mm_setzero_ps();
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    for (int i = 0; i < n / QK_K; i++) {
        __m128i sm = k_scales_mins(w[i].scales);
        __m256i scales16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
        float dy = x[i].d;
        acc_min = _mm_fmadd_ps(_mm_set1_ps(-dy * half(w[i].dmin)), _mm_cvtepi32_ps(mins_bsums(sm, x[i].bsums)), acc_min);
        __m256i sum = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            __m256i q = load256(w[i].qs + 32 * c);
            __m256i p0 = _mm256_maddubs_epi16(_mm256_and_si256(q, low4), load256(x[i].qs + 64 * c));
            __m256i p1 = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4), load256(x[i].qs + 64 * c + 32));
            sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p0, scale_one(scales16, 2 * c)));
            sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p1, scale_one(scales16, 2 * c + 1)));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dy * half(w[i].d)), _mm256_cvtepi32_ps(sum), acc);
    }
    return hsum_ps(acc) + hsum_ps128(acc_min);
}

AVX2 static float dot_q5_K(const void *row, const void *act, int n) {
    const block_q5_K *w = row;
    const block_q8_K *x = act;
    __m256 acc = _mm256_setzero_ps();
    __m128 acc_min = _mm_setzero_ps();
    const __m256i low4 = _mm256_set1_epi8(0x0F), bit4 = _mm256_set1_epi8(0x10);
    for (int i = 0; i < n / QK_K; i++) {
        __m128i sm = k_scales_mins(w[i].scales);
        __m256i scales16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
        float dy = x[i].d;
        acc_min = _mm_fmadd_ps(_mm_set1_ps(-dy * half(w[i].dmin)), _mm_cvtepi32_ps(mins_bsums(sm, x[i].bsums)), acc_min);
        __m256i qh = load256(w[i].qh);
        __m256i sum = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            __m256i q = load256(w[i].qs + 32 * c);
            // bit s of qh[l] moved to bit 4: shifted within 16-bit lanes, then masked per byte
            int s0 = 2 * c, s1 = 2 * c + 1;
            __m256i h0 = _mm256_and_si256(s0 <= 4 ? _mm256_slli_epi16(qh, 4 - s0) : _mm256_srli_epi16(qh, s0 - 4), bit4);
            __m256i h1 = _mm256_and_si256(s1 <= 4 ? _mm256_slli_epi16(qh, 4 - s1) : _mm256_srli_epi16(qh, s1 - 4), bit4);
            __m256i u0 = _mm256_or_si256(_mm256_and_si256(q, low4), h0);
            __m256i u1 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4), h1);
            __m256i p0 = _mm256_maddubs_epi16(u0, load256(x[i].qs + 64 * c));
            __m256i p1 = _mm256_maddubs_epi16(u1, load256(x[i].qs + 64 * c + 32));
            sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p0, scale_one(scales16, s0)));
            sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p1, scale_one(scales16, s1)));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dy * half(w[i].d)), _mm256_cvtepi32_ps(sum), acc);
    }
    return hsum_ps(acc) + hsum_ps128(acc_min);
}

AVX2 static float dot_q6_K(const void *row, const void *act, int n) {
    const block_q6_K *w = row;
    const block_q8_K *x = act;
    __m256 acc = _mm256_setzero_ps();
    __m128 acc_off = _mm_setzero_ps();
    const __m256i low4 = _mm256_set1_epi8(0x0F), bits45 = _mm256_set1_epi8(0x30);
    for (int i = 0; i < n / QK_K; i++) {
        __m128i scales = load128(w[i].scales);
        float d = x[i].d * half(w[i].d);
        // q - 32 with q unsigned: Σ s (q - 32) y = Σ s q y - 32 Σ s bsum.
        acc_off = _mm_fmadd_ps(_mm_set1_ps(-32.0f * d), _mm_cvtepi32_ps(scaled_bsums(scales, x[i].bsums)), acc_off);
        __m256i sum = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            __m256i l0 = load256(w[i].ql + 64 * h), l1 = load256(w[i].ql + 64 * h + 32);
            __m256i qh = load256(w[i].qh + 32 * h);
            __m256i q[4] = {
                _mm256_or_si256(_mm256_and_si256(l0, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), bits45)),
                _mm256_or_si256(_mm256_and_si256(l1, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), bits45)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low4), _mm256_and_si256(qh, bits45)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4), _mm256_and_si256(_mm256_srli_epi16(qh, 2), bits45)),
            };
            for (int j = 0; j < 4; j++) {
                __m256i p = _mm256_maddubs_epi16(q[j], load256(x[i].qs + 128 * h + 32 * j));
                sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p, scale_pair(scales, 4 * h + j)));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sum), acc);
    }
    return hsum_ps(acc) + hsum_ps128(acc_off);
}

// ---- activation quantization (same arithmetic as quants.c, so the same bytes) --------------------

AVX2 static inline float max_abs8(__m256 m) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// 32 floats times id, rounded to nearest even, packed to int8 in order; *sum gets Σq.
AVX2 static inline __m256i quantize32(const float *x, __m256 id, __m256i *sums) {
    __m256i q[4];
    for (int k = 0; k < 4; k++) {
        __m256 v = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        q[k] = _mm256_cvtps_epi32(v);
    }
    sums[0] = _mm256_add_epi32(q[0], q[1]);  // elements 0-15
    sums[1] = _mm256_add_epi32(q[2], q[3]);  // elements 16-31
    // packs work within 128-bit lanes; the permute restores element order.
    __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
    return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

AVX2 static inline float max_abs(const float *x, int n) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    for (int j = 0; j < n; j += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)));
    return max_abs8(m);
}

AVX2 static void quantize_q8_32(const float *x, void *act, int n) {
    q8_32_view a = q8_32_at(act, n);
    for (int i = 0; i < n / 32; i++, x += 32) {
        float d = max_abs(x, 32) / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        __m256i sums[2];
        _mm256_storeu_si256((__m256i *)(a.qs + 32 * i), quantize32(x, _mm256_set1_ps(id), sums));
        a.d[i] = d;
        a.sum[i] = d * (float)hsum_epi32(_mm256_add_epi32(sums[0], sums[1]));
    }
}

AVX2 static void quantize_q8_K(const float *x, void *act, int n) {
    block_q8_K *b = act;
    for (int i = 0; i < n / QK_K; i++, x += QK_K) {
        float d = max_abs(x, QK_K) / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        for (int k = 0; k < QK_K / 32; k++) {
            __m256i sums[2];
            _mm256_storeu_si256((__m256i *)(b[i].qs + 32 * k), quantize32(x + 32 * k, _mm256_set1_ps(id), sums));
            b[i].bsums[2 * k] = (int16_t)hsum_epi32(sums[0]);
            b[i].bsums[2 * k + 1] = (int16_t)hsum_epi32(sums[1]);
        }
        b[i].d = d;
    }
}

const kernel_table infer_kernels_avx2 = {
    .dot = {
        [INFER_TYPE_F32] = dot_f32, [INFER_TYPE_F16] = dot_f16, [INFER_TYPE_BF16] = dot_bf16,
        [INFER_TYPE_Q4_0] = dot_q4_0, [INFER_TYPE_Q4_1] = dot_q4_1,
        [INFER_TYPE_Q5_0] = dot_q5_0, [INFER_TYPE_Q5_1] = dot_q5_1, [INFER_TYPE_Q8_0] = dot_q8_0,
        [INFER_TYPE_Q2_K] = dot_q2_K, [INFER_TYPE_Q3_K] = dot_q3_K, [INFER_TYPE_Q4_K] = dot_q4_K,
        [INFER_TYPE_Q5_K] = dot_q5_K, [INFER_TYPE_Q6_K] = dot_q6_K,
    },
    .f16 = round_to_f16,
    .q8_32 = quantize_q8_32,
    .q8_K = quantize_q8_K,
};
#endif
