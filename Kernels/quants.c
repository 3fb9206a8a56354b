// Scalar reference decoding of every weight type, and the quantization of activations.
//
// The decoders compute in exactly the order the `gguf` Python package does
// (gguf.quants.dequantize), so the tests can compare them bit for bit: products are
// separate from sums (no fused multiply-add), scales are multiplied before quants.
#include "kernels.h"
#include "blocks.h"
#include "kernel_table.h"
#include <math.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

activation_form infer_activation_form(infer_type type) {
    switch (type) {
    case INFER_TYPE_F32: case INFER_TYPE_BF16:
        return ACT_F32;
    case INFER_TYPE_F16:
        return ACT_F16;
    case INFER_TYPE_Q4_0: case INFER_TYPE_Q4_1: case INFER_TYPE_Q5_0: case INFER_TYPE_Q5_1:
    case INFER_TYPE_Q8_0: case INFER_TYPE_Q4_0_X8: case INFER_TYPE_Q8_0_X8:
        return ACT_Q8_32;
    case INFER_TYPE_Q2_K: case INFER_TYPE_Q3_K: case INFER_TYPE_Q4_K: case INFER_TYPE_Q5_K:
    case INFER_TYPE_Q6_K: case INFER_TYPE_Q4_K_X8: case INFER_TYPE_Q6_K_X8:
        return ACT_Q8_K;
    case INFER_TYPE_Q8_GROUPED:
        return ACT_NONE;
    }
    return ACT_NONE;
}

int infer_type_supported(infer_type type) { return infer_activation_form(type) != ACT_NONE; }

void infer_round_to_f16(const float *x, void *act, int n) {
    uint16_t *h = act;
    for (int i = 0; i < n; i++) h[i] = infer_fp32_to_fp16(x[i]);
}

int infer_type_block_size(infer_type type) {
    switch (infer_activation_form(type)) {
    case ACT_Q8_32: return 32;
    case ACT_Q8_K: return QK_K;
    default: return 1;
    }
}

static float bf16_to_fp32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static uint32_t load_u32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);  // little-endian, as GGUF is
    return v;
}

// ---- 32-element blocks ----------------------------------------------------------------------

static void dequantize_q4_0(const block_q4_0 *b, float *y, int nb) {
    for (int i = 0; i < nb; i++, y += 32) {
        float d = infer_fp16_to_fp32(b[i].d);
        for (int j = 0; j < 16; j++) {
            y[j] = d * (float)((b[i].qs[j] & 0x0F) - 8);
            y[j + 16] = d * (float)((b[i].qs[j] >> 4) - 8);
        }
    }
}

static void dequantize_q4_1(const block_q4_1 *b, float *y, int nb) {
    for (int i = 0; i < nb; i++, y += 32) {
        float d = infer_fp16_to_fp32(b[i].d), m = infer_fp16_to_fp32(b[i].m);
        for (int j = 0; j < 16; j++) {
            y[j] = d * (float)(b[i].qs[j] & 0x0F) + m;
            y[j + 16] = d * (float)(b[i].qs[j] >> 4) + m;
        }
    }
}

