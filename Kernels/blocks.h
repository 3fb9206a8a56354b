// Block layouts of the quantized GGUF types, written once (as in ggml-common.h), and the
// layouts infer quantizes activations to before an integer dot product.
//
// A quantized row is a sequence of blocks; every block carries its own scale(s), so a
// row can be decoded and multiplied block by block straight from the mapped file.
// "d" is a scale, "m"/"dmin" an offset, "qs" the low bits of the quants, "qh" high bits.
#ifndef INFER_BLOCKS_H
#define INFER_BLOCKS_H
#include <stddef.h>
#include <stdint.h>

// ---- 32-element blocks -----------------------------------------------------------------
#define QK4_0 32
typedef struct {
    uint16_t d;              // scale, fp16
    uint8_t qs[QK4_0 / 2];   // element j in the low nibble of qs[j], element j+16 in the high
} block_q4_0;                // x = d * (q - 8)
_Static_assert(sizeof(block_q4_0) == 18, "block_q4_0 is 18 bytes");

/// Block i of 8 consecutive q4_0 rows, interleaved for the 8-row kernel (q4_0_x8.c).
typedef struct {
    uint16_t d[8];              // row j's d
    uint8_t qs[4][32];          // [k][4 * row + b]: byte 4k + b of the row's qs
} block_q4_0_x8;
_Static_assert(sizeof(block_q4_0_x8) == 8 * sizeof(block_q4_0), "block_q4_0_x8 is 8 blocks");

#define QK4_1 32
typedef struct {
    uint16_t d;              // scale, fp16
    uint16_t m;              // offset, fp16
    uint8_t qs[QK4_1 / 2];   // nibbles as in q4_0
} block_q4_1;                // x = d * q + m
_Static_assert(sizeof(block_q4_1) == 20, "block_q4_1 is 20 bytes");

#define QK5_0 32
typedef struct {
    uint16_t d;              // scale, fp16
    uint8_t qh[4];           // bit j (little-endian uint32) is the fifth bit of element j
    uint8_t qs[QK5_0 / 2];   // low nibbles as in q4_0
} block_q5_0;                // x = d * (q - 16)
_Static_assert(sizeof(block_q5_0) == 22, "block_q5_0 is 22 bytes");

#define QK5_1 32
typedef struct {
    uint16_t d;              // scale, fp16
    uint16_t m;              // offset, fp16
    uint8_t qh[4];           // fifth bits as in q5_0
    uint8_t qs[QK5_1 / 2];   // low nibbles as in q4_0
} block_q5_1;                // x = d * q + m
_Static_assert(sizeof(block_q5_1) == 24, "block_q5_1 is 24 bytes");

#define QK8_0 32
typedef struct {
    uint16_t d;              // scale, fp16
    int8_t qs[QK8_0];        // quants
} block_q8_0;                // x = d * q
_Static_assert(sizeof(block_q8_0) == 34, "block_q8_0 is 34 bytes");

/// Block i of 8 consecutive q8_0 rows, interleaved for the 8-row kernel (q8_0_x8.c).
typedef struct {
    uint16_t d[8];              // row j's d
    int8_t qs[8][32];           // [k][4 * row + b]: byte 4k + b of the row's qs
} block_q8_0_x8;
_Static_assert(sizeof(block_q8_0_x8) == 8 * sizeof(block_q8_0), "block_q8_0_x8 is 8 blocks");

// ---- K-quants: 256-element super-blocks of 8 or 16 sub-blocks ---------------------------
// Sub-block scales are small integers times the super-block's fp16 scale, so most of the
// arithmetic of a dot product stays in integers.
#define QK_K 256
#define K_SCALE_SIZE 12

typedef struct {
    uint8_t scales[QK_K / 16];  // per 16-element sub-block: scale in the low nibble, min in the high
    uint8_t qs[QK_K / 4];       // 2-bit quants: element 128h + 32j + l is bits 2j of qs[32h + l]
    uint16_t d;                 // fp16 scale of the sub-block scales
    uint16_t dmin;              // fp16 scale of the sub-block mins
} block_q2_K;                   // x = d * scale * q - dmin * min
_Static_assert(sizeof(block_q2_K) == 84, "block_q2_K is 84 bytes");

typedef struct {
    uint8_t hmask[QK_K / 8];    // element 32b + l: bit b of hmask[l] (set: q as is; clear: q - 4)
    uint8_t qs[QK_K / 4];       // low 2 bits, laid out as in q2_K
    uint8_t scales[12];         // 16 six-bit scales, offset by 32 (see quants.c)
    uint16_t d;                 // fp16 super-block scale
} block_q3_K;                   // x = d * (scale - 32) * q
_Static_assert(sizeof(block_q3_K) == 110, "block_q3_K is 110 bytes");

typedef struct {
    uint16_t d;                 // fp16 scale of the sub-block scales
    uint16_t dmin;              // fp16 scale of the sub-block mins
    uint8_t scales[K_SCALE_SIZE];  // 8 six-bit scales and 8 six-bit mins (see quants.c)
    uint8_t qs[QK_K / 2];       // element 64c + 32h + l: nibble h of qs[32c + l]
} block_q4_K;                   // x = d * scale * q - dmin * min, 32-element sub-blocks
_Static_assert(sizeof(block_q4_K) == 144, "block_q4_K is 144 bytes");

