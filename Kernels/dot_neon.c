// NEON kernels (arm64), for every arm64 CPU: the references in dot_scalar.c and quants.c say
// what each computes. Int8 products use the dot-product instructions where the build
// targets them (__ARM_FEATURE_DOTPROD, e.g. -march=armv8.2-a+dotprod or Apple M1), else
// widening multiplies. K-quants unpack a super-block's quants to int8 with vector code,
// then multiply 16-element sub-blocks; the scales are applied as in the scalar reference.
//
// Verified by cross-compiling and running Tests/KernelCheck under qemu-aarch64 (see there);
// no arm64 machine has timed them.
#if defined(__aarch64__)
#include "kernels.h"
#include "blocks.h"
#include "kernel_table.h"
#include <arm_neon.h>
#include <string.h>

static inline float half(uint16_t h) {
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}

/// Σ a*b over 16 int8 pairs, as 4 int32 partial sums added to acc.
static inline int32x4_t dot16(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if defined(__ARM_FEATURE_DOTPROD)
    return vdotq_s32(acc, a, b);
#else
    int16x8_t lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    int16x8_t hi = vmull_high_s8(a, b);
    return vpadalq_s16(vpadalq_s16(acc, lo), hi);
#endif
}

// ---- float weights ---------------------------------------------------------------------------

static inline float32x4_t load_f16(const uint16_t *p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
static inline float32x4_t load_bf16(const uint16_t *p) { return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16)); }

// load_w reads 4 weights as f32, load_x 4 activation values.
#define FLOAT_DOT(load_w, load_x)                                                 \
    float32x4_t a0 = vdupq_n_f32(0), a1 = a0, a2 = a0, a3 = a0;                  \
    int i = 0;                                                                    \
    for (; i + 16 <= n; i += 16) {                                                \
        a0 = vfmaq_f32(a0, load_w(w + i), load_x(x + i));                         \
        a1 = vfmaq_f32(a1, load_w(w + i + 4), load_x(x + i + 4));                 \
        a2 = vfmaq_f32(a2, load_w(w + i + 8), load_x(x + i + 8));                 \
        a3 = vfmaq_f32(a3, load_w(w + i + 12), load_x(x + i + 12));               \
    }                                                                             \
    for (; i + 4 <= n; i += 4) a0 = vfmaq_f32(a0, load_w(w + i), load_x(x + i)); \
    float s = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));

static float dot_f32(const void *row, const void *act, int n) {
    const float *w = row, *x = act;
    FLOAT_DOT(vld1q_f32, vld1q_f32)
    for (; i < n; i++) s += w[i] * x[i];
    return s;
}

static float dot_f16(const void *row, const void *act, int n) {
    const uint16_t *w = row, *x = act;
    FLOAT_DOT(load_f16, load_f16)
    for (; i < n; i++) s += half(w[i]) * half(x[i]);
    return s;
}

static float dot_bf16(const void *row, const void *act, int n) {
    const uint16_t *w = row;
    const float *x = act;
    FLOAT_DOT(load_bf16, vld1q_f32)
    for (; i < n; i++) {
        uint32_t bits = (uint32_t)w[i] << 16;
        float f;
        memcpy(&f, &bits, sizeof f);
        s += f * x[i];
    }
    return s;
}

// ---- 32-element blocks ---------------------------------------------------------------------

/// Elements 0-15 (low nibbles) and 16-31 (high nibbles) of a 4-bit block, unsigned.
static inline void nibbles(const uint8_t *qs, int8x16_t *lo, int8x16_t *hi) {
    uint8x16_t v = vld1q_u8(qs);
    *lo = vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0x0F)));
    *hi = vreinterpretq_s8_u8(vshrq_n_u8(v, 4));
}

