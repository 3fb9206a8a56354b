// A C-only check of the optimized kernels against the scalar references, for machines where
// the Swift tests cannot run (arm64 under qemu: see run-arm64.sh). It mirrors DotKernelTests
// (random rows of every type, the best ISA's activation bytes and dot products against the
// scalar ones) and the attention tests (a group of heads over random keys and values).
#include "kernels.h"
#include "decode.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x2545F4914F6CDD1DULL;
static uint64_t next(void) { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state; }
static float uniform(float lo, float hi) { return lo + (hi - lo) * (float)(next() >> 40) / (float)(1 << 24); }

typedef struct { infer_type type; const char *name; int block, bytes; int scales[2]; float lo, hi; } type_info;
static const type_info types[] = {
    {INFER_TYPE_F32, "F32", 1, 4, {-1, -1}, 0, 0}, {INFER_TYPE_F16, "F16", 1, 2, {-1, -1}, 0, 0},
    {INFER_TYPE_BF16, "BF16", 1, 2, {-1, -1}, 0, 0}, {INFER_TYPE_Q4_0, "Q4_0", 32, 18, {0, -1}, 0.05f, 0.2f},
    {INFER_TYPE_Q4_1, "Q4_1", 32, 20, {0, 2}, 0.05f, 0.15f}, {INFER_TYPE_Q5_0, "Q5_0", 32, 22, {0, -1}, 0.02f, 0.1f},
    {INFER_TYPE_Q5_1, "Q5_1", 32, 24, {0, 2}, 0.02f, 0.05f}, {INFER_TYPE_Q8_0, "Q8_0", 32, 34, {0, -1}, 0.002f, 0.01f},
    {INFER_TYPE_Q2_K, "Q2_K", 256, 84, {80, 82}, 0.01f, 0.05f}, {INFER_TYPE_Q3_K, "Q3_K", 256, 110, {108, -1}, 0.005f, 0.02f},
    {INFER_TYPE_Q4_K, "Q4_K", 256, 144, {0, 2}, 0.001f, 0.003f}, {INFER_TYPE_Q5_K, "Q5_K", 256, 176, {0, 2}, 0.0005f, 0.0015f},
    {INFER_TYPE_Q6_K, "Q6_K", 256, 210, {208, -1}, 0.0005f, 0.001f},
};

static void random_row(const type_info *t, unsigned char *row, int n) {
    size_t bytes = (size_t)n / (size_t)t->block * (size_t)t->bytes;
    for (size_t i = 0; i < bytes; i++) row[i] = (unsigned char)next();
    for (int i = 0; t->block == 1 && i < n; i++) {
        float f = uniform(-1, 1);
        if (t->type == INFER_TYPE_F32) { memcpy(row + 4 * i, &f, 4); continue; }
        uint32_t bits;
        memcpy(&bits, &f, 4);
        uint16_t h = t->type == INFER_TYPE_F16 ? infer_fp32_to_fp16(f) : (uint16_t)(bits >> 16);
        memcpy(row + 2 * i, &h, 2);
    }
    for (int b = 0; t->block > 1 && b < n / t->block; b++) {
        for (int s = 0; s < 2; s++) {
            if (t->scales[s] < 0) continue;
            float v = uniform(t->lo, t->hi) * (next() & 1 ? 1.0f : -1.0f);
            uint16_t h = infer_fp32_to_fp16(v);
            memcpy(row + (size_t)b * (size_t)t->bytes + (size_t)t->scales[s], &h, 2);
        }
    }
}

static int check(infer_isa isa) {
    int failures = 0;
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        const type_info *t = &types[k];
        const int lengths_float[] = {1, 7, 33, 1000, 4099}, blocks[] = {1, 3, 17, 129};
        for (int li = 0; li < (t->block == 1 ? 5 : 4); li++) {
            int n = t->block == 1 ? lengths_float[li] : blocks[li] * t->block;
            unsigned char *row = malloc((size_t)n * 4);
            float *w = malloc((size_t)n * sizeof(float)), *x = malloc((size_t)n * sizeof(float));
            size_t act_bytes = infer_activation_bytes(t->type, n);
            unsigned char *a_ref = calloc(1, act_bytes), *a_opt = calloc(1, act_bytes);  // zeroed: the form has padding
            random_row(t, row, n);
            infer_dequantize_row(t->type, row, w, n);
            double magnitude = 0;
            for (int i = 0; i < n; i++) {
                x[i] = w[i] + 0.1f + 0.5f * cosf((float)i) + uniform(-0.1f, 0.1f);
                magnitude += fabs((double)w[i] * x[i]);
            }
            infer_prepare_activation(INFER_ISA_SCALAR, t->type, x, a_ref, n);
            infer_prepare_activation(isa, t->type, x, a_opt, n);
            if (memcmp(a_ref, a_opt, act_bytes) != 0) { printf("FAIL %s n=%d: activation bytes differ\n", t->name, n); failures++; }
            double ref = infer_dot(INFER_ISA_SCALAR, t->type, row, a_ref, n);
            double got = infer_dot(isa, t->type, row, a_ref, n);
            if (!(fabs(got - ref) <= 1e-5 * magnitude + 1e-6)) {
                printf("FAIL %s n=%d: %.6f vs scalar %.6f\n", t->name, n, got, ref);
                failures++;
            }
            free(row); free(w); free(x); free(a_ref); free(a_opt);
        }
    }
    return failures;
}

