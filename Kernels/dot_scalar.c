// Reference dot products of a weight row with a prepared activation, one per type: the
// portable path, and what the vector kernels are tested against. Quantized types multiply
// integer quants block by block and apply the scales once per block, as the vector kernels
// do, so the two differ only in the order of float additions.
#include "kernels.h"
#include "blocks.h"
#include "kernel_table.h"
#include <string.h>

float infer_dot_f32(const float *a, const float *b, int n) {
    // Several accumulators let the compiler vectorize without reassociation flags.
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 += a[i] * b[i];         s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3];
        s4 += a[i + 4] * b[i + 4]; s5 += a[i + 5] * b[i + 5];
        s6 += a[i + 6] * b[i + 6]; s7 += a[i + 7] * b[i + 7];
    }
    for (; i < n; i++) s0 += a[i] * b[i];
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
}

static float dot_f32(const void *row, const void *act, int n) {
    return infer_dot_f32((const float *)row, (const float *)act, n);
}

static float dot_f16(const void *row, const void *act, int n) {
    const uint16_t *w = (const uint16_t *)row, *x = (const uint16_t *)act;
    float s = 0;
    for (int i = 0; i < n; i++) s += infer_fp16_to_fp32(w[i]) * infer_fp16_to_fp32(x[i]);
    return s;
}

static float dot_bf16(const void *row, const void *act, int n) {
    const uint16_t *w = (const uint16_t *)row;
    const float *x = (const float *)act;
    float s = 0;
    for (int i = 0; i < n; i++) {
        uint32_t bits = (uint32_t)w[i] << 16;
        float f;
        memcpy(&f, &bits, sizeof f);
        s += f * x[i];
    }
    return s;
}

// ---- 32-element blocks: weight = d * (q - offset) or d * q + m --------------------------------

static int dot_block(const int8_t q[32], const int8_t y[32]) {
    int s = 0;
    for (int j = 0; j < 32; j++) s += q[j] * y[j];
    return s;
}

/// Element j of a block's 4-bit quants: low nibbles first, then high nibbles.
static void unpack_nibbles(const uint8_t qs[16], int8_t q[32]) {
    for (int j = 0; j < 16; j++) {
        q[j] = (int8_t)(qs[j] & 0x0F);
        q[j + 16] = (int8_t)(qs[j] >> 4);
    }
}

static void add_fifth_bits(const uint8_t qh[4], int8_t q[32]) {
    uint32_t h;
    memcpy(&h, qh, sizeof h);
    for (int j = 0; j < 32; j++) q[j] = (int8_t)(q[j] | (((h >> j) & 1) << 4));
}

static float dot_q4_0(const void *row, const void *act, int n) {
    const block_q4_0 *w = row;
    q8_32_view x = q8_32_at(act, n);
    float s = 0;
    for (int i = 0; i < n / 32; i++) {
        int8_t q[32];
        unpack_nibbles(w[i].qs, q);
        for (int j = 0; j < 32; j++) q[j] -= 8;
        s += infer_fp16_to_fp32(w[i].d) * x.d[i] * (float)dot_block(q, x.qs + 32 * i);
    }
    return s;
}

static float dot_q4_1(const void *row, const void *act, int n) {
    const block_q4_1 *w = row;
    q8_32_view x = q8_32_at(act, n);
    float s = 0;
    for (int i = 0; i < n / 32; i++) {
        int8_t q[32];
        unpack_nibbles(w[i].qs, q);
        // Σ (d q + m) x = d dx Σ q y + m Σ x
        s += infer_fp16_to_fp32(w[i].d) * x.d[i] * (float)dot_block(q, x.qs + 32 * i)
           + infer_fp16_to_fp32(w[i].m) * x.sum[i];
    }
    return s;
}

static float dot_q5_0(const void *row, const void *act, int n) {
    const block_q5_0 *w = row;
    q8_32_view x = q8_32_at(act, n);
    float s = 0;
    for (int i = 0; i < n / 32; i++) {
        int8_t q[32];
        unpack_nibbles(w[i].qs, q);
        add_fifth_bits(w[i].qh, q);
        for (int j = 0; j < 32; j++) q[j] -= 16;
        s += infer_fp16_to_fp32(w[i].d) * x.d[i] * (float)dot_block(q, x.qs + 32 * i);
    }
    return s;
}

static float dot_q5_1(const void *row, const void *act, int n) {
    const block_q5_1 *w = row;
    q8_32_view x = q8_32_at(act, n);
    float s = 0;
    for (int i = 0; i < n / 32; i++) {
        int8_t q[32];
        unpack_nibbles(w[i].qs, q);
        add_fifth_bits(w[i].qh, q);
        s += infer_fp16_to_fp32(w[i].d) * x.d[i] * (float)dot_block(q, x.qs + 32 * i)
           + infer_fp16_to_fp32(w[i].m) * x.sum[i];
    }
    return s;
}

static float dot_q8_0(const void *row, const void *act, int n) {
    const block_q8_0 *w = row;
    q8_32_view x = q8_32_at(act, n);
    float s = 0;
    for (int i = 0; i < n / 32; i++) {
        s += infer_fp16_to_fp32(w[i].d) * x.d[i] * (float)dot_block(w[i].qs, x.qs + 32 * i);
    }
    return s;
}

// ---- K-quants: per 256-element super-block, integer sums weighted by integer sub-block scales ----

/// Σ over 16 elements of q * y.
static int dot16(const int8_t *q, const int8_t *y) {
    int s = 0;
    for (int j = 0; j < 16; j++) s += q[j] * y[j];
    return s;
}

