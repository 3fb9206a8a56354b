// Attention of the query heads that share one KV head, over the KV cache, with NEON (arm64),
// chosen by infer_attention_heads_isa: attention_avx2.c's computation in 4-lane vectors.
// Scores are computed for four positions at a time, each position's lanes accumulating the
// elements i ≡ lane (mod 4), with one transposing reduction for the four sums; the heads of a
// group take each block of positions in turn, so the cache is read from memory once per
// group, not once per head. Cache rows of f16 and q8_0 are widened as they are loaded. The
// results agree with the scalar path to within a few f32 ulps (fused multiply-adds), not bit
// for bit.
#if defined(__aarch64__)
#include "kernels.h"
#include "kernel_table.h"
#include "decode.h"
#include "blocks.h"
#include <arm_neon.h>

/// The four sums (p0 + p1) + (p2 + p3) of the lanes of each of v[0..3], in one vector.
static inline float32x4_t sums_of_4(const float32x4_t v[4]) {
    return vpaddq_f32(vpaddq_f32(v[0], v[1]), vpaddq_f32(v[2], v[3]));
}

/// Four values of a cache row of `type` from element i (a multiple of 4): f32 as they are, f16
/// widened, q8_0 scaled by their block's scale.
__attribute__((always_inline)) static inline float32x4_t load4(infer_type type, const void *row, int i) {
    if (type == INFER_TYPE_F16) return vcvt_f32_f16(vld1_f16((const float16_t *)row + i));
    if (type == INFER_TYPE_Q8_0) {
        const block_q8_0 *b = (const block_q8_0 *)row + i / QK8_0;
        const int8_t *q = b->qs + i % QK8_0;
        int32_t wide[4] = {q[0], q[1], q[2], q[3]};
        return vmulq_n_f32(vcvtq_f32_s32(vld1q_s32(wide)), infer_fp16_to_fp32(b->d));
    }
    return vld1q_f32((const float *)row + i);
}

/// scores[j] = scale (q · k_j) for the four positions j in [0, 4) from k (`row_bytes` apart).
__attribute__((always_inline)) static inline void scores_of_4(infer_type type, const float *q, const char *k,
                                                              size_t row_bytes, int head_dim, float scale,
                                                              float *scores) {
    float32x4_t acc[4];
    for (int j = 0; j < 4; j++) acc[j] = vdupq_n_f32(0);
    for (int i = 0; i < head_dim; i += 4) {
        float32x4_t qi = vld1q_f32(q + i);
        for (int j = 0; j < 4; j++) acc[j] = vfmaq_f32(acc[j], qi, load4(type, k + (size_t)j * row_bytes, i));
    }
    vst1q_f32(scores, vmulq_n_f32(sums_of_4(acc), scale));
}

/// o[0, 4 lanes) += Σ_{t in [t0, t1)} s[t] v_t[d0, d0 + 4 lanes), starting from zero when t0 is 0.
/// Called with lanes a constant, so that the sums stay in registers.
__attribute__((always_inline)) static inline void add_values(infer_type type, int lanes, const float *s, const char *v,
                                                             size_t row_bytes, int d0, int t0, int t1, float *o) {
    float32x4_t acc[16];
    for (int j = 0; j < lanes; j++) acc[j] = t0 == 0 ? vdupq_n_f32(0) : vld1q_f32(o + 4 * j);
    for (int t = t0; t < t1; t++) {
        const char *vt = v + (size_t)t * row_bytes;
        for (int j = 0; j < lanes; j++) acc[j] = vfmaq_n_f32(acc[j], load4(type, vt, d0 + 4 * j), s[t]);
    }
    for (int j = 0; j < lanes; j++) vst1q_f32(o + 4 * j, acc[j]);
}

/// Positions of V a pass takes for every head before moving on (16 rows of a 128-wide head
/// are 8 KB, which the other heads then read from L1).
#define VALUE_BLOCK 16

/// The kernel for one cache type (a constant in each caller, so that the loads specialize).
__attribute__((always_inline)) static inline void attention(infer_type type, const float *q, int heads, const char *k,
                                                            const char *v, size_t row_bytes, int n_pos, int head_dim,
                                                            float scale, float soft_cap, float *scores,
                                                            size_t scores_stride, float *out) {
    if (n_pos <= 0) {  // nothing to attend to: zeros, as the scalar path gives
        for (int i = 0; i < heads * head_dim; i++) out[i] = 0;
        return;
    }
    int t = 0;
    for (; t + 4 <= n_pos; t += 4) {
        for (int h = 0; h < heads; h++) {
            scores_of_4(type, q + (size_t)h * head_dim, k + (size_t)t * row_bytes, row_bytes, head_dim, scale,
                        scores + (size_t)h * scores_stride + t);
        }
    }
    for (int h = 0; h < heads; h++) {
        float *s = scores + (size_t)h * scores_stride;
        for (int p = t; p < n_pos; p++) {
            s[p] = infer_cache_row_dot(type, q + (size_t)h * head_dim, k + (size_t)p * row_bytes, head_dim) * scale;
        }
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
            for (; d + 64 <= head_dim; d += 64) add_values(type, 16, s, v, row_bytes, d, t0, t1, o_h + d);
            for (; d + 16 <= head_dim; d += 16) add_values(type, 4, s, v, row_bytes, d, t0, t1, o_h + d);
            for (; d < head_dim; d += 4) add_values(type, 1, s, v, row_bytes, d, t0, t1, o_h + d);
        }
    }
}

void infer_attention_heads_neon(const float *q, int heads, const void *k, const void *v, infer_type type,
                                size_t row_bytes, int n_pos, int head_dim, float scale, float soft_cap,
                                float *scores, size_t scores_stride, float *out) {
    switch (type) {
    case INFER_TYPE_F16:
        attention(INFER_TYPE_F16, q, heads, k, v, row_bytes, n_pos, head_dim, scale, soft_cap, scores, scores_stride, out);
        break;
    case INFER_TYPE_Q8_0:
        attention(INFER_TYPE_Q8_0, q, heads, k, v, row_bytes, n_pos, head_dim, scale, soft_cap, scores, scores_stride, out);
        break;
    default:
        attention(INFER_TYPE_F32, q, heads, k, v, row_bytes, n_pos, head_dim, scale, soft_cap, scores, scores_stride, out);
        break;
    }
}
#endif
