// Block layouts of the quantized GGUF types, written once (as in ggml-common.h).
#ifndef INFER_BLOCKS_H
#define INFER_BLOCKS_H
#include <stdint.h>

#define QK8_0 32
typedef struct {
    uint16_t d;          // scale, fp16
    int8_t qs[QK8_0];    // quants
} block_q8_0;
_Static_assert(sizeof(block_q8_0) == 34, "block_q8_0 is 34 bytes");

#endif
