// Matrix-vector products of generation: prepare each activation once, then let the pool's
// threads take ranges of rows over all the products of one call.
#include "kernels.h"
#include "blocks.h"
#include "kernel_table.h"
#include <stdint.h>
#include <stdlib.h>

/// The least weight bytes a thread takes at a time (see infer_matvec).
#define MIN_RANGE_BYTES ((size_t)128 << 10)

/// Activations are laid out in scratch on 64-byte boundaries (one cache line each).
static size_t round_up(size_t n) { return (n + 63) & ~(size_t)63; }

typedef struct {
    const infer_product *products;
    int count;
    int first_row[INFER_MATVEC_MAX_PRODUCTS + 1];  // products' rows laid end to end
    const void *act[INFER_MATVEC_MAX_PRODUCTS];
    dot_kernel kernel[INFER_MATVEC_MAX_PRODUCTS];
    const interleaved_layout *layout[INFER_MATVEC_MAX_PRODUCTS];  // interleaved matrices only
} matvec_job;

/// The activation a product shares with an earlier one in the call, if any: index or -1.
static int shared_with(const infer_product *products, int p) {
    activation_form form = infer_activation_form(products[p].w->type);
    for (int q = 0; q < p; q++) {
        if (products[q].x == products[p].x && infer_activation_form(products[q].w->type) == form) return q;
    }
    return -1;
}

/// Whether product p needs scratch of its own (f32 activations are read in place).
static size_t own_scratch(const infer_product *products, int p) {
    const infer_matrix *w = products[p].w;
    if (w->type == INFER_TYPE_Q8_GROUPED || infer_activation_form(w->type) == ACT_F32) return 0;
    if (shared_with(products, p) >= 0) return 0;
    return round_up(infer_activation_bytes(w->type, w->cols));
}

size_t infer_matvec_scratch_bytes(const infer_product *products, int count) {
    size_t total = 0;
    for (int p = 0; p < count; p++) total += own_scratch(products, p);
    return total;
}

/// Indices [begin, end) of y = W x (rows, or groups of 8 rows of an interleaved matrix), with
/// x prepared as `act` for `kernel` or `layout`.
static void product_indices(const infer_matrix *w, const interleaved_layout *layout, dot_kernel kernel,
                            const void *act, const float *x, float *y, int begin, int end) {
    if (w->type == INFER_TYPE_Q8_GROUPED) {
        infer_matvec_q8_grouped(w->data, w->group_scales, w->group_size, x, y, begin, end, w->cols);
    } else if (layout) {
        size_t group_bytes = layout->bytes(8, w->cols);
        for (int g = begin; g < end; g++) layout->dot8((const char *)w->data + (size_t)g * group_bytes, act, w->cols, y + 8 * g);
    } else {
        const char *row = (const char *)w->data + (size_t)begin * w->row_bytes;
        for (int r = begin; r < end; r++, row += w->row_bytes) y[r] = kernel(row, act, w->cols);
    }
}

static void rows_task(void *context, int begin, int end, int thread) {
    (void)thread;
    const matvec_job *job = context;
    int p = 0;
    while (job->first_row[p + 1] <= begin) p++;
    while (begin < end) {
        const infer_product *product = &job->products[p];
        int base = job->first_row[p];
        int stop = end < job->first_row[p + 1] ? end : job->first_row[p + 1];
        product_indices(product->w, job->layout[p], job->kernel[p], job->act[p], product->x, product->y, begin - base,
                        stop - base);
        begin = stop;
        p++;
    }
}

size_t infer_matvec_activation_bytes(const infer_matrix *w) {
    if (w->type == INFER_TYPE_Q8_GROUPED || infer_activation_form(w->type) == ACT_F32) return 0;
    return round_up(infer_activation_bytes(w->type, w->cols));
}

const void *infer_matvec_activation(const infer_matrix *w, const float *x, void *scratch) {
    if (w->type == INFER_TYPE_Q8_GROUPED || infer_activation_form(w->type) == ACT_F32) return x;
    infer_prepare_activation(infer_isa_active(), w->type, x, scratch, w->cols);
    return scratch;
}

void infer_matvec_rows(const infer_matrix *w, const void *act, const float *x, float *y, int row_begin, int row_end) {
    const interleaved_layout *layout = infer_interleaved(w->type);
    dot_kernel kernel = layout || w->type == INFER_TYPE_Q8_GROUPED ? NULL : infer_dot_kernel(infer_isa_active(), w->type);
    int per_index = layout ? 8 : 1;
    product_indices(w, layout, kernel, act, x, y, row_begin / per_index, row_end / per_index);
}