static float dot_q2_K(const void *row, const void *act, int n) {
    const block_q2_K *w = row;
    const block_q8_K *x = act;
    float s = 0;
    for (int i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K];
        for (int e = 0; e < QK_K; e++) {
            q[e] = (int8_t)((w[i].qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3);
        }
        int sum_scaled = 0, sum_mins = 0;
        for (int k = 0; k < 16; k++) {
            sum_scaled += (w[i].scales[k] & 0x0F) * dot16(q + 16 * k, x[i].qs + 16 * k);
            sum_mins += (w[i].scales[k] >> 4) * x[i].bsums[k];
        }
        s += x[i].d * (infer_fp16_to_fp32(w[i].d) * (float)sum_scaled
                       - infer_fp16_to_fp32(w[i].dmin) * (float)sum_mins);
    }
    return s;
}

static float dot_q3_K(const void *row, const void *act, int n) {
    const block_q3_K *w = row;
    const block_q8_K *x = act;
    float s = 0;
    for (int i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K], scales[16];
        infer_q3_K_scales(w[i].scales, scales);
        for (int e = 0; e < QK_K; e++) {
            int v = (w[i].qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
            q[e] = (int8_t)(((w[i].hmask[e % 32] >> (e / 32)) & 1) ? v : v - 4);
        }
        int sum = 0;
        for (int k = 0; k < 16; k++) sum += scales[k] * dot16(q + 16 * k, x[i].qs + 16 * k);
        s += x[i].d * infer_fp16_to_fp32(w[i].d) * (float)sum;
    }
    return s;
}

/// q4_K and q5_K: 8 sub-blocks of 32 with a scale and a min each.
static float k_scaled_sum(const uint8_t packed[12], const int8_t q[QK_K], const block_q8_K *x,
                          float d, float dmin) {
    uint8_t sc[8], m[8];
    infer_k_scale_min(packed, sc, m);
    int sum_scaled = 0, sum_mins = 0;
    for (int s = 0; s < 8; s++) {
        sum_scaled += sc[s] * (dot16(q + 32 * s, x->qs + 32 * s) + dot16(q + 32 * s + 16, x->qs + 32 * s + 16));
        sum_mins += m[s] * (x->bsums[2 * s] + x->bsums[2 * s + 1]);
    }
    return x->d * (d * (float)sum_scaled - dmin * (float)sum_mins);
}

static float dot_q4_K(const void *row, const void *act, int n) {
    const block_q4_K *w = row;
    const block_q8_K *x = act;
    float s = 0;
    for (int i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K];
        for (int e = 0; e < QK_K; e++) q[e] = (int8_t)((w[i].qs[32 * (e / 64) + e % 32] >> (4 * ((e / 32) % 2))) & 0x0F);
        s += k_scaled_sum(w[i].scales, q, &x[i], infer_fp16_to_fp32(w[i].d), infer_fp16_to_fp32(w[i].dmin));
    }
    return s;
}

static float dot_q5_K(const void *row, const void *act, int n) {
    const block_q5_K *w = row;
    const block_q8_K *x = act;
    float s = 0;
    for (int i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K];
        for (int e = 0; e < QK_K; e++) {
            int low = (w[i].qs[32 * (e / 64) + e % 32] >> (4 * ((e / 32) % 2))) & 0x0F;
            q[e] = (int8_t)(low | (((w[i].qh[e % 32] >> (e / 32)) & 1) << 4));
        }
        s += k_scaled_sum(w[i].scales, q, &x[i], infer_fp16_to_fp32(w[i].d), infer_fp16_to_fp32(w[i].dmin));
    }
    return s;
}

static float dot_q6_K(const void *row, const void *act, int n) {
    const block_q6_K *w = row;
    const block_q8_K *x = act;
    float s = 0;
    for (int i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K];
        for (int e = 0; e < QK_K; e++) {
            int h = e / 128, r = e % 128;
            int low = (w[i].ql[64 * h + r % 64] >> (4 * (r / 64))) & 0x0F;
            int high = (w[i].qh[32 * h + r % 32] >> (2 * (r / 32))) & 3;
            q[e] = (int8_t)((low | (high << 4)) - 32);
        }
        int sum = 0;
        for (int k = 0; k < 16; k++) sum += w[i].scales[k] * dot16(q + 16 * k, x[i].qs + 16 * k);
        s += x[i].d * infer_fp16_to_fp32(w[i].d) * (float)sum;
    }
    return s;
}

const kernel_table infer_kernels_scalar = {
    .dot = {
        [INFER_TYPE_F32] = dot_f32, [INFER_TYPE_F16] = dot_f16, [INFER_TYPE_BF16] = dot_bf16,
        [INFER_TYPE_Q4_0] = dot_q4_0, [INFER_TYPE_Q4_1] = dot_q4_1,
        [INFER_TYPE_Q5_0] = dot_q5_0, [INFER_TYPE_Q5_1] = dot_q5_1, [INFER_TYPE_Q8_0] = dot_q8_0,
        [INFER_TYPE_Q2_K] = dot_q2_K, [INFER_TYPE_Q3_K] = dot_q3_K, [INFER_TYPE_Q4_K] = dot_q4_K,
        [INFER_TYPE_Q5_K] = dot_q5_K, [INFER_TYPE_Q6_K] = dot_q6_K,
    },
    .f16 = infer_round_to_f16,
    .q8_32 = infer_quantize_q8_32,
    .q8_K = infer_quantize_q8_K,
};
