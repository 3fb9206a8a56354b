// Attention of the query heads that share one KV head, over the KV cache, with NEON (arm64),
// chosen by infer_attention_heads_isa: attention_avx2.c's computation in 4-lane vectors.
// Scores are computed for four positions at a time, each position's lanes accumulating the
// elements i ≡ lane (mod 4), with one transposing reduction for the four sums; the heads of a
// group take each block of positions in turn, so the cache is read from memory once per
// group, not once per head. The results agree with the scalar path to within a few f32 ulps
// (fused multiply-adds), not bit for bit.
#if defined(__aarch64__)
#include "kernels.h"
#include "kernel_table.h"
#include "decode.h"
#include <arm_neon.h>

/// The four sums (p0 + p1) + (p2 + p3) of the lanes of each of v[0..3], in one vector.
static inline float32x4_t sums_of_4(const float32x4_t v[4]) {
    return vpaddq_f32(vpaddq_f32(v[0], v[1]), vpaddq_f32(v[2], v[3]));
}

/// scores[j] = scale (q · k_j) for the four positions j in [0, 4) from k (`stride` floats
/// apart).
static inline void scores_of_4(const float *q, const float *k, size_t stride, int head_dim, float scale,
                               float *scores) {
    float32x4_t acc[4];
    for (int j = 0; j < 4; j++) acc[j] = vdupq_n_f32(0);
    for (int i = 0; i < head_dim; i += 4) {
        float32x4_t qi = vld1q_f32(q + i);
        for (int j = 0; j < 4; j++) acc[j] = vfmaq_f32(acc[j], qi, vld1q_f32(k + (size_t)j * stride + i));
    }
    vst1q_f32(scores, vmulq_n_f32(sums_of_4(acc), scale));
}

/// o[0, 4 lanes) += Σ_{t in [t0, t1)} s[t] v_t[0, 4 lanes), starting from zero when t0 is 0.
/// Called with lanes a constant, so that the sums stay in registers.
__attribute__((always_inline)) static inline void add_values(int lanes, const float *s, const float *v, size_t stride,
                                                             int t0, int t1, float *o) {
    float32x4_t acc[16];
    for (int j = 0; j < lanes; j++) acc[j] = t0 == 0 ? vdupq_n_f32(0) : vld1q_f32(o + 4 * j);
    for (int t = t0; t < t1; t++) {
        const float *vt = v + (size_t)t * stride;
        for (int j = 0; j < lanes; j++) acc[j] = vfmaq_n_f32(acc[j], vld1q_f32(vt + 4 * j), s[t]);
    }
    for (int j = 0; j < lanes; j++) vst1q_f32(o + 4 * j, acc[j]);
}

/// Positions of V a pass takes for every head before moving on (16 rows of a 128-wide head
/// are 8 KB, which the other heads then read from L1).
#define VALUE_BLOCK 16

void infer_attention_heads_neon(const float *q, int heads, const float *k, const float *v, size_t stride, int n_pos,
                                int head_dim, float scale, float soft_cap, float *scores, size_t scores_stride,
                                float *out) {
    if (n_pos <= 0) {  // nothing to attend to: zeros, as the scalar path gives
        for (int i = 0; i < heads * head_dim; i++) out[i] = 0;
        return;
    }
    int t = 0;
    for (; t + 4 <= n_pos; t += 4) {
        for (int h = 0; h < heads; h++) {
            scores_of_4(q + (size_t)h * head_dim, k + (size_t)t * stride, stride, head_dim, scale,
                        scores + (size_t)h * scores_stride + t);
        }
    }
    for (int h = 0; h < heads; h++) {
        float *s = scores + (size_t)h * scores_stride;
        for (int p = t; p < n_pos; p++) s[p] = infer_dot_f32(q + (size_t)h * head_dim, k + (size_t)p * stride, head_dim) * scale;
        if (soft_cap > 0) infer_soft_cap(s, (size_t)n_pos, soft_cap);
        infer_softmax(s, n_pos);
    }
    // out_h = Σ_t scores_h[t] v_t, in blocks of positions taken by every head in turn; each
    // output element adds its terms in the order of t, as a head alone would.
    for (int t0 = 0; t0 < n_pos; t0 += VALUE_BLOCK) {
        int t1 = t0 + VALUE_BLOCK < n_pos ? t0 + VALUE_BLOCK : n_pos;
        for (int h = 0; h < heads; h++) {
            const float *s = scores + (size_t)h * scores_stride;
            float *o_h = out + (size_t)h * head_dim;
            int d = 0;  // in as many lanes at a time as stay in registers, each a constant
            for (; d + 64 <= head_dim; d += 64) add_values(16, s, v + d, stride, t0, t1, o_h + d);
            for (; d + 16 <= head_dim; d += 16) add_values(4, s, v + d, stride, t0, t1, o_h + d);
            for (; d < head_dim; d += 4) add_values(1, s, v + d, stride, t0, t1, o_h + d);
        }
    }
}
#endif
