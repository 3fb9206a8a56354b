// IEEE half <-> single conversion, portable bit manipulation.
#include "kernels.h"
#include <string.h>

float infer_fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1f;
    uint32_t mantissa = h & 0x3ff;
    uint32_t bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {  // subnormal: normalize
            exponent = 127 - 15 + 1;
            while ((mantissa & 0x400) == 0) { mantissa <<= 1; exponent--; }
            mantissa &= 0x3ff;
            bits = sign | (exponent << 23) | (mantissa << 13);
        }
    } else if (exponent == 31) {
        bits = sign | 0x7f800000 | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

uint16_t infer_fp32_to_fp16(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t mantissa = x & 0x7fffff;
    int32_t exponent = (int32_t)((x >> 23) & 0xff);
    if (exponent == 0xff) return (uint16_t)(sign | 0x7c00 | (mantissa ? 0x200 : 0));
    exponent = exponent - 127 + 15;
    if (exponent >= 31) return (uint16_t)(sign | 0x7c00);
    if (exponent <= 0) {
        if (exponent < -10) return (uint16_t)sign;
        mantissa |= 0x800000;
        uint32_t shift = (uint32_t)(14 - exponent);
        uint32_t half = mantissa >> shift;
        uint32_t rest = mantissa & ((1u << shift) - 1);
        uint32_t midpoint = 1u << (shift - 1);
        if (rest > midpoint || (rest == midpoint && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)exponent << 10) | (mantissa >> 13);
    uint32_t rest = mantissa & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) half++;  // round to nearest even
    return (uint16_t)half;
}

// ---- f32 values rounded to f16 precision --------------------------------------------------
// What an f16 weight matrix multiplies: the matrix-vector kernels read activations as fp16
// (see ACT_F16 in kernel_table.h), and the batched products round theirs the same way, so a
// prompt gives the same logits whether it goes through in a batch or token by token.

#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx2,f16c"))) static size_t round_vectors(const float *x, float *out, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
        _mm256_storeu_ps(out + i, _mm256_cvtph_ps(h));
    }
    return i;
}
#elif defined(__aarch64__)
#include <arm_neon.h>
static size_t round_vectors(const float *x, float *out, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(out + i, vcvt_f32_f16(vcvt_f16_f32(vld1q_f32(x + i))));
    return i;
}
#endif

void infer_round_to_f16_precision(const float *x, float *out, size_t n) {
    size_t i = 0;
#if defined(__x86_64__) || defined(__aarch64__)
    if (infer_isa_active() != INFER_ISA_SCALAR) i = round_vectors(x, out, n);
#endif
    for (; i < n; i++) out[i] = infer_fp16_to_fp32(infer_fp32_to_fp16(x[i]));
}
