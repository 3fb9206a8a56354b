// Pieces of batched prompt processing (see include/batch.h), and the feed-forward activations
// and soft-capping both forward passes use (include/decode.h).
#include "batch.h"
#include "decode.h"
#include "blocks.h"
#include "kernel_table.h"
#include <math.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))

TARGET_AVX2 static void widen_f16_avx2(const uint16_t *h, float *out, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
    }
    for (; i < n; i++) out[i] = infer_fp16_to_fp32(h[i]);
}

TARGET_AVX2 static void widen_q8_0_avx2(const block_q8_0 *blocks, float *out, int n) {
    for (int b = 0; b < n / QK8_0; b++) {
        __m256 d = _mm256_set1_ps(_cvtsh_ss(blocks[b].d));
        for (int j = 0; j < QK8_0; j += 8) {
            __m128i q = _mm_loadl_epi64((const __m128i *)(blocks[b].qs + j));
            __m256 v = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q));
            _mm256_storeu_ps(out + b * QK8_0 + j, _mm256_mul_ps(d, v));
        }
    }
}

/// e^x for 8 lanes: x = n ln2 + r with |r| <= ln2/2, e^r by a degree-6 polynomial (Cephes
/// expf's coefficients), 2^n put into the exponent; inputs below -87 give 0.
TARGET_AVX2 static __m256 exp_avx2(__m256 x) {
    x = _mm256_min_ps(x, _mm256_set1_ps(88.0f));
    __m256 underflow = _mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_LT_OQ);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i exponent = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    __m256 result = _mm256_mul_ps(p, _mm256_castsi256_ps(exponent));
    return _mm256_andnot_ps(underflow, result);
}

TARGET_AVX2 static void softmax_avx2(float *x, int n) {
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    int i = 0;
    for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
    float lanes[8], max = -INFINITY;
    _mm256_storeu_ps(lanes, vmax);
    for (int j = 0; j < 8; j++) max = fmaxf(max, lanes[j]);
    for (int j = i; j < n; j++) max = fmaxf(max, x[j]);
    __m256 vsum = _mm256_setzero_ps(), m = _mm256_set1_ps(max);
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 e = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i), m));
        _mm256_storeu_ps(x + i, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    float sum = 0;
    _mm256_storeu_ps(lanes, vsum);
    for (int j = 0; j < 8; j++) sum += lanes[j];
    for (int j = i; j < n; j++) { x[j] = expf(x[j] - max); sum += x[j]; }
    __m256 inv = _mm256_set1_ps(1.0f / sum);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
    for (int j = i; j < n; j++) x[j] *= 1.0f / sum;
}

TARGET_AVX2 static void swiglu_avx2(float *gate, const float *up, size_t n) {
    size_t i = 0;
    __m256 one = _mm256_set1_ps(1.0f);
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i);
        __m256 silu = _mm256_div_ps(g, _mm256_add_ps(one, exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), g))));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
    }
    if (i < n) infer_swiglu(gate + i, up + i, (int)(n - i));
}

/// gate = gelu_tanh(gate) * up, with gelu_tanh(g) = g / (1 + e^(-2u)), u = √(2/π) (g + 0.044715 g³)
/// (0.5 (1 + tanh u) is the logistic function of 2u).
TARGET_AVX2 static void geglu_avx2(float *gate, const float *up, size_t n) {
    size_t i = 0;
    __m256 one = _mm256_set1_ps(1.0f), minus_two_root = _mm256_set1_ps(-2.0f * 0.7978845608028654f);
    __m256 cubic = _mm256_set1_ps(0.044715f);
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i);
        __m256 inner = _mm256_fmadd_ps(_mm256_mul_ps(cubic, g), _mm256_mul_ps(g, g), g);
        __m256 gelu = _mm256_div_ps(g, _mm256_add_ps(one, exp_avx2(_mm256_mul_ps(minus_two_root, inner))));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(gelu, _mm256_loadu_ps(up + i)));
    }
    for (; i < n; i++) {
        float g = gate[i], u = 0.7978845608028654f * (g + 0.044715f * g * g * g);
        gate[i] = g / (1.0f + expf(-2.0f * u)) * up[i];
    }
}

// The ISA dispatch.c chose when the library loaded (INFER_ISA included); its AVX-512 level
// includes AVX2, FMA and F16C.
static int has_avx2(void) { return infer_isa_active() == INFER_ISA_AVX2 || infer_isa_active() == INFER_ISA_AVX512; }
#endif

