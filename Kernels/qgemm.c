// Integer matrix–matrix products for batched prompts; see include/qgemm.h.
//
// Packed weights, per panel of 16 rows and per block of 32 columns (PANEL_BLOCK_BYTES):
//   u8 values  [k4 = 0..7][row = 0..15][4]   512 bytes: element 4 k4 + j of the block
//   scales     [row = 0..15] float             64 bytes
//   biases     [row = 0..15] float             64 bytes
// so one 64-byte load gives 4 consecutive values of each of the 16 rows: one VNNI step.
#include "qgemm.h"
#include "blocks.h"
#include "kernel_table.h"
#include "x8_scaled_blocks.h"
#include <math.h>
#include <string.h>

#define BLOCK INFER_QGEMM_BLOCK
#define PANEL INFER_QGEMM_PANEL_ROWS
#define PANEL_BLOCK_BYTES (PANEL * BLOCK + 2 * PANEL * sizeof(float))

size_t infer_qgemm_panel_bytes(int rows, int k) {
    size_t panels = (size_t)(rows + PANEL - 1) / PANEL;
    return panels * (size_t)(k / BLOCK) * PANEL_BLOCK_BYTES;
}

static void quantize_block(const float *v, int8_t *out, float *scale, float *sum) {
    float amax = 0;
    for (int j = 0; j < BLOCK; j++) amax = fmaxf(amax, fabsf(v[j]));
    float d = amax / 127, id = d != 0 ? 1 / d : 0;
    int s = 0;
    for (int j = 0; j < BLOCK; j++) {
        out[j] = (int8_t)roundf(v[j] * id);
        s += out[j];
    }
    *scale = d;
    *sum = d * (float)s;
}

#if defined(__x86_64__)
#include <immintrin.h>
#define TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

/// quantize_block with AVX-512: rounding half away from zero as roundf does (a value within an
/// ulp below a half may round up).
TARGET_AVX512 static void quantize_block_avx512(const float *v, int8_t *out, float *scale, float *sum) {
    __m512 a = _mm512_loadu_ps(v), b = _mm512_loadu_ps(v + 16);
    float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(b)));
    float d = amax / 127, id = d != 0 ? 1 / d : 0;
    __m512 scaled[2] = {_mm512_mul_ps(a, _mm512_set1_ps(id)), _mm512_mul_ps(b, _mm512_set1_ps(id))};
    __m512i total = _mm512_setzero_si512();
    for (int h = 0; h < 2; h++) {
        // roundf: truncate |x| + 0.5 (exact for |x| <= 127.5), then restore the sign.
        __m512 x = scaled[h];
        __m512 magnitude = _mm512_roundscale_ps(_mm512_add_ps(_mm512_abs_ps(x), _mm512_set1_ps(0.5f)),
                                                _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __m512i q = _mm512_cvttps_epi32(_mm512_castsi512_ps(_mm512_or_si512(
            _mm512_castps_si512(magnitude), _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000)))));
        _mm_storeu_si128((__m128i *)(out + 16 * h), _mm512_cvtepi32_epi8(q));
        total = _mm512_add_epi32(total, q);
    }
    *scale = d;
    *sum = d * (float)_mm512_reduce_add_epi32(total);
}

// The ISA dispatch.c chose when the library loaded (INFER_ISA included): its AVX-512 level has VNNI.
static int has_vnni(void) { return infer_isa_active() == INFER_ISA_AVX512; }
#endif

void infer_quantize_batch(const float *x, size_t x_stride, int n, int k, int8_t *q, float *scale, float *sum) {
    int blocks = k / BLOCK;
    for (int t = 0; t < n; t++) {
        for (int b = 0; b < blocks; b++) {
            const float *v = x + (size_t)t * x_stride + b * BLOCK;
            int8_t *out = q + (size_t)t * k + b * BLOCK;
            size_t i = (size_t)t * blocks + b;
#if defined(__x86_64__)
            if (has_vnni()) { quantize_block_avx512(v, out, &scale[i], &sum[i]); continue; }
#endif
            quantize_block(v, out, &scale[i], &sum[i]);
        }
    }
}

// ---- packing ------------------------------------------------------------------------------
// Each packer writes one row's block: its 32 values as unsigned bytes at u[(k4 * 16) * 4 + j]
// for element 4 k4 + j (the row's lane is added by the caller), and its scale and bias.

