// Picks the kernels of the best instruction set this CPU supports, once, at load time.
#include "kernels.h"
#include "blocks.h"
#include "kernel_table.h"
#include <stdlib.h>
#include <string.h>

int infer_isa_supported(infer_isa isa) {
    switch (isa) {
    case INFER_ISA_SCALAR: return 1;
    case INFER_ISA_AVX2:
#if defined(__x86_64__)
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
        return 0;
#endif
    case INFER_ISA_AVX512:
#if defined(__x86_64__)
        return infer_isa_supported(INFER_ISA_AVX2) && __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vnni");
#else
        return 0;
#endif
    case INFER_ISA_NEON:
#if defined(__aarch64__)
        return 1;  // every arm64 CPU has Advanced SIMD
#else
        return 0;
#endif
    }
    return 0;
}

static infer_isa active_isa = INFER_ISA_SCALAR;

// Runs when the library loads, before any thread can ask, so no locking is needed.
__attribute__((constructor)) static void choose_isa(void) {
    const char *forced = getenv("INFER_ISA");
    if (forced && strcmp(forced, "scalar") == 0) return;
    if (infer_isa_supported(INFER_ISA_AVX2)) active_isa = INFER_ISA_AVX2;
    if (infer_isa_supported(INFER_ISA_AVX512) && !(forced && strcmp(forced, "avx2") == 0)) active_isa = INFER_ISA_AVX512;
    if (infer_isa_supported(INFER_ISA_NEON)) active_isa = INFER_ISA_NEON;
}

infer_isa infer_isa_active(void) { return active_isa; }

static const kernel_table *table(infer_isa isa) {
    switch (isa) {
#if defined(__x86_64__)
    case INFER_ISA_AVX2: return &infer_kernels_avx2;
    case INFER_ISA_AVX512: return &infer_kernels_avx512;
#endif
#if defined(__aarch64__)
    case INFER_ISA_NEON: return &infer_kernels_neon;
#endif
    default: return &infer_kernels_scalar;
    }
}

size_t infer_activation_bytes(infer_type type, int n) {
    switch (infer_activation_form(type)) {
    case ACT_F32: return (size_t)n * sizeof(float);
    case ACT_F16: return (size_t)n * sizeof(uint16_t);
    case ACT_Q8_32: return q8_32_bytes(n);
    case ACT_Q8_K: return (size_t)(n / QK_K) * sizeof(block_q8_K);
    case ACT_NONE: return 0;
    }
    return 0;
}

/// Where an ISA without its own kernel for something borrows one: AVX-512 from AVX2, the
/// others from the scalar references.
static infer_isa fallback(infer_isa isa) { return isa == INFER_ISA_AVX512 ? INFER_ISA_AVX2 : INFER_ISA_SCALAR; }

static prepare_kernel prepare_kernel_for(infer_isa isa, activation_form form) {
    for (;; isa = fallback(isa)) {
        const kernel_table *t = table(isa);
        prepare_kernel k = form == ACT_F16 ? t->f16 : form == ACT_Q8_32 ? t->q8_32 : t->q8_K;
        if (k || isa == INFER_ISA_SCALAR) return k;
    }
}

void infer_prepare_activation(infer_isa isa, infer_type type, const float *x, void *act, int n) {
    activation_form form = infer_activation_form(type);
    switch (form) {
    case ACT_F32: memcpy(act, x, (size_t)n * sizeof(float)); return;
    case ACT_F16: case ACT_Q8_32: case ACT_Q8_K: prepare_kernel_for(isa, form)(x, act, n); return;
    case ACT_NONE: return;
    }
}

infer_isa infer_dot_kernel_isa(infer_isa isa, infer_type type) {
    if ((unsigned)type >= INFER_TYPE_LIMIT) return INFER_ISA_SCALAR;
    while (isa != INFER_ISA_SCALAR && !table(isa)->dot[type]) isa = fallback(isa);
    return isa;
}

dot_kernel infer_dot_kernel(infer_isa isa, infer_type type) {
    if ((unsigned)type >= INFER_TYPE_LIMIT) return NULL;
    return table(infer_dot_kernel_isa(isa, type))->dot[type];
}

float infer_dot(infer_isa isa, infer_type type, const void *row, const void *act, int n) {
    dot_kernel k = infer_dot_kernel(isa, type);
    return k ? k(row, act, n) : 0.0f;
}

// The 8-row kernels are x86-64's (AVX-512 VNNI): only there are interleaved copies made.
#if defined(__x86_64__)
#define DOT8(kernel) kernel
#else
#define DOT8(kernel) NULL
#endif
#define REBUILT NULL  // no widening of its own: rebuilt block by block
static const interleaved_layout Q4_K_X8 = {INFER_TYPE_Q4_K, QK_K, sizeof(block_q4_K), DOT8(infer_q4_K_x8_dot8), DOT8(infer_q4_K_x8_dot8_batch), infer_q4_K_x8_bytes, infer_q4_K_x8_repack, infer_q4_K_x8_block, REBUILT};
static const interleaved_layout Q4_0_X8 = {INFER_TYPE_Q4_0, QK4_0, sizeof(block_q4_0), DOT8(infer_q4_0_x8_dot8), DOT8(infer_q4_0_x8_dot8_batch), infer_q4_0_x8_bytes, infer_q4_0_x8_repack, infer_q4_0_x8_block, REBUILT};
static const interleaved_layout Q6_K_X8 = {INFER_TYPE_Q6_K, QK_K, sizeof(block_q6_K), DOT8(infer_q6_K_x8_dot8), DOT8(infer_q6_K_x8_dot8_batch), infer_q6_K_x8_bytes, infer_q6_K_x8_repack, infer_q6_K_x8_block, DOT8(infer_q6_K_x8_widen)};
static const interleaved_layout Q8_0_X8 = {INFER_TYPE_Q8_0, QK8_0, sizeof(block_q8_0), DOT8(infer_q8_0_x8_dot8), DOT8(infer_q8_0_x8_dot8_batch), infer_q8_0_x8_bytes, infer_q8_0_x8_repack, infer_q8_0_x8_block, REBUILT};

const interleaved_layout *infer_interleaved(infer_type type) {
    switch (type) {
    case INFER_TYPE_Q4_K_X8: return &Q4_K_X8;
    case INFER_TYPE_Q4_0_X8: return &Q4_0_X8;
    case INFER_TYPE_Q6_K_X8: return &Q6_K_X8;
    case INFER_TYPE_Q8_0_X8: return &Q8_0_X8;
    default: return NULL;
    }
}

size_t infer_interleaved_bytes(infer_type type, int rows, int cols) {
    const interleaved_layout *layout = infer_interleaved(type);
    return layout ? layout->bytes(rows, cols) : 0;
}

void infer_interleave(infer_type type, const void *src, size_t row_bytes, int rows, int cols, void *dst) {
    const interleaved_layout *layout = infer_interleaved(type);
    if (layout) layout->repack(src, row_bytes, rows, cols, dst);
}

void infer_interleaved_block(infer_type type, const void *x8, int cols, int row, int block, void *out) {
    const interleaved_layout *layout = infer_interleaved(type);
    if (layout) layout->block_of(x8, cols, row, block, out);
}
