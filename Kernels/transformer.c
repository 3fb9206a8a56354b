// The non-matrix pieces of a transformer layer: normalization, activation, rotary
// embedding and single-head attention.
#include "kernels.h"
#include <math.h>

void infer_rmsnorm(float *out, const float *x, const float *weight, int n, float eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * (double)x[i];
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

void infer_attention_head(const float *q, const float *k, const float *v, size_t stride,
                          int n_pos, int head_dim, float scale, float *scores, float *out) {
    for (int t = 0; t < n_pos; t++) {
        scores[t] = infer_dot_f32(q, k + (size_t)t * stride, head_dim) * scale;
    }
    infer_softmax(scores, n_pos);
    for (int d = 0; d < head_dim; d++) out[d] = 0;
    for (int t = 0; t < n_pos; t++) {
        const float *vt = v + (size_t)t * stride;
        float a = scores[t];
        for (int d = 0; d < head_dim; d++) out[d] += a * vt[d];
    }
}