static void pack_q8_0(const void *row, int b, uint8_t *u, float *scale, float *bias) {
    const block_q8_0 *block = (const block_q8_0 *)row + b;
    float d = infer_fp16_to_fp32(block->d);
    for (int k4 = 0; k4 < BLOCK / 4; k4++) {
        uint32_t q;
        memcpy(&q, block->qs + 4 * k4, 4);
        q ^= 0x80808080u;  // int8 q + 128 as uint8, in each byte
        memcpy(u + k4 * PANEL * 4, &q, 4);
    }
    *scale = d;
    *bias = -128 * d;
}

static void put_words(uint8_t *u, const uint8_t values[BLOCK]) {
    for (int k4 = 0; k4 < BLOCK / 4; k4++) memcpy(u + k4 * PANEL * 4, values + 4 * k4, 4);
}

static void pack_q4_0(const void *row, int b, uint8_t *u, float *scale, float *bias) {
    const block_q4_0 *block = (const block_q4_0 *)row + b;
    uint8_t values[BLOCK];
    for (int j = 0; j < 16; j++) {
        values[j] = block->qs[j] & 15;
        values[j + 16] = block->qs[j] >> 4;
    }
    put_words(u, values);
    *scale = infer_fp16_to_fp32(block->d);
    *bias = -8 * *scale;
}