/// 0x10 in the bytes whose fifth bit is set: elements 0-15 from qh bits 0-15, 16-31 from 16-31.
static inline void fifth_bits(const uint8_t *qh, int8x16_t *lo, int8x16_t *hi) {
    static const uint8_t bits[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    uint8x16_t select = vld1q_u8(bits), ten = vdupq_n_u8(0x10);
    uint8x16_t b01 = vcombine_u8(vdup_n_u8(qh[0]), vdup_n_u8(qh[1]));
    uint8x16_t b23 = vcombine_u8(vdup_n_u8(qh[2]), vdup_n_u8(qh[3]));
    *lo = vreinterpretq_s8_u8(vorrq_u8(vreinterpretq_u8_s8(*lo), vandq_u8(vtstq_u8(b01, select), ten)));
    *hi = vreinterpretq_s8_u8(vorrq_u8(vreinterpretq_u8_s8(*hi), vandq_u8(vtstq_u8(b23, select), ten)));
}

static inline int block_dot(int8x16_t lo, int8x16_t hi, const int8_t *y) {
    return vaddvq_s32(dot16(dot16(vdupq_n_s32(0), lo, vld1q_s8(y)), hi, vld1q_s8(y + 16)));
}

static float dot_q4_0(const void *row, const void *act, int n) {
    const block_q4_0 *w = row;
    q8_32_view x = q8_32_at(act, n);
    float s = 0;
    for (int i = 0; i < n / 32; i++) {
        int8x16_t lo, hi;
        nibbles(w[i].qs, &lo, &hi);
        float d = half(w[i].d);
        s += d * x.d[i] * (float)block_dot(lo, hi, x.qs + 32 * i) - 8.0f * d * x.sum[i];
    }
    return s;
}

static float dot_q4_1(const void *row, const void *act, int n) {
    const block_q4_1 *w = row;
    q8_32_view x = q8_32_at(act, n);
    float s = 0;
    for (int i = 0; i < n / 32; i++) {
        int8x16_t lo, hi;
        nibbles(w[i].qs, &lo, &hi);
        s += half(w[i].d) * x.d[i] * (float)block_dot(lo, hi, x.qs + 32 * i) + half(w[i].m) * x.sum[i];
    }
    return s;
}

static float dot_q5_0(const void *row, const void *act, int n) {
    const block_q5_0 *w = row;
    q8_32_view x = q8_32_at(act, n);
    float s = 0;
    for (int i = 0; i < n / 32; i++) {
        int8x16_t lo, hi;
        nibbles(w[i].qs, &lo, &hi);
        fifth_bits(w[i].qh, &lo, &hi);
        float d = half(w[i].d);
        s += d * x.d[i] * (float)block_dot(lo, hi, x.qs + 32 * i) - 16.0f * d * x.sum[i];
    }
    return s;
}

static float dot_q5_1(const void *row, const void *act, int n) {
    const block_q5_1 *w = row;
    q8_32_view x = q8_32_at(act, n);
    float s = 0;
    for (int i = 0; i < n / 32; i++) {
        int8x16_t lo, hi;
        nibbles(w[i].qs, &lo, &hi);
        fifth_bits(w[i].qh, &lo, &hi);
        s += half(w[i].d) * x.d[i] * (float)block_dot(lo, hi, x.qs + 32 * i) + half(w[i].m) * x.sum[i];
    }
    return s;
}

static float dot_q8_0(const void *row, const void *act, int n) {
    const block_q8_0 *w = row;
    q8_32_view x = q8_32_at(act, n);
    float s = 0;
    for (int i = 0; i < n / 32; i++) {
        int d = block_dot(vld1q_s8(w[i].qs), vld1q_s8(w[i].qs + 16), x.qs + 32 * i);
        s += half(w[i].d) * x.d[i] * (float)d;
    }
    return s;
}

// ---- K-quants ------------------------------------------------------------------------------------

/// Σ over the 16 sub-blocks of 16: scale_k * Σ q*y.
static inline int scaled_sum16(const int8_t q[QK_K], const int8_t *y, const int8_t scales[16]) {
    int sum = 0;
    for (int k = 0; k < 16; k++) {
        sum += scales[k] * vaddvq_s32(dot16(vdupq_n_s32(0), vld1q_s8(q + 16 * k), vld1q_s8(y + 16 * k)));
    }
    return sum;
}

/// 2-bit fields of 32 bytes: element 128h + 32j + l is bits 2j of qs[32h + l].
static inline void unpack_2bit(const uint8_t *qs, int8_t q[QK_K]) {
    uint8x16_t three = vdupq_n_u8(3);
    for (int h = 0; h < 2; h++) {
        for (int half16 = 0; half16 < 2; half16++) {
            uint8x16_t v = vld1q_u8(qs + 32 * h + 16 * half16);
            int8_t *out = q + 128 * h + 16 * half16;
            vst1q_s8(out, vreinterpretq_s8_u8(vandq_u8(v, three)));
            vst1q_s8(out + 32, vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v, 2), three)));
            vst1q_s8(out + 64, vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v, 4), three)));
            vst1q_s8(out + 96, vreinterpretq_s8_u8(vshrq_n_u8(v, 6)));
        }
    }
}

