// --batch-rows THREADS [ROUNDS]: the products of batched decoding, one weight matrix times the
// inputs of several sequences (infer_matvec_rows_batch: the interleaved copies' 8-row kernels over
// 2-4 inputs at a time, other types row by row with each row reused from the cache), per weight
// type and number of inputs:
// - "cached": a matrix that fits in L2, on one thread: how fast the kernel chews through weights
//   with that many inputs (its compute speed; it must stay above what a thread streams from memory
//   for the batch to cost no more than one input);
// - "memory": a matrix far larger than the caches, on THREADS threads: weight GB/s of a whole
//   product, and that times the inputs (the tokens' worth of products per second, as GB/s);
// - for types without an interleaved copy, the prompt path's integer kernel (infer_qgemm: the
//   inputs quantized, each 16-row panel packed, then multiplied) over the same matrix, which a
//   batched step could take instead.
#include "bench.h"
#include "qgemm.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUTS 8
static const int input_counts[] = {1, 2, 3, 4, 6, 8};

typedef struct {
    const infer_matrix *w;
    const void *acts[MAX_INPUTS];
    const float *x[MAX_INPUTS];
    float *y[MAX_INPUTS];
    int count;
} rows_job;

static void rows_task(void *context, int begin, int end, int thread) {
    (void)thread;
    const rows_job *job = context;
    infer_matvec_rows_batch(job->w, job->acts, job->x, job->y, job->count, begin * 8, end * 8);
}

/// Seconds of one product of `w` with `count` inputs on `pool` (the rows in groups of 8).
static double product_seconds(infer_pool *pool, const infer_matrix *w, float *const *x, float *const *y, void *scratch,
                              int count, int repeats) {
    rows_job job = {.w = w, .count = count};
    size_t act_bytes = infer_matvec_activation_bytes(w);
    for (int v = 0; v < count; v++) {
        job.x[v] = x[v];
        job.y[v] = y[v];
        job.acts[v] = infer_matvec_activation(w, x[v], (char *)scratch + (size_t)v * act_bytes);
    }
    double times[64];
    for (int r = 0; r < repeats; r++) {
        double t = now();
        infer_pool_run(pool, rows_task, &job, w->rows / 8, 64);
        times[r] = 1 / (now() - t);  // products a second (--best: the most)
    }
    return 1 / median(times, repeats);
}

typedef struct {
    const infer_matrix *w;
    const infer_q8_batch *x;
    float *y;
    size_t y_stride;
    char *panels;
    size_t panel_bytes;
} qgemm_job;

static void qgemm_task(void *context, int begin, int end, int thread) {
    const qgemm_job *job = context;
    char *panel = job->panels + (size_t)thread * job->panel_bytes;
    for (int p = begin; p < end; p++) {
        int r0 = 16 * p, r1 = r0 + 16 < job->w->rows ? r0 + 16 : job->w->rows;
        infer_qgemm_pack(job->w->type, job->w->data, job->w->row_bytes, r0, r1, job->w->cols, panel);
        infer_qgemm(panel, r1 - r0, job->x, job->y + r0, job->y_stride);
    }
}

/// Seconds of the same product through infer_qgemm (activations quantized once, panels packed
/// as the prompt path packs them).
static double qgemm_seconds(infer_pool *pool, const infer_matrix *w, const float *x, float *y, int count, int repeats) {
    int k = w->cols, blocks = k / INFER_QGEMM_BLOCK, threads = infer_pool_threads(pool);
    int8_t *q = aligned_alloc(64, ((size_t)count * k + 63) / 64 * 64);
    float *scale = malloc((size_t)count * blocks * sizeof(float)), *sum = malloc((size_t)count * blocks * sizeof(float));
    size_t panel_bytes = (infer_qgemm_panel_bytes(16, k) + 63) / 64 * 64;
    char *panels = aligned_alloc(64, panel_bytes * (size_t)threads);
    infer_q8_batch batch = {q, scale, sum, count, k};
    qgemm_job job = {w, &batch, y, (size_t)w->rows, panels, panel_bytes};
    double times[64];
    for (int r = 0; r < repeats; r++) {
        double t = now();
        infer_quantize_batch(x, (size_t)k, count, k, q, scale, sum);
        infer_pool_run(pool, qgemm_task, &job, (w->rows + 15) / 16, 8);
        times[r] = 1 / (now() - t);
    }
    free(q);
    free(scale);
    free(sum);
    free(panels);
    return 1 / median(times, repeats);
}