static void dequantize_q5_0(const block_q5_0 *b, float *y, int nb) {
    for (int i = 0; i < nb; i++, y += 32) {
        float d = infer_fp16_to_fp32(b[i].d);
        uint32_t qh = load_u32(b[i].qh);
        for (int j = 0; j < 16; j++) {
            int lo = (b[i].qs[j] & 0x0F) | (int)(((qh >> j) & 1) << 4);
            int hi = (b[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
            y[j] = d * (float)(lo - 16);
            y[j + 16] = d * (float)(hi - 16);
        }
    }
}

static void dequantize_q5_1(const block_q5_1 *b, float *y, int nb) {
    for (int i = 0; i < nb; i++, y += 32) {
        float d = infer_fp16_to_fp32(b[i].d), m = infer_fp16_to_fp32(b[i].m);
        uint32_t qh = load_u32(b[i].qh);
        for (int j = 0; j < 16; j++) {
            int lo = (b[i].qs[j] & 0x0F) | (int)(((qh >> j) & 1) << 4);
            int hi = (b[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
            y[j] = d * (float)lo + m;
            y[j + 16] = d * (float)hi + m;
        }
    }
}

static void dequantize_q8_0(const block_q8_0 *b, float *y, int nb) {
    for (int i = 0; i < nb; i++, y += 32) {
        float d = infer_fp16_to_fp32(b[i].d);
        for (int j = 0; j < 32; j++) y[j] = (float)b[i].qs[j] * d;
    }
}

// ---- K-quants -----------------------------------------------------------------------------

static void dequantize_q2_K(const block_q2_K *b, float *y, int nb) {
    for (int i = 0; i < nb; i++, y += QK_K) {
        float d = infer_fp16_to_fp32(b[i].d), dmin = infer_fp16_to_fp32(b[i].dmin);
        for (int e = 0; e < QK_K; e++) {
            int h = e / 128, j = (e % 128) / 32, l = e % 32;
            int q = (b[i].qs[32 * h + l] >> (2 * j)) & 3;
            uint8_t sc = b[i].scales[e / 16];
            float dl = d * (float)(sc & 0x0F), ml = dmin * (float)(sc >> 4);
            y[e] = dl * (float)q - ml;
        }
    }
}

/// The 16 six-bit scales of a q3_K block, offset by -32. Bytes 0-7 hold the low nibbles
/// (scale k: byte k % 8, nibble k / 8); bytes 8-11 the high two bits (scale k: byte
/// 8 + k % 4, bits 2 * (k / 4)).
void infer_q3_K_scales(const uint8_t packed[12], int8_t scales[16]) {
    for (int k = 0; k < 16; k++) {
        int low = (packed[k % 8] >> (4 * (k / 8))) & 0x0F;
        int high = (packed[8 + k % 4] >> (2 * (k / 4))) & 3;
        scales[k] = (int8_t)((low | (high << 4)) - 32);
    }
}

static void dequantize_q3_K(const block_q3_K *b, float *y, int nb) {
    for (int i = 0; i < nb; i++, y += QK_K) {
        float d = infer_fp16_to_fp32(b[i].d);
        int8_t scales[16];
        infer_q3_K_scales(b[i].scales, scales);
        for (int e = 0; e < QK_K; e++) {
            int h = e / 128, j = (e % 128) / 32, l = e % 32;
            int q = (b[i].qs[32 * h + l] >> (2 * j)) & 3;
            if (!((b[i].hmask[l] >> (e / 32)) & 1)) q -= 4;
            float dl = d * (float)scales[e / 16];
            y[e] = dl * (float)q;
        }
    }
}

/// The 8 six-bit scales and 8 six-bit mins of a q4_K/q5_K block. Sub-blocks 0-3 keep
/// theirs in the low six bits of bytes 0-3 (scales) and 4-7 (mins); sub-blocks 4-7 keep
/// the low four bits in the nibbles of bytes 8-11 and the high two bits in the top bits of
/// bytes 0-3 (scales) and 4-7 (mins).
void infer_k_scale_min(const uint8_t packed[12], uint8_t scales[8], uint8_t mins[8]) {
    for (int j = 0; j < 4; j++) {
        scales[j] = packed[j] & 63;
        mins[j] = packed[j + 4] & 63;
        scales[j + 4] = (uint8_t)((packed[j + 8] & 0x0F) | ((packed[j] >> 6) << 4));
        mins[j + 4] = (uint8_t)((packed[j + 8] >> 4) | ((packed[j + 4] >> 6) << 4));
    }
}

static void dequantize_q4_K(const block_q4_K *b, float *y, int nb) {
    for (int i = 0; i < nb; i++, y += QK_K) {
        float d = infer_fp16_to_fp32(b[i].d), dmin = infer_fp16_to_fp32(b[i].dmin);
        uint8_t sc[8], m[8];
        infer_k_scale_min(b[i].scales, sc, m);
        for (int e = 0; e < QK_K; e++) {
            int s = e / 32, l = e % 32;
            int q = (b[i].qs[32 * (s / 2) + l] >> (4 * (s % 2))) & 0x0F;
            float ds = d * (float)sc[s], dm = dmin * (float)m[s];
            y[e] = ds * (float)q - dm;
        }
    }
}

static void dequantize_q5_K(const block_q5_K *b, float *y, int nb) {
    for (int i = 0; i < nb; i++, y += QK_K) {
        float d = infer_fp16_to_fp32(b[i].d), dmin = infer_fp16_to_fp32(b[i].dmin);
        uint8_t sc[8], m[8];
        infer_k_scale_min(b[i].scales, sc, m);
        for (int e = 0; e < QK_K; e++) {
            int s = e / 32, l = e % 32;
            int q = ((b[i].qs[32 * (s / 2) + l] >> (4 * (s % 2))) & 0x0F) | (((b[i].qh[l] >> s) & 1) << 4);
            float ds = d * (float)sc[s], dm = dmin * (float)m[s];
            y[e] = ds * (float)q - dm;
        }
    }
}

static void dequantize_q6_K(const block_q6_K *b, float *y, int nb) {
    for (int i = 0; i < nb; i++, y += QK_K) {
        float d = infer_fp16_to_fp32(b[i].d);
        for (int e = 0; e < QK_K; e++) {
            float ds = d * (float)b[i].scales[e / 16];
            y[e] = ds * (float)(q6_K_value(&b[i], e) - 32);
        }
    }
}

void infer_dequantize_row(infer_type type, const void *row, float *out, int n) {
    int nb = n / infer_type_block_size(type);
    switch (type) {
    case INFER_TYPE_F32: memcpy(out, row, (size_t)n * sizeof(float)); return;
    case INFER_TYPE_F16: {
        const uint16_t *h = (const uint16_t *)row;
        for (int i = 0; i < n; i++) out[i] = infer_fp16_to_fp32(h[i]);
        return;
    }
    case INFER_TYPE_BF16: {
        const uint16_t *h = (const uint16_t *)row;
        for (int i = 0; i < n; i++) out[i] = bf16_to_fp32(h[i]);
        return;
    }
    case INFER_TYPE_Q4_0: dequantize_q4_0(row, out, nb); return;
    case INFER_TYPE_Q4_1: dequantize_q4_1(row, out, nb); return;
    case INFER_TYPE_Q5_0: dequantize_q5_0(row, out, nb); return;
    case INFER_TYPE_Q5_1: dequantize_q5_1(row, out, nb); return;
    case INFER_TYPE_Q8_0: dequantize_q8_0(row, out, nb); return;
    case INFER_TYPE_Q2_K: dequantize_q2_K(row, out, nb); return;
    case INFER_TYPE_Q3_K: dequantize_q3_K(row, out, nb); return;
    case INFER_TYPE_Q4_K: dequantize_q4_K(row, out, nb); return;
    case INFER_TYPE_Q5_K: dequantize_q5_K(row, out, nb); return;
    case INFER_TYPE_Q6_K: dequantize_q6_K(row, out, nb); return;
    case INFER_TYPE_Q8_GROUPED: return;  // needs its scales: infer_dequantize_q8_grouped
    case INFER_TYPE_Q4_K_X8: case INFER_TYPE_Q4_0_X8: case INFER_TYPE_Q6_K_X8: case INFER_TYPE_Q8_0_X8:
        return;  // interleaved: infer_dequantize_rows
    }
}

// ---- activations ----------------------------------------------------------------------------
// Symmetric int8 with the largest magnitude at ±127 (never -128, so kernels may negate).

static float max_abs(const float *x, int n) {
    float m = 0;
    for (int i = 0; i < n; i++) m = fmaxf(m, fabsf(x[i]));
    return m;
}

void infer_quantize_q8_32(const float *x, void *act, int n) {
    q8_32_view a = q8_32_at(act, n);
    for (int i = 0; i < n / 32; i++, x += 32) {
        float d = max_abs(x, 32) / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            int q = (int)nearbyintf(x[j] * id);
            a.qs[32 * i + j] = (int8_t)q;
            sum += q;
        }
        a.d[i] = d;
        a.sum[i] = d * (float)sum;
    }
}

void infer_quantize_q8_K(const float *x, void *act, int n) {
    block_q8_K *b = (block_q8_K *)act;
    for (int i = 0; i < n / QK_K; i++, x += QK_K) {
        float d = max_abs(x, QK_K) / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        for (int g = 0; g < QK_K / 16; g++) {
            int sum = 0;
            for (int j = 16 * g; j < 16 * g + 16; j++) {
                int q = (int)nearbyintf(x[j] * id);
                b[i].qs[j] = (int8_t)q;
                sum += q;
            }
            b[i].bsums[g] = (int16_t)sum;
        }
        b[i].d = d;
    }
}