void infer_matvec_rows_batch(const infer_matrix *w, const void *const *acts, const float *const *x, float *const *y,
                             int count, int row_begin, int row_end) {
    const interleaved_layout *layout = infer_interleaved(w->type);
    if (count == 1 || (layout && !layout->dot8_batch)) {
        for (int v = 0; v < count; v++) infer_matvec_rows(w, acts[v], x[v], y[v], row_begin, row_end);
        return;
    }
    if (layout) {
        size_t group_bytes = layout->bytes(8, w->cols);
        for (int g = row_begin / 8; g < row_end / 8; g++) {
            layout->dot8_batch((const char *)w->data + (size_t)g * group_bytes, acts, count, w->cols, y, (size_t)g * 8);
        }
    } else if (w->type == INFER_TYPE_Q8_GROUPED) {
        for (int v = 0; v < count; v++) infer_matvec_q8_grouped(w->data, w->group_scales, w->group_size, x[v], y[v], row_begin, row_end, w->cols);
    } else {
        // Row by row, each row multiplied by every activation while it is in the cache: the
        // weights are read from memory once, and each product is the one-vector kernel's.
        dot_kernel kernel = infer_dot_kernel(infer_isa_active(), w->type);
        const char *row = (const char *)w->data + (size_t)row_begin * w->row_bytes;
        for (int r = row_begin; r < row_end; r++, row += w->row_bytes) {
            for (int v = 0; v < count; v++) y[v][r] = kernel(row, acts[v], w->cols);
        }
    }
}

void infer_matvec(infer_pool *pool, const infer_product *products, int count, void *scratch) {
    if (count <= 0 || count > INFER_MATVEC_MAX_PRODUCTS) return;
    infer_isa isa = infer_isa_active();
    matvec_job job = {.products = products, .count = count};
    char *free_scratch = scratch;
    size_t smallest_row = SIZE_MAX;
    for (int p = 0; p < count; p++) {
        const infer_matrix *w = products[p].w;
        const interleaved_layout *layout = job.layout[p] = infer_interleaved(w->type);
        // The job's indices: rows, or groups of 8 rows of an interleaved matrix (whose
        // activation is the file type's).
        job.first_row[p + 1] = job.first_row[p] + (layout ? w->rows / 8 : w->rows);
        size_t index_bytes = layout ? layout->bytes(8, w->cols)
                           : w->type == INFER_TYPE_Q8_GROUPED ? (size_t)w->cols : w->row_bytes;
        if (index_bytes < smallest_row) smallest_row = index_bytes;
        if (w->type == INFER_TYPE_Q8_GROUPED) continue;
        job.kernel[p] = infer_dot_kernel(isa, w->type);
        int earlier = shared_with(products, p);
        if (infer_activation_form(w->type) == ACT_F32) {
            job.act[p] = products[p].x;
        } else if (earlier >= 0) {
            job.act[p] = job.act[earlier];
        } else {
            infer_prepare_activation(isa, w->type, products[p].x, free_scratch, w->cols);
            job.act[p] = free_scratch;
            free_scratch += own_scratch(products, p);
        }
    }
    // Ranges of at least ~128 KB of weights: each range a thread takes starts a new stream
    // that the hardware prefetcher must pick up again, so small ranges make generation slower
    // (Benchmarks/README.md, "Design decisions and their measurements").
    if (smallest_row == 0) smallest_row = 1;
    int grain = (int)((MIN_RANGE_BYTES + smallest_row - 1) / smallest_row);
    infer_pool_run(pool, rows_task, &job, job.first_row[count], grain);
}

void infer_matvec_reference(const infer_matrix *w, const float *x, float *y, int row_begin, int row_end) {
    const interleaved_layout *layout = infer_interleaved(w->type);
    if (layout) {  // the file type's scalar kernel on the rebuilt rows
        int nb = w->cols / layout->block;
        size_t block_bytes = layout->block_bytes;
        char *row = malloc((size_t)nb * block_bytes);
        void *act = malloc(infer_activation_bytes(layout->file_type, w->cols));
        if (row && act) {
            infer_prepare_activation(INFER_ISA_SCALAR, layout->file_type, x, act, w->cols);
            for (int r = row_begin; r < row_end; r++) {
                for (int i = 0; i < nb; i++) layout->block_of(w->data, w->cols, r, i, row + (size_t)i * block_bytes);
                y[r] = infer_dot(INFER_ISA_SCALAR, layout->file_type, row, act, w->cols);
            }
        }
        free(row);
        free(act);
        return;
    }
    if (w->type == INFER_TYPE_Q8_GROUPED) {
        infer_matvec_q8_grouped(w->data, w->group_scales, w->group_size, x, y, row_begin, row_end, w->cols);
        return;
    }
    // Prepared with the scalar quantizer into a buffer on the heap: rows can be long.
    size_t bytes = infer_activation_bytes(w->type, w->cols);
    void *act = bytes ? malloc(bytes) : NULL;
    if (!act) return;
    infer_prepare_activation(INFER_ISA_SCALAR, w->type, x, act, w->cols);
    const char *row = (const char *)w->data + (size_t)row_begin * w->row_bytes;
    for (int r = row_begin; r < row_end; r++, row += w->row_bytes) {
        y[r] = infer_dot(INFER_ISA_SCALAR, w->type, row, act, w->cols);
    }
    free(act);
}
