// llama2.c version-2 checkpoints: int8 weights with one f32 scale per group of
// `group_size` values, counted over the whole flattened tensor. When the row length is
// not a multiple of the group size a group straddles two rows, so each row is walked in
// segments that end at the next group boundary.
#include "kernels.h"

static float dot_segmented(const int8_t *q, const float *scales, int group_size,
                           size_t first, const float *x, int n) {
    float total = 0;
    int i = 0;
    while (i < n) {
        size_t flat = first + (size_t)i;
        size_t group = flat / (size_t)group_size;
        int segment = group_size - (int)(flat % (size_t)group_size);
        if (segment > n - i) segment = n - i;
        float s = 0;
        for (int j = 0; j < segment; j++) s += (float)q[flat + (size_t)j] * x[i + j];
        total += scales[group] * s;
        i += segment;
    }
    return total;
}

void infer_matvec_q8_grouped(const int8_t *q, const float *scales, int group_size,
                             const float *x, float *y, int row_begin, int row_end, int cols) {
    for (int r = row_begin; r < row_end; r++) {
        y[r] = dot_segmented(q, scales, group_size, (size_t)r * (size_t)cols, x, cols);
    }
}

void infer_dequantize_q8_grouped(const int8_t *q, const float *scales, int group_size,
                                 size_t first, float *out, int n) {
    for (int i = 0; i < n; i++) {
        size_t flat = first + (size_t)i;
        out[i] = (float)q[flat] * scales[flat / (size_t)group_size];
    }
}