static float dot_q2_K(const void *row, const void *act, int n) {
    const block_q2_K *w = row;
    const block_q8_K *x = act;
    float s = 0;
    for (int i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K], scales[16];
        unpack_2bit(w[i].qs, q);
        int sum_mins = 0;
        for (int k = 0; k < 16; k++) {
            scales[k] = (int8_t)(w[i].scales[k] & 0x0F);
            sum_mins += (w[i].scales[k] >> 4) * x[i].bsums[k];
        }
        int sum = scaled_sum16(q, x[i].qs, scales);
        s += x[i].d * (half(w[i].d) * (float)sum - half(w[i].dmin) * (float)sum_mins);
    }
    return s;
}

static float dot_q3_K(const void *row, const void *act, int n) {
    const block_q3_K *w = row;
    const block_q8_K *x = act;
    float s = 0;
    for (int i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K], scales[16];
        unpack_2bit(w[i].qs, q);
        infer_q3_K_scales(w[i].scales, scales);
        // element 32b + l loses 4 unless bit b of hmask[l] is set
        uint8x16_t hm0 = vld1q_u8(w[i].hmask), hm1 = vld1q_u8(w[i].hmask + 16), four = vdupq_n_u8(4);
        for (int b = 0; b < 8; b++) {
            uint8x16_t bit = vdupq_n_u8((uint8_t)(1 << b));
            int8_t *out = q + 32 * b;
            uint8x16_t sub0 = vbicq_u8(four, vtstq_u8(hm0, bit)), sub1 = vbicq_u8(four, vtstq_u8(hm1, bit));
            vst1q_s8(out, vsubq_s8(vld1q_s8(out), vreinterpretq_s8_u8(sub0)));
            vst1q_s8(out + 16, vsubq_s8(vld1q_s8(out + 16), vreinterpretq_s8_u8(sub1)));
        }
        s += x[i].d * half(w[i].d) * (float)scaled_sum16(q, x[i].qs, scales);
    }
    return s;
}

/// 4-bit fields: element 64c + 32n + l is nibble n of qs[32c + l].
static inline void unpack_4bit(const uint8_t *qs, int8_t q[QK_K]) {
    for (int c = 0; c < 4; c++) {
        for (int half16 = 0; half16 < 2; half16++) {
            uint8x16_t v = vld1q_u8(qs + 32 * c + 16 * half16);
            vst1q_s8(q + 64 * c + 16 * half16, vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0x0F))));
            vst1q_s8(q + 64 * c + 32 + 16 * half16, vreinterpretq_s8_u8(vshrq_n_u8(v, 4)));
        }
    }
}

/// q4_K/q5_K: 8 sub-blocks of 32 with scales and mins.
static inline float k_sum(const uint8_t packed[12], const int8_t q[QK_K], const block_q8_K *x, float d, float dmin) {
    uint8_t sc[8], m[8];
    infer_k_scale_min(packed, sc, m);
    int sum = 0, sum_mins = 0;
    for (int s = 0; s < 8; s++) {
        int32x4_t acc = dot16(vdupq_n_s32(0), vld1q_s8(q + 32 * s), vld1q_s8(x->qs + 32 * s));
        acc = dot16(acc, vld1q_s8(q + 32 * s + 16), vld1q_s8(x->qs + 32 * s + 16));
        sum += sc[s] * vaddvq_s32(acc);
        sum_mins += m[s] * (x->bsums[2 * s] + x->bsums[2 * s + 1]);
    }
    return x->d * (d * (float)sum - dmin * (float)sum_mins);
}

static float dot_q4_K(const void *row, const void *act, int n) {
    const block_q4_K *w = row;
    const block_q8_K *x = act;
    float s = 0;
    for (int i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K];
        unpack_4bit(w[i].qs, q);
        s += k_sum(w[i].scales, q, &x[i], half(w[i].d), half(w[i].dmin));
    }
    return s;
}

