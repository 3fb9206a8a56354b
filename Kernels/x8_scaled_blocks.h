// The interleaved layout of the 32-element types whose block is one fp16 scale and its quants
// (q4_0: 16 bytes of nibbles, q8_0: 32 bytes; block_q4_0_x8, block_q8_0_x8): a block of 8
// rows holds their 8 scales, then their quants in 4-byte groups, group k of row j at
// [k][4 * j], so one VPDPBUSD against 4 broadcast activation bytes gives 8 rows' sums.
// Inline, for q4_0_x8.c and q8_0_x8.c to compile with their constant `qs_bytes`: the batched
// path rebuilds every block of the copy it packs, and with the length known only at run time
// that rebuild is a loop of unknown length per group instead of a few fixed loads.
#ifndef INFER_X8_SCALED_BLOCKS_H
#define INFER_X8_SCALED_BLOCKS_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SCALE_BYTES 2  // the fp16 d at the head of a block

static inline size_t file_block_bytes(int qs_bytes) { return SCALE_BYTES + (size_t)qs_bytes; }
static inline size_t x8_block_bytes(int qs_bytes) { return 8 * file_block_bytes(qs_bytes); }

/// Where row j's scale, and its 4-byte group k of quants, lie in a block of 8 rows of the copy.
static inline size_t x8_scale_offset(int j) { return SCALE_BYTES * (size_t)j; }
static inline size_t x8_group_offset(int k, int j) { return 8 * SCALE_BYTES + 32 * (size_t)k + 4 * (size_t)j; }

static inline size_t x8_scaled_bytes(int rows, int cols, int qs_bytes) {
    return (size_t)(rows / 8) * (size_t)(cols / 32) * x8_block_bytes(qs_bytes);
}

static inline void x8_scaled_repack(const void *src, size_t row_bytes, int rows, int cols, int qs_bytes, void *dst) {
    int nb = cols / 32;
    uint8_t *out = dst;
    for (int g = 0; g < rows / 8; g++) {
        for (int i = 0; i < nb; i++, out += x8_block_bytes(qs_bytes)) {
            for (int j = 0; j < 8; j++) {
                const uint8_t *b = (const uint8_t *)src + (size_t)(8 * g + j) * row_bytes + (size_t)i * file_block_bytes(qs_bytes);
                memcpy(out + x8_scale_offset(j), b, SCALE_BYTES);
                for (int k = 0; k < qs_bytes / 4; k++) memcpy(out + x8_group_offset(k, j), b + SCALE_BYTES + 4 * k, 4);
            }
        }
    }
}

static inline void x8_scaled_block(const void *x8, int cols, int row, int block, int qs_bytes, void *out) {
    const uint8_t *x = (const uint8_t *)x8 + ((size_t)(row / 8) * (size_t)(cols / 32) + (size_t)block) * x8_block_bytes(qs_bytes);
    int j = row % 8;
    uint8_t *b = out;
    memcpy(b, x + x8_scale_offset(j), SCALE_BYTES);
    for (int k = 0; k < qs_bytes / 4; k++) memcpy(b + SCALE_BYTES + 4 * k, x + x8_group_offset(k, j), 4);
}

#endif