void infer_dequantize_rows(infer_type type, const void *w, size_t row_bytes, int row_begin,
                           int row_end, int cols, float *out, size_t out_stride) {
    const char *base = (const char *)w;
    const interleaved_layout *interleaved = infer_interleaved(type);
    if (interleaved && interleaved->widen) {
        for (int r = row_begin; r < row_end; r++, out += out_stride) interleaved->widen(w, cols, r, out);
        return;
    }
    if (interleaved) {  // block by block, rebuilt from the interleaved copy
        interleaved_file_block block;
        for (int r = row_begin; r < row_end; r++, out += out_stride) {
            for (int i = 0; i < cols / interleaved->block; i++) {
                interleaved->block_of(w, cols, r, i, &block);
                infer_dequantize_row(interleaved->file_type, &block, out + (size_t)i * interleaved->block, interleaved->block);
            }
        }
        return;
    }
    for (int r = row_begin; r < row_end; r++, out += out_stride) {
        const void *row = base + (size_t)r * row_bytes;
#if defined(__x86_64__)
        if (has_avx2() && type == INFER_TYPE_F16) { widen_f16_avx2(row, out, cols); continue; }
        if (has_avx2() && type == INFER_TYPE_Q8_0) { widen_q8_0_avx2(row, out, cols); continue; }
#endif
        infer_dequantize_row(type, row, out, cols);
    }
}

void infer_rope_angles(int pos, int rot_dim, float theta, float *cos_out, float *sin_out) {
    for (int i = 0; i < rot_dim / 2; i++) {
        float freq = 1.0f / powf(theta, (float)(2 * i) / (float)rot_dim);
        float angle = (float)pos * freq;
        cos_out[i] = cosf(angle);
        sin_out[i] = sinf(angle);
    }
}

void infer_rope_frequencies(int rot_dim, float theta, const float *factors, float scale, float *freqs) {
    for (int i = 0; i < rot_dim / 2; i++) {
        float freq = 1.0f / powf(theta, (float)(2 * i) / (float)rot_dim);
        if (factors) freq /= factors[i];
        freqs[i] = scale == 1.0f ? freq : freq * scale;
    }
}

void infer_rope_angles_of(int pos, int pairs, const float *freqs, float magnitude, float *cos_out, float *sin_out) {
    for (int i = 0; i < pairs; i++) {
        float angle = (float)pos * freqs[i];
        cos_out[i] = magnitude == 1.0f ? cosf(angle) : cosf(angle) * magnitude;
        sin_out[i] = magnitude == 1.0f ? sinf(angle) : sinf(angle) * magnitude;
    }
}

void infer_rope_rotate(float *head, int rot_dim, const float *cos_table, const float *sin_table, int neox) {
    int half = rot_dim / 2;
    for (int i = 0; i < half; i++) {
        int a = neox ? i : 2 * i;
        int b = neox ? i + half : 2 * i + 1;
        float x0 = head[a], x1 = head[b], c = cos_table[i], s = sin_table[i];
        head[a] = x0 * c - x1 * s;
        head[b] = x0 * s + x1 * c;
    }
}

static void softmax(float *x, int n) {
#if defined(__x86_64__)
    if (has_avx2()) { softmax_avx2(x, n); return; }
#endif
    infer_softmax(x, n);
}

void infer_softmax_prefix(float *row, int valid, int n) {
    softmax(row, valid);
    for (int i = valid; i < n; i++) row[i] = 0;
}

void infer_swiglu_batch(float *gate, const float *up, size_t n) {
#if defined(__x86_64__)
    if (has_avx2()) { swiglu_avx2(gate, up, n); return; }
#endif
    for (size_t i = 0; i < n; i += 1 << 20) infer_swiglu(gate + i, up + i, (int)(n - i < (1 << 20) ? n - i : 1 << 20));
}

void infer_gated_activation(infer_activation act, float *gate, const float *up, size_t n) {
    if (act == INFER_ACTIVATION_SILU) {
        infer_swiglu_batch(gate, up, n);
        return;
    }
#if defined(__x86_64__)
    if (has_avx2()) { geglu_avx2(gate, up, n); return; }
#endif
    for (size_t i = 0; i < n; i++) {
        float g = gate[i], u = 0.7978845608028654f * (g + 0.044715f * g * g * g);
        gate[i] = g / (1.0f + expf(-2.0f * u)) * up[i];
    }
}

void infer_soft_cap(float *x, size_t n, float cap) {
    float inverse = 1.0f / cap;
    for (size_t i = 0; i < n; i++) x[i] = cap * tanhf(x[i] * inverse);
}