static float dot_q5_K(const void *row, const void *act, int n) {
    const block_q5_K *w = row;
    const block_q8_K *x = act;
    float s = 0;
    for (int i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K];
        unpack_4bit(w[i].qs, q);
        // fifth bit of element 32s + l is bit s of qh[l]
        uint8x16_t h0 = vld1q_u8(w[i].qh), h1 = vld1q_u8(w[i].qh + 16), ten = vdupq_n_u8(0x10);
        for (int b = 0; b < 8; b++) {
            uint8x16_t bit = vdupq_n_u8((uint8_t)(1 << b));
            int8_t *out = q + 32 * b;
            vst1q_s8(out, vreinterpretq_s8_u8(vorrq_u8(vreinterpretq_u8_s8(vld1q_s8(out)), vandq_u8(vtstq_u8(h0, bit), ten))));
            vst1q_s8(out + 16, vreinterpretq_s8_u8(vorrq_u8(vreinterpretq_u8_s8(vld1q_s8(out + 16)), vandq_u8(vtstq_u8(h1, bit), ten))));
        }
        s += k_sum(w[i].scales, q, &x[i], half(w[i].d), half(w[i].dmin));
    }
    return s;
}

static float dot_q6_K(const void *row, const void *act, int n) {
    const block_q6_K *w = row;
    const block_q8_K *x = act;
    float s = 0;
    const uint8x16_t low4 = vdupq_n_u8(0x0F), three = vdupq_n_u8(3);
    const int8x16_t m32 = vdupq_n_s8(32);
    for (int i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K];
        for (int h = 0; h < 2; h++) {
            for (int half16 = 0; half16 < 2; half16++) {
                int o = 16 * half16;
                uint8x16_t l0 = vld1q_u8(w[i].ql + 64 * h + o), l1 = vld1q_u8(w[i].ql + 64 * h + 32 + o);
                uint8x16_t qh = vld1q_u8(w[i].qh + 32 * h + o);
                int8_t *out = q + 128 * h + o;
                uint8x16_t v0 = vorrq_u8(vandq_u8(l0, low4), vshlq_n_u8(vandq_u8(qh, three), 4));
                uint8x16_t v1 = vorrq_u8(vandq_u8(l1, low4), vshlq_n_u8(vandq_u8(vshrq_n_u8(qh, 2), three), 4));
                uint8x16_t v2 = vorrq_u8(vshrq_n_u8(l0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(qh, 4), three), 4));
                uint8x16_t v3 = vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vshrq_n_u8(qh, 6), 4));
                vst1q_s8(out, vsubq_s8(vreinterpretq_s8_u8(v0), m32));
                vst1q_s8(out + 32, vsubq_s8(vreinterpretq_s8_u8(v1), m32));
                vst1q_s8(out + 64, vsubq_s8(vreinterpretq_s8_u8(v2), m32));
                vst1q_s8(out + 96, vsubq_s8(vreinterpretq_s8_u8(v3), m32));
            }
        }
        s += x[i].d * half(w[i].d) * (float)scaled_sum16(q, x[i].qs, w[i].scales);
    }
    return s;
}

// Activations use the scalar quantizers (once per product; not worth a NEON copy untimed).
const kernel_table infer_kernels_neon = {
    .dot = {
        [INFER_TYPE_F32] = dot_f32, [INFER_TYPE_F16] = dot_f16, [INFER_TYPE_BF16] = dot_bf16,
        [INFER_TYPE_Q4_0] = dot_q4_0, [INFER_TYPE_Q4_1] = dot_q4_1,
        [INFER_TYPE_Q5_0] = dot_q5_0, [INFER_TYPE_Q5_1] = dot_q5_1, [INFER_TYPE_Q8_0] = dot_q8_0,
        [INFER_TYPE_Q2_K] = dot_q2_K, [INFER_TYPE_Q3_K] = dot_q3_K, [INFER_TYPE_Q4_K] = dot_q4_K,
        [INFER_TYPE_Q5_K] = dot_q5_K, [INFER_TYPE_Q6_K] = dot_q6_K,
    },
};
#endif