static void pack_q4_K(const void *row, int b, uint8_t *u, float *scale, float *bias) {
    const block_q4_K *block = (const block_q4_K *)row + b / 8;
    int j = b % 8;  // the sub-block
    const uint8_t *s = block->scales;
    int sc = j < 4 ? s[j] & 63 : (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
    int m = j < 4 ? s[j + 4] & 63 : (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    uint8_t values[BLOCK];
    const uint8_t *q = block->qs + 32 * (j / 2);
    for (int l = 0; l < BLOCK; l++) values[l] = j % 2 ? q[l] >> 4 : q[l] & 15;
    put_words(u, values);
    *scale = infer_fp16_to_fp32(block->d) * (float)sc;
    *bias = -infer_fp16_to_fp32(block->dmin) * (float)m;
}

static void pack_q4_1(const void *row, int b, uint8_t *u, float *scale, float *bias) {
    const block_q4_1 *block = (const block_q4_1 *)row + b;
    uint8_t values[BLOCK];
    for (int j = 0; j < 16; j++) {
        values[j] = block->qs[j] & 15;
        values[j + 16] = block->qs[j] >> 4;
    }
    put_words(u, values);
    *scale = infer_fp16_to_fp32(block->d);
    *bias = infer_fp16_to_fp32(block->m);
}

/// The 32 five-bit values of a q5_0 or q5_1 block: low nibbles as in q4_0, fifth bits from qh.
static void five_bit_values(const uint8_t qh[4], const uint8_t qs[16], uint8_t values[BLOCK]) {
    uint32_t high;
    memcpy(&high, qh, 4);
    for (int j = 0; j < 16; j++) {
        values[j] = (uint8_t)((qs[j] & 15) | (((high >> j) & 1) << 4));
        values[j + 16] = (uint8_t)((qs[j] >> 4) | (((high >> (j + 16)) & 1) << 4));
    }
}

static void pack_q5_0(const void *row, int b, uint8_t *u, float *scale, float *bias) {
    const block_q5_0 *block = (const block_q5_0 *)row + b;
    uint8_t values[BLOCK];
    five_bit_values(block->qh, block->qs, values);
    put_words(u, values);
    *scale = infer_fp16_to_fp32(block->d);
    *bias = -16 * *scale;
}

static void pack_q5_1(const void *row, int b, uint8_t *u, float *scale, float *bias) {
    const block_q5_1 *block = (const block_q5_1 *)row + b;
    uint8_t values[BLOCK];
    five_bit_values(block->qh, block->qs, values);
    put_words(u, values);
    *scale = infer_fp16_to_fp32(block->d);
    *bias = infer_fp16_to_fp32(block->m);
}

static void pack_q5_K(const void *row, int b, uint8_t *u, float *scale, float *bias) {
    const block_q5_K *block = (const block_q5_K *)row + b / 8;
    int j = b % 8;  // the sub-block
    uint8_t sc[8], m[8];
    infer_k_scale_min(block->scales, sc, m);
    uint8_t values[BLOCK];
    const uint8_t *q = block->qs + 32 * (j / 2);
    for (int l = 0; l < BLOCK; l++) {
        values[l] = (uint8_t)(((j % 2 ? q[l] >> 4 : q[l]) & 15) | (((block->qh[l] >> j) & 1) << 4));
    }
    put_words(u, values);
    *scale = infer_fp16_to_fp32(block->d) * (float)sc[j];
    *bias = -infer_fp16_to_fp32(block->dmin) * (float)m[j];
}

/// One block of 8 rows of a q8_0 or q4_0 copy interleaved by 8 rows (x8_scaled_blocks.h) into
/// the panel's lanes lane0 ..< lane0 + 8, straight from the copy: its 4-byte groups of 8 rows
/// are already in the panel's order (rebuilding each row's block first would cost a prompt a
/// pass over every block). The values and biases are pack_q8_0's and pack_q4_0's.
static void pack_x8_scaled_group(infer_type type, const void *group, uint8_t *p, int lane0) {
    const uint8_t *x = group;
    for (int k = 0; k < (type == INFER_TYPE_Q8_0_X8 ? 8 : 4); k++) {
        for (int j = 0; j < 8; j++) {
            uint32_t q;
            memcpy(&q, x + x8_group_offset(k, j), 4);
            if (type == INFER_TYPE_Q8_0_X8) {
                q ^= 0x80808080u;  // int8 q + 128 as uint8, in each byte
                memcpy(p + (k * PANEL + lane0 + j) * 4, &q, 4);
            } else {  // elements 4k.. in the low nibbles, 16 + 4k.. in the high ones
                uint32_t low = q & 0x0F0F0F0Fu, high = (q >> 4) & 0x0F0F0F0Fu;
                memcpy(p + (k * PANEL + lane0 + j) * 4, &low, 4);
                memcpy(p + ((k + 4) * PANEL + lane0 + j) * 4, &high, 4);
            }
        }
    }
    float *scales = (float *)(p + PANEL * BLOCK);
    for (int j = 0; j < 8; j++) {
        uint16_t d;
        memcpy(&d, x + x8_scale_offset(j), sizeof d);
        float scale = infer_fp16_to_fp32(d);
        scales[lane0 + j] = scale;
        scales[PANEL + lane0 + j] = (type == INFER_TYPE_Q8_0_X8 ? -128 : -8) * scale;
    }
}

/// One block of 8 rows of a q4_K copy interleaved by 8 rows (q4_K_x8.c) into the panel's lanes
/// lane0 ..< lane0 + 8 of its 8 panel blocks (one per sub-block), straight from the copy: the
/// 4-byte groups of 8 rows are in the panel's order and the scales already unpacked. The
/// values, scales and biases are pack_q4_K's.
static void pack_q4_K_x8_group(const block_q4_K_x8 *x, uint8_t *p, int lane0) {
    for (int s = 0; s < 8; s++, p += PANEL_BLOCK_BYTES) {
        for (int k = 0; k < 8; k++) {
            for (int j = 0; j < 8; j++) {
                uint32_t q;
                memcpy(&q, x->qs[s / 2][k] + 4 * j, 4);  // sub-block 2c in the low nibbles, 2c + 1 high
                q = (s % 2 ? q >> 4 : q) & 0x0F0F0F0Fu;
                memcpy(p + (k * PANEL + lane0 + j) * 4, &q, 4);
            }
        }
        float *scales = (float *)(p + PANEL * BLOCK);
        for (int j = 0; j < 8; j++) {
            scales[lane0 + j] = infer_fp16_to_fp32(x->d[j]) * (float)x->scales[s][j];
            scales[PANEL + lane0 + j] = -infer_fp16_to_fp32(x->dmin[j]) * (float)x->mins[s / 2][j][s % 2];
        }
    }
}

typedef void (*pack_fn)(const void *row, int b, uint8_t *u, float *scale, float *bias);

static pack_fn packer(infer_type type) {
    switch (type) {
    case INFER_TYPE_Q8_0: return pack_q8_0;
    case INFER_TYPE_Q4_0: return pack_q4_0;
    case INFER_TYPE_Q4_K: return pack_q4_K;
    case INFER_TYPE_Q4_1: return pack_q4_1;
    case INFER_TYPE_Q5_0: return pack_q5_0;
    case INFER_TYPE_Q5_1: return pack_q5_1;
    case INFER_TYPE_Q5_K: return pack_q5_K;
    default: return NULL;
    }
}

/// Packs rows [row_begin, row_end) of an interleaved copy (q4_K, q4_0 or q8_0: the types
/// infer_qgemm_supported accepts): each block of 8 rows into one half of a panel, one panel
/// block per 32 columns.
static void pack_interleaved(infer_type type, const void *w, int row_begin, int row_end, int k, uint8_t *out) {
    const interleaved_layout *layout = infer_interleaved(type);
    int blocks = k / BLOCK, per_group = layout->block / BLOCK;  // panel blocks per block of the copy
    size_t group_bytes = layout->bytes(8, layout->block);         // a block of 8 rows in the copy
    for (int r0 = row_begin; r0 < row_end; r0 += PANEL, out += (size_t)blocks * PANEL_BLOCK_BYTES) {
        int halves = row_end - r0 < PANEL ? 1 : 2;
        if (halves < 2) memset(out, 0, (size_t)blocks * PANEL_BLOCK_BYTES);
        for (int h = 0; h < halves; h++) {
            const char *group = (const char *)w + (size_t)(r0 / 8 + h) * (size_t)(blocks / per_group) * group_bytes;
            for (int g = 0; g < blocks / per_group; g++) {
                uint8_t *p = out + (size_t)g * per_group * PANEL_BLOCK_BYTES;
                if (type == INFER_TYPE_Q4_K_X8) pack_q4_K_x8_group((const block_q4_K_x8 *)(group + (size_t)g * group_bytes), p, 8 * h);
                else pack_x8_scaled_group(type, group + (size_t)g * group_bytes, p, 8 * h);
            }
        }
    }
}

void infer_qgemm_pack(infer_type type, const void *w, size_t row_bytes, int row_begin, int row_end,
                      int k, void *panel) {
    if (infer_interleaved(type)) {
        pack_interleaved(type, w, row_begin, row_end, k, panel);
        return;
    }
    pack_fn pack = packer(type);
    int blocks = k / BLOCK;
    uint8_t *out = (uint8_t *)panel;
    for (int r0 = row_begin; r0 < row_end; r0 += PANEL, out += (size_t)blocks * PANEL_BLOCK_BYTES) {
        int rows = row_end - r0 < PANEL ? row_end - r0 : PANEL;
        if (rows < PANEL) memset(out, 0, (size_t)blocks * PANEL_BLOCK_BYTES);
        for (int i = 0; i < rows; i++) {
            const void *row = (const char *)w + (size_t)(r0 + i) * row_bytes;
            for (int b = 0; b < blocks; b++) {
                uint8_t *p = out + (size_t)b * PANEL_BLOCK_BYTES;
                float *scales = (float *)(p + PANEL * BLOCK);
                pack(row, b, p + i * 4, &scales[i], &scales[PANEL + i]);
            }
        }
    }
}

// ---- the products -----------------------------------------------------------------------

/// Stores the panel's first `rows` results of token row `y`.
static void store_rows(float *y, const float *values, int rows) { memcpy(y, values, (size_t)rows * sizeof(float)); }

void infer_qgemm_reference(const void *panel, int rows, const infer_q8_batch *x, float *y, size_t y_stride) {
    int blocks = x->k / BLOCK;
    const uint8_t *p = (const uint8_t *)panel;
    for (int r0 = 0; r0 < rows; r0 += PANEL, p += (size_t)blocks * PANEL_BLOCK_BYTES) {
        for (int t = 0; t < x->n; t++) {
            float acc[PANEL] = {0};
            for (int b = 0; b < blocks; b++) {
                const uint8_t *u = p + (size_t)b * PANEL_BLOCK_BYTES;
                const float *scales = (const float *)(u + PANEL * BLOCK), *biases = scales + PANEL;
                const int8_t *q = x->q + (size_t)t * x->k + b * BLOCK;
                float d = x->scale[(size_t)t * blocks + b], dsum = x->sum[(size_t)t * blocks + b];
                for (int i = 0; i < PANEL; i++) {
                    int32_t dot = 0;
                    for (int j = 0; j < BLOCK; j++) dot += (int32_t)u[((j / 4) * PANEL + i) * 4 + j % 4] * q[j];
                    acc[i] += scales[i] * d * (float)dot + biases[i] * dsum;
                }
            }
            store_rows(y + (size_t)t * y_stride + r0, acc, rows - r0 < PANEL ? rows - r0 : PANEL);
        }
    }
}

#if defined(__x86_64__)

/// NT tokens (t0 ..< t0 + NT) against one panel of 16 rows over every block: NT int32 and
/// NT float accumulators of 16 lanes (one lane per row) stay in registers.
static inline __attribute__((always_inline)) TARGET_AVX512 void
panel_tokens(const uint8_t *p, int blocks, const infer_q8_batch *x, int t0, int NT, float *y,
             size_t y_stride, int rows) {
    __m512 acc[8];
    for (int t = 0; t < NT; t++) acc[t] = _mm512_setzero_ps();
    for (int b = 0; b < blocks; b++, p += PANEL_BLOCK_BYTES) {
        __m512i dot[8];
        for (int t = 0; t < NT; t++) dot[t] = _mm512_setzero_si512();
        for (int k4 = 0; k4 < BLOCK / 4; k4++) {
            __m512i u = _mm512_load_si512((const void *)(p + k4 * PANEL * 4));
            for (int t = 0; t < NT; t++) {
                int32_t q4;
                memcpy(&q4, x->q + (size_t)(t0 + t) * x->k + b * BLOCK + k4 * 4, 4);
                dot[t] = _mm512_dpbusd_epi32(dot[t], u, _mm512_set1_epi32(q4));
            }
        }
        __m512 scales = _mm512_load_ps((const float *)(p + PANEL * BLOCK));
        __m512 biases = _mm512_load_ps((const float *)(p + PANEL * BLOCK) + PANEL);
        for (int t = 0; t < NT; t++) {
            size_t i = (size_t)(t0 + t) * blocks + b;
            __m512 s = _mm512_mul_ps(scales, _mm512_set1_ps(x->scale[i]));
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[t]), s, acc[t]);
            acc[t] = _mm512_fmadd_ps(biases, _mm512_set1_ps(x->sum[i]), acc[t]);
        }
    }
    __mmask16 mask = rows >= PANEL ? 0xffff : (__mmask16)((1u << rows) - 1);
    for (int t = 0; t < NT; t++) _mm512_mask_storeu_ps(y + (size_t)(t0 + t) * y_stride, mask, acc[t]);
}