/// Attention of groups of heads over random caches of every storage type (f32, f16, q8_0 rows),
/// against the scalar path: within a few f32 ulps of outputs that are weighted means of values
/// in [-1, 1].
static int check_attention(infer_isa isa) {
    int failures = 0;
    const int head_dims[] = {4, 64, 80, 128}, positions[] = {1, 3, 4, 5, 17, 100};
    const infer_type kv_types[] = {INFER_TYPE_F32, INFER_TYPE_F16, INFER_TYPE_Q8_0};
    for (int kt = 0; kt < 3; kt++) {
    for (int hd = 0; hd < 4; hd++) {
        if (!infer_cache_type_supported(kv_types[kt], head_dims[hd])) continue;
        for (int np = 0; np < 6; np++) {
            int head_dim = head_dims[hd], n_pos = positions[np], heads = 3;
            infer_type type = kv_types[kt];
            size_t row_bytes = 2 * infer_cache_row_bytes(type, head_dim);  // two KV heads per position: the first is read
            float *q = malloc(sizeof(float) * (size_t)(heads * head_dim)), *x = malloc(sizeof(float) * (size_t)head_dim);
            char *k = malloc(row_bytes * (size_t)n_pos), *v = malloc(row_bytes * (size_t)n_pos);
            float *scores = malloc(sizeof(float) * (size_t)(heads * n_pos));
            float *ref = malloc(sizeof(float) * (size_t)(heads * head_dim)), *got = malloc(sizeof(float) * (size_t)(heads * head_dim));
            for (int i = 0; i < heads * head_dim; i++) q[i] = uniform(-1, 1);
            for (int p = 0; p < 2 * n_pos; p++) {
                for (int i = 0; i < head_dim; i++) x[i] = uniform(-1, 1);
                infer_cache_row_store(type, x, k + (size_t)p * row_bytes / 2, head_dim);
                for (int i = 0; i < head_dim; i++) x[i] = uniform(-1, 1);
                infer_cache_row_store(type, x, v + (size_t)p * row_bytes / 2, head_dim);
            }
            float scale = 1.0f / sqrtf((float)head_dim);
            infer_attention_heads_isa(INFER_ISA_SCALAR, q, heads, k, v, type, row_bytes, n_pos, head_dim, scale, 0,
                                      scores, (size_t)n_pos, ref);
            infer_attention_heads_isa(isa, q, heads, k, v, type, row_bytes, n_pos, head_dim, scale, 0, scores,
                                      (size_t)n_pos, got);
            for (int i = 0; i < heads * head_dim; i++) {
                if (!(fabsf(got[i] - ref[i]) <= 1e-5f)) {
                    printf("FAIL attention type=%d head_dim=%d positions=%d [%d]: %.7f vs scalar %.7f\n", (int)type,
                           head_dim, n_pos, i, got[i], ref[i]);
                    failures++;
                    break;
                }
            }
            free(q); free(x); free(k); free(v); free(scores); free(ref); free(got);
        }
    }
    }
    return failures;
}

int main(void) {
    static const char *names[] = {"scalar", "AVX2", "NEON", "AVX-512"};
    int failures = 0;
    for (int isa = INFER_ISA_AVX2; isa <= INFER_ISA_AVX512; isa++) {
        if (!infer_isa_supported((infer_isa)isa)) continue;
        int f = check((infer_isa)isa);
        printf("%s: %s\n", names[isa], f ? "FAILED" : "every type matches the scalar reference");
        int a = check_attention((infer_isa)isa);
        printf("%s: %s\n", names[isa], a ? "FAILED" : "attention matches the scalar path");
        failures += f + a;
    }
    return failures != 0;
}
