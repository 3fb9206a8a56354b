// --job-sizes THREADS [ROUNDS]: what a job boundary costs, apart from everything else a token
// does. One Q4_K matrix of 2048 columns as large as the read probe's buffer, multiplied by one
// activation four ways in turn: as one job, and cut into jobs of 5632 rows (6.5 MB, the size of
// TinyLlama's gate or up), 2048 rows (2.4 MB, its Q or O) and 512 rows (0.6 MB). Each job is one
// infer_matvec call, as in generation: the caller quantizes the activation, posts the job, the
// threads take ranges, the caller waits for the last. Nothing happens between jobs, so the
// difference between the rows is the cost of the jobs' starts and ends alone.
//
// Like --token-products, each round is taken between two read probes and the summary gives the
// median share of the probe in each band of probe bandwidth (this host's moves from minute to
// minute).
#include "bench.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIZES 4

/// GB/s of weights read by the products of `w` cut into jobs of `job_rows` rows.
static double jobs_gbs(infer_pool *pool, const infer_matrix *w, int job_rows, const float *x, float *y, void *scratch) {
    // An interleaved copy (row_bytes 0) keeps its groups of 8 rows one after the other.
    size_t bytes_per_row = w->row_bytes ? w->row_bytes : infer_interleaved_bytes(w->type, 8, w->cols) / 8;
    double t = now();
    for (int first = 0; first < w->rows; first += job_rows) {
        infer_matrix part = *w;
        part.data = (const char *)w->data + (size_t)first * bytes_per_row;
        part.rows = job_rows;
        infer_product product = {&part, x, y};
        infer_matvec(pool, &product, 1, scratch);
    }
    return (double)bytes_per_row * w->rows / (now() - t) / 1e9;
}

int job_sizes(int threads, int rounds) {
    if (rounds < 1) rounds = 1;
    infer_pool *pool = infer_pool_create(threads);
    // Rows: a multiple of every job size (5632 = 11 * 512), about as many bytes as the probe reads.
    int unit = 11 * 2048;
    int rows = (int)(PROBE_BYTES / (file_row_bytes(INFER_TYPE_Q4_K, 2048) * (size_t)unit)) * unit;
    owned_matrix m = make_matrix(INFER_TYPE_Q4_K, rows, 2048);
    const int job_rows[SIZES] = {rows, 5632, 2048, 512};
    float *x = malloc(2048 * sizeof(float)), *y = malloc((size_t)rows * sizeof(float));
    for (int i = 0; i < 2048; i++) x[i] = (float)(next_random() % 2001) * 1e-3f - 1.0f;
    void *scratch = aligned_alloc(64, 64 << 10);  // a 2048-column activation, with room
    char *buffer = infer_huge_pages_alloc(PROBE_BYTES);
    double *probes = malloc((size_t)rounds * sizeof(double)), *shares = malloc((size_t)rounds * SIZES * sizeof(double));
    if (!pool || !x || !y || !scratch || !buffer || !probes || !shares) return 1;
    memset(buffer, 1, PROBE_BYTES);

    printf("Q4_K%s, 2048 columns, %.1f MB; %d threads; jobs of all rows, 5632, 2048, 512 rows\n",
           m.w.row_bytes == 0 ? " (8 rows interleaved)" : "", m.bytes / 1e6, threads);
    for (int r = 0; r < rounds; r++) {
        double before = read_bandwidth(pool, buffer, PROBE_BYTES, 1), gbs[SIZES];
        for (int s = 0; s < SIZES; s++) gbs[s] = jobs_gbs(pool, &m.w, job_rows[s], x, y, scratch);
        double after = read_bandwidth(pool, buffer, PROBE_BYTES, 1);
        probes[r] = 0.5 * (before + after);
        printf("round %3d: probe %5.1f GB/s, jobs of", r, before);
        for (int s = 0; s < SIZES; s++) {
            shares[s * rounds + r] = gbs[s] / probes[r];
            printf(" %d rows %3.0f%%,", job_rows[s], 100 * shares[s * rounds + r]);
        }
        printf(" probe %5.1f GB/s\n", after);
    }
    printf("\nmedian share of the probe, by the probes' mean:\n");
    for (int s = 0; s < SIZES; s++) {
        char label[32];
        snprintf(label, sizeof label, "%6d rows, ", job_rows[s]);
        print_band_medians(label, probes, shares + s * rounds, rounds);
    }
    free(probes); free(shares); free(x); free(y); free(scratch);
    infer_huge_pages_free(buffer, PROBE_BYTES);
    free_matrix(&m);
    infer_pool_destroy(pool);
    return 0;
}