TARGET_AVX512 static void qgemm_vnni(const void *panel, int rows, const infer_q8_batch *x, float *y, size_t y_stride) {
    int blocks = x->k / BLOCK;
    const uint8_t *p = (const uint8_t *)panel;
    for (int r0 = 0; r0 < rows; r0 += PANEL, p += (size_t)blocks * PANEL_BLOCK_BYTES) {
        int left = rows - r0;
        int t = 0;
        for (; t + 8 <= x->n; t += 8) panel_tokens(p, blocks, x, t, 8, y + r0, y_stride, left);
        switch (x->n - t) {
        case 7: panel_tokens(p, blocks, x, t, 7, y + r0, y_stride, left); break;
        case 6: panel_tokens(p, blocks, x, t, 6, y + r0, y_stride, left); break;
        case 5: panel_tokens(p, blocks, x, t, 5, y + r0, y_stride, left); break;
        case 4: panel_tokens(p, blocks, x, t, 4, y + r0, y_stride, left); break;
        case 3: panel_tokens(p, blocks, x, t, 3, y + r0, y_stride, left); break;
        case 2: panel_tokens(p, blocks, x, t, 2, y + r0, y_stride, left); break;
        case 1: panel_tokens(p, blocks, x, t, 1, y + r0, y_stride, left); break;
        }
    }
}
#endif

int infer_qgemm_supported(infer_type type) {
#if defined(__x86_64__)
    const interleaved_layout *interleaved = infer_interleaved(type);
    return has_vnni() && packer(interleaved ? interleaved->file_type : type) != NULL;
#else
    (void)type;
    return 0;
#endif
}

void infer_qgemm(const void *panel, int rows, const infer_q8_batch *x, float *y, size_t y_stride) {
#if defined(__x86_64__)
    if (has_vnni()) { qgemm_vnni(panel, rows, x, y, y_stride); return; }
#endif
    infer_qgemm_reference(panel, rows, x, y, y_stride);
}