int batch_rows(int threads, int rounds) {
    if (rounds < 1) rounds = 1;
    static const infer_type kinds[] = {INFER_TYPE_Q4_0, INFER_TYPE_Q4_K, INFER_TYPE_Q6_K, INFER_TYPE_Q8_0,
                                       INFER_TYPE_Q5_K, INFER_TYPE_Q4_1, INFER_TYPE_F16};
    static const char *names[] = {"Q4_0", "Q4_K", "Q6_K", "Q8_0", "Q5_K", "Q4_1", "F16"};
    infer_pool *one = infer_pool_create(1), *all = infer_pool_create(threads);
    const int cols = 2048;
    float *x[MAX_INPUTS], *y[MAX_INPUTS];
    size_t most_rows = 1 << 17;
    for (int v = 0; v < MAX_INPUTS; v++) {
        x[v] = malloc(cols * sizeof(float));
        y[v] = malloc(most_rows * sizeof(float));
        for (int i = 0; i < cols; i++) x[v][i] = (float)(next_random() % 2001) * 1e-3f - 1.0f;
    }
    float *x_rows = malloc((size_t)MAX_INPUTS * cols * sizeof(float));  // the inputs one after the other, for qgemm
    for (int v = 0; v < MAX_INPUTS; v++) memcpy(x_rows + (size_t)v * cols, x[v], cols * sizeof(float));
    float *y_rows = malloc((size_t)MAX_INPUTS * most_rows * sizeof(float));
    void *scratch = aligned_alloc(64, (size_t)MAX_INPUTS * 64 * 1024);
    printf("weight GB/s of one product of a (rows, %d) matrix with n inputs; x n: the products' worth, as GB/s\n", cols);
    printf("%-5s %-10s", "type", "path");
    for (size_t c = 0; c < sizeof input_counts / sizeof *input_counts; c++) printf("   n=%d        ", input_counts[c]);
    printf("\n");
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        infer_type type = kinds[k];
        int interleaves = interleaved_type_of(type) != INFER_TYPE_F32 && infer_isa_active() == INFER_ISA_AVX512;
        size_t row_bytes = file_row_bytes(type, cols);
        int cached_rows = (int)((256 << 10) / row_bytes) / 8 * 8;
        int big_rows = (int)(((size_t)256 << 20) / row_bytes) / 8 * 8;
        if ((size_t)big_rows > most_rows) big_rows = (int)most_rows;
        for (int big = 0; big < 2; big++) {
            int rows = big ? big_rows : cached_rows;
            owned_matrix m;
            if (interleaves) {
                m = make_matrix(type, rows, cols);
            } else {
                char *data = malloc(row_bytes * (size_t)rows);
                fill_weights(type, data, row_bytes * (size_t)rows);
                m = (owned_matrix){{type, data, row_bytes, rows, cols, NULL, 0}, row_bytes * (size_t)rows};
            }
            double bytes = (double)m.bytes;
            printf("%-5s %-10s", names[k], big ? "memory" : "cached");
            for (size_t c = 0; c < sizeof input_counts / sizeof *input_counts; c++) {
                int n = input_counts[c];
                double s = product_seconds(big ? all : one, &m.w, x, y, scratch, n, big ? 3 * rounds : 20 * rounds);
                printf(" %5.1f x%d %5.1f", bytes / s / 1e9, n, n * bytes / s / 1e9);
            }
            printf("\n");
            if (big && !interleaves && infer_qgemm_supported(type)) {
                printf("%-5s %-10s", names[k], "qgemm");
                for (size_t c = 0; c < sizeof input_counts / sizeof *input_counts; c++) {
                    int n = input_counts[c];
                    double s = qgemm_seconds(all, &m.w, x_rows, y_rows, n, 3 * rounds);
                    printf(" %5.1f x%d %5.1f", bytes / s / 1e9, n, n * bytes / s / 1e9);
                }
                printf("\n");
            }
            free_matrix(&m);
        }
    }
    infer_pool_destroy(one);
    infer_pool_destroy(all);
    return 0;
}