/// Block i of 8 consecutive q4_K rows, interleaved for the 8-row kernel (q4_K_x8.c).
typedef struct {
    uint16_t d[8];              // row j's d
    uint16_t dmin[8];
    uint8_t scales[8][8];       // [sub-block][row]: the 6-bit scales, unpacked
    uint8_t mins[4][8][2];      // [t][row][u]: the min of sub-block 2t + u (pairs, for VPDPWSSD)
    uint8_t qs[4][8][32];       // [32-byte chunk c][k][4 * row + b]: byte 4k + b of the row's chunk c
} block_q4_K_x8;
_Static_assert(sizeof(block_q4_K_x8) == 1184, "block_q4_K_x8 is 1184 bytes");

typedef struct {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[K_SCALE_SIZE];  // as in q4_K
    uint8_t qh[QK_K / 8];       // element 32s + l: fifth bit is bit s of qh[l]
    uint8_t qs[QK_K / 2];       // low nibbles as in q4_K
} block_q5_K;
_Static_assert(sizeof(block_q5_K) == 176, "block_q5_K is 176 bytes");

typedef struct {
    uint8_t ql[QK_K / 2];       // low 4 bits: element 128h + 64n + l is nibble n of ql[64h + l]
    uint8_t qh[QK_K / 4];       // high 2 bits: element 128h + 32j + l is bits 2j of qh[32h + l]
    int8_t scales[QK_K / 16];   // per 16-element sub-block
    uint16_t d;                 // fp16 super-block scale
} block_q6_K;                   // x = d * scale * (q - 32)
_Static_assert(sizeof(block_q6_K) == 210, "block_q6_K is 210 bytes");

/// The 6-bit value (0..63) of element e of a q6_K block.
static inline int q6_K_value(const block_q6_K *b, int e) {
    int half = e / 128, within = e % 128;
    int low = (b->ql[64 * half + within % 64] >> (4 * (within / 64))) & 0x0F;
    int high = (b->qh[32 * half + within % 32] >> (2 * (within / 32))) & 3;
    return low | high << 4;
}

/// Block i of 8 consecutive q6_K rows, interleaved for the 8-row kernel (q6_K_x8.c). Each
/// 16-element sub-block of the 8 rows is three 32-byte vectors of 4-byte groups, row j's at
/// [4 * j]: the low 6 bits of vector v's byte b hold element 4v + b of the sub-block whole, and
/// the top 2 bits of the three vectors together hold element 12 + b (its bits 0-1 in vector 0,
/// 2-3 in vector 1, 4-5 in vector 2), so three masks give three elements' values and one merge
/// the fourth's. The head (d, scales) comes first: everything in the order the kernel reads it
/// (a kernel that jumped back within a block streamed at a quarter speed).
typedef struct {
    uint16_t d[8];              // row j's d
    int8_t scales[8][8][2];     // [t][row][u]: the scale of sub-block 2t + u (pairs, for VPDPWSSD)
    uint8_t q[16][3][32];       // [sub-block][v][4 * row + b]
} block_q6_K_x8;
_Static_assert(sizeof(block_q6_K_x8) == 8 * sizeof(block_q6_K), "block_q6_K_x8 is 8 blocks");

/// Room for one block, as in the file, of any type that has an interleaved layout.
typedef union {
    block_q4_0 q4_0;
    block_q4_K q4_K;
    block_q6_K q6_K;
    block_q8_0 q8_0;
} interleaved_file_block;

// ---- activations --------------------------------------------------------------------------
// Generation multiplies each weight matrix by one activation vector. Quantizing that vector
// once per product to int8 lets the kernels multiply integers (maddubs / dot-product
// instructions) instead of widening every weight to f32. These layouts never leave memory,
// so their scales are f32.

/// For the 32-element weight types: n values as int8 in blocks of 32, x = d * q, with
/// sum = d * Σq per block, which folds the weights' offsets (q4_0's -8, q4_1's m, ...) into
/// one multiply per block. Stored as arrays (d[nb] | sum[nb] | qs[n], nb = n / 32, each on
/// a 64-byte boundary) so vector kernels load the scales of several blocks at once and the
/// quants of each block from one aligned 32-byte line.
typedef struct {
    float *d;
    float *sum;
    int8_t *qs;
} q8_32_view;

static inline size_t q8_32_part(int n) { return ((size_t)(n / 32) * sizeof(float) + 63) & ~(size_t)63; }
static inline size_t q8_32_bytes(int n) { return 2 * q8_32_part(n) + (size_t)n; }
static inline q8_32_view q8_32_at(const void *act, int n) {
    char *base = (char *)act;
    return (q8_32_view){(float *)base, (float *)(base + q8_32_part(n)), (int8_t *)(base + 2 * q8_32_part(n))};
}

/// For the K-quants (ggml's Q8_K): one scale per 256 values, and the sum of every 16 quants,
/// which the kernels multiply by the weights' sub-block mins.
typedef struct {
    float d;
    int8_t qs[QK_K];
    int16_t bsums[QK_K / 16];
} block_q8_K;
_Static_assert(sizeof(block_q8_K) == 292, "block_q8_K is 292 bytes");

#endif
