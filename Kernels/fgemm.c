// The float matrix–matrix kernel; see include/fgemm.h.
//
// Layout of the transposed activations: blocks of 16 tokens one after the other, each
// (k, 16): the 16 tokens' values of one column in one 64-byte line, the columns in order,
// so the kernel reads its block as one sequential stream.
// Blocking: the columns go in chunks of KC; a block's chunk (KC lines, 16 KiB) stays in L1
// while every group of ROWS weight rows of the tile passes by (the tile's chunk stays in L2).
// Sums carry over between chunks in `partial` ((rows, padded n)), and the last chunk
// scatters them to y.
#include "fgemm.h"
#include "kernels.h"
#include <string.h>

#define TOKENS 16
#define ROWS 12
#define KC 256

int infer_fgemm_padded_tokens(int n) { return (n + TOKENS - 1) / TOKENS * TOKENS; }

size_t infer_fgemm_partial_floats(int rows, int n) {
    return (size_t)(rows + ROWS - 1) / ROWS * ROWS * (size_t)infer_fgemm_padded_tokens(n);
}

void infer_fgemm_transpose(const float *x, size_t x_stride, int n, int k, float *xt) {
    int padded = infer_fgemm_padded_tokens(n);
    for (int t0 = 0; t0 < padded; t0 += TOKENS) {
        float *block = xt + (size_t)t0 * k;
        for (int t = t0; t < t0 + TOKENS; t++) {
            const float *row = x + (size_t)t * x_stride;
            if (t < n) {
                for (int i = 0; i < k; i++) block[(size_t)i * TOKENS + t - t0] = row[i];
            } else {
                for (int i = 0; i < k; i++) block[(size_t)i * TOKENS + t - t0] = 0;
            }
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>
#define TARGET_AVX512 __attribute__((target("avx512f")))

/// NR rows (w, w_stride apart) times a block of 16 tokens (xt: its (k, 16) block) over
/// columns [k0, k1): sums start from `partial` (or zero on the first chunk) and go back to
/// it, or to y on the last chunk.
static inline __attribute__((always_inline)) TARGET_AVX512 void
rows_tokens(const float *w, size_t w_stride, int NR, const float *xt, int padded, int k0, int k1,
            int first, int last, float *partial, float *y, size_t y_stride, int tokens) {
    __m512 acc[ROWS];
    for (int r = 0; r < NR; r++) acc[r] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(partial + (size_t)r * padded);
    for (int i = k0; i < k1; i++) {
        __m512 x = _mm512_loadu_ps(xt + (size_t)i * TOKENS);
        for (int r = 0; r < NR; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(w[(size_t)r * w_stride + i]), x, acc[r]);
    }
    if (!last) {
        for (int r = 0; r < NR; r++) _mm512_storeu_ps(partial + (size_t)r * padded, acc[r]);
        return;
    }
    __m512i index = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                       _mm512_set1_epi32((int)y_stride));
    __mmask16 mask = tokens >= TOKENS ? 0xffff : (__mmask16)((1u << tokens) - 1);
    for (int r = 0; r < NR; r++) _mm512_mask_i32scatter_ps(y + r, mask, index, acc[r], 4);
}

TARGET_AVX512 static void fgemm_avx512(const float *w, size_t w_stride, int rows, int k, const float *xt, int n,
                                       float *y, size_t y_stride, float *partial) {
    int padded = infer_fgemm_padded_tokens(n);
    for (int k0 = 0; k0 < k; k0 += KC) {
        int k1 = k0 + KC < k ? k0 + KC : k;
        int first = k0 == 0, last = k1 == k;
        for (int t0 = 0; t0 < n; t0 += TOKENS) {
            const float *block = xt + (size_t)t0 * k;
            int tokens = n - t0;
            for (int r0 = 0; r0 < rows; r0 += ROWS) {
                const float *wr = w + (size_t)r0 * w_stride;
                float *pr = partial + (size_t)r0 * padded + t0;
                float *yt = y + (size_t)t0 * y_stride + r0;
                int nr = rows - r0 < ROWS ? rows - r0 : ROWS;
                switch (nr) {
#define CASE(NR) case NR: rows_tokens(wr, w_stride, NR, block, padded, k0, k1, first, last, pr, yt, y_stride, tokens); break;
                CASE(12) CASE(11) CASE(10) CASE(9) CASE(8) CASE(7) CASE(6) CASE(5) CASE(4) CASE(3) CASE(2) CASE(1)
#undef CASE
                }
            }
        }
    }
}

// The ISA dispatch.c chose when the library loaded (INFER_ISA included).
static int has_avx512(void) { return infer_isa_active() == INFER_ISA_AVX512; }
#endif

int infer_fgemm_supported(void) {
#if defined(__x86_64__)
    return has_avx512();
#else
    return 0;
#endif
}

void infer_fgemm(const float *w, size_t w_stride, int rows, int k, const float *xt, int n,
                 float *y, size_t y_stride, float *partial) {
#if defined(__x86_64__)
    if (has_avx512()) { fgemm_avx512(w, w_stride, rows, k, xt, n, y, y_stride, partial); return; }
#endif
    // Callers check infer_fgemm_supported first; this keeps the function total.
    (void)partial;
    for (int t = 0; t < n; t++) {
        const float *block = xt + (size_t)(t / TOKENS * TOKENS) * k;
        for (int r = 0; r < rows; r++) {
            float s = 0;
            for (int i = 0; i < k; i++) s += w[(size_t)r * w_stride + i] * block[(size_t)i * TOKENS + t % TOKENS];
            y[(size_t)t * y_stride + r] = s;
        }
    }
}
