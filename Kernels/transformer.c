// The non-matrix pieces of a transformer layer: normalization, activation, rotary
// embedding and attention of the heads that share a KV head.
#include "kernels.h"
#include "kernel_table.h"
#include "decode.h"
#include <math.h>

void infer_rmsnorm(float *out, const float *x, const float *weight, int n, float eps) {
    // Eight partial sums, which the compiler keeps in vector registers: one running sum
    // makes every add wait for the one before. In double, so the order of the adds does not show in the f32 scale.
    double part[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int j = 0; j < 8; j++) part[j] += (double)x[i + j] * (double)x[i + j];
    }
    double ss = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
    for (; i < n; i++) ss += (double)x[i] * (double)x[i];
    float scale = 1.0f / sqrtf((float)(ss / n) + eps);
    for (int i = 0; i < n; i++) out[i] = weight[i] * (scale * x[i]);
}

void infer_softmax(float *x, int n) {
    if (n <= 0) return;
    float max = x[0];
    for (int i = 1; i < n; i++) if (x[i] > max) max = x[i];
    float sum = 0;
    for (int i = 0; i < n; i++) { x[i] = expf(x[i] - max); sum += x[i]; }
    float inv = 1.0f / sum;
    for (int i = 0; i < n; i++) x[i] *= inv;
}

void infer_add(float *x, const float *y, int n) {
    for (int i = 0; i < n; i++) x[i] += y[i];
}

void infer_swiglu(float *gate, const float *up, int n) {
    for (int i = 0; i < n; i++) {
        float g = gate[i];
        gate[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

void infer_rope(float *head, int rot_dim, int pos, float theta, int neox) {
    int half = rot_dim / 2;
    for (int i = 0; i < half; i++) {
        // The same expression as llama2.c's run.c, so greedy output matches it bit for bit.
        float freq = 1.0f / powf(theta, (float)(2 * i) / (float)rot_dim);
        float angle = (float)pos * freq;
        float c = cosf(angle), s = sinf(angle);
        int a = neox ? i : 2 * i;
        int b = neox ? i + half : 2 * i + 1;
        float x0 = head[a], x1 = head[b];
        head[a] = x0 * c - x1 * s;
        head[b] = x0 * s + x1 * c;
    }
}

static void attention_head_scalar(const float *q, const char *k, const char *v, infer_type type, size_t row_bytes,
                                  int n_pos, int head_dim, float scale, float soft_cap, float *scores, float *out) {
    for (int t = 0; t < n_pos; t++) {
        scores[t] = infer_cache_row_dot(type, q, k + (size_t)t * row_bytes, head_dim) * scale;
    }
    if (soft_cap > 0) infer_soft_cap(scores, (size_t)n_pos, soft_cap);
    infer_softmax(scores, n_pos);
    for (int d = 0; d < head_dim; d++) out[d] = 0;
    for (int t = 0; t < n_pos; t++) infer_cache_row_add(type, scores[t], v + (size_t)t * row_bytes, out, head_dim);
}

void infer_attention_heads_isa(infer_isa isa, const float *q, int heads, const void *k, const void *v,
                               infer_type kv_type, size_t row_bytes, int n_pos, int head_dim, float scale,
                               float soft_cap, float *scores, size_t scores_stride, float *out) {
#if defined(__x86_64__)
    if ((isa == INFER_ISA_AVX2 || isa == INFER_ISA_AVX512) && head_dim % 8 == 0) {
        infer_attention_heads_avx2(q, heads, k, v, kv_type, row_bytes, n_pos, head_dim, scale, soft_cap, scores,
                                   scores_stride, out);
        return;
    }
#elif defined(__aarch64__)
    if (isa == INFER_ISA_NEON && head_dim % 4 == 0 && (kv_type != INFER_TYPE_Q8_0 || head_dim % 32 == 0)) {
        infer_attention_heads_neon(q, heads, k, v, kv_type, row_bytes, n_pos, head_dim, scale, soft_cap, scores,
                                   scores_stride, out);
        return;
    }
#endif
    (void)isa;
    for (int h = 0; h < heads; h++) {
        attention_head_scalar(q + (size_t)h * head_dim, k, v, kv_type, row_bytes, n_pos, head_dim, scale, soft_cap,
                              scores + (size_t)h * scores_stride, out + (size_t)h * head_dim);
    }
}

void infer_attention_head_isa(infer_isa isa, const float *q, const float *k, const float *v, size_t stride,
                              int n_pos, int head_dim, float scale, float *scores, float *out) {
    infer_attention_heads_isa(isa, q, 1, k, v, INFER_TYPE_F32, stride * sizeof(float), n_pos, head_dim, scale, 0,
                              scores, 0, out);
}

void infer_attention_head(const float *q, const float *k, const float *v, size_t stride,
                          int n_pos, int head_dim, float scale, float *scores, float *out) {
    infer_attention_head_isa(infer_isa_active(), q, k, v, stride, n_pos, head_dim, scale, scores, out);
}
