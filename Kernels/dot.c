// Dot products of a weight row with an f32 activation vector, one per storage type.
#include "kernels.h"
#include "blocks.h"
#include <math.h>

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

static float dot_f16(const uint16_t *w, const float *x, int n) {
    float s = 0;
    for (int i = 0; i < n; i++) s += infer_fp16_to_fp32(w[i]) * x[i];
    return s;
}

static float dot_q8_0(const block_q8_0 *blocks, const float *x, int n) {
    float s = 0;
    for (int b = 0; b < n / QK8_0; b++) {
        float block_sum = 0;
        for (int j = 0; j < QK8_0; j++) block_sum += (float)blocks[b].qs[j] * x[b * QK8_0 + j];
        s += infer_fp16_to_fp32(blocks[b].d) * block_sum;
    }
    return s;
}

float infer_dot_row(infer_type type, const void *row, const float *x, int n) {
    switch (type) {
    case INFER_TYPE_F32: return infer_dot_f32((const float *)row, x, n);
    case INFER_TYPE_F16: return dot_f16((const uint16_t *)row, x, n);
    case INFER_TYPE_Q8_0: return dot_q8_0((const block_q8_0 *)row, x, n);
    }
    return NAN;
}

void infer_matvec(infer_type type, const void *w, size_t row_bytes, const float *x,
                  float *y, int row_begin, int row_end, int cols) {
    const char *base = (const char *)w;
    for (int r = row_begin; r < row_end; r++) {
        y[r] = infer_dot_row(type, base + (size_t)r * row_bytes, x, cols);
    }
}

void infer_dequantize_row(infer_type type, const void *row, float *out, int n) {
    switch (type) {
    case INFER_TYPE_F32: {
        const float *f = (const float *)row;
        for (int i = 0; i < n; i++) out[i] = f[i];
        return;
    }
    case INFER_TYPE_F16: {
        const uint16_t *h = (const uint16_t *)row;
        for (int i = 0; i < n; i++) out[i] = infer_fp16_to_fp32(h[i]);
        return;
    }
    case INFER_TYPE_Q8_0: {
        const block_q8_0 *blocks = (const block_q8_0 *)row;
        for (int b = 0; b < n / QK8_0; b++) {
            float d = infer_fp16_to_fp32(blocks[b].d);
            for (int j = 0; j < QK8_0; j++) out[b * QK8_0 + j] = d * (float)blocks[b].qs[j];
        }
        return;
    }
    }
}
