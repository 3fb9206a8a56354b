// What kernel-bench's parts share (main.c).
#ifndef KERNEL_BENCH_H
#define KERNEL_BENCH_H
#include "kernels.h"
#include <stddef.h>
#include <stdint.h>

/// Seconds, by the wall clock (or the thread's CPU clock with --cpu-time).
double now(void);
/// Median of v[0..n) (sorts v), or the largest with --best.
double median(double *v, int n);
uint64_t next_random(void);
/// Random weights of `type` (a GGUF type): small floats, or random quants with small scales.
void fill_weights(infer_type type, char *data, size_t bytes);
/// Bytes of a row of `cols` elements of `type` (one of kernel-bench's types), as in the file.
size_t file_row_bytes(infer_type type, int cols);
/// The copy interleaved by 8 rows that infer makes of `type` on AVX-512 VNNI CPUs
/// (INFER_TYPE_*_X8), or INFER_TYPE_F32 for a type read in place.
infer_type interleaved_type_of(infer_type type);
/// A matrix of random weights and the memory that holds them.
typedef struct {
    infer_matrix w;
    size_t bytes;  // of w.data
} owned_matrix;
/// A matrix of random quants with small scales (Q4_0, Q4_K or Q6_K) as infer keeps one on
/// this CPU: rows interleaved by 8 on huge pages with AVX-512 VNNI, rows in place elsewhere.
owned_matrix make_matrix(infer_type type, int rows, int cols);
void free_matrix(owned_matrix *m);
/// Prints, for each 10 GB/s band of probes[r], the median of shares[r] (as a percentage)
/// over the rounds whose probe falls in it, each line after `label`.
void print_band_medians(const char *label, const double *probes, const double *shares, int rounds);
/// GB/s that the pool's threads read from `bytes` at `data` (whole MiB), median of `repeats`.
double read_bandwidth(infer_pool *pool, const char *data, size_t bytes, int repeats);
/// The read probe's buffer: far larger than the caches (--probe-only, --token-products, --round-trip).
#define PROBE_BYTES ((size_t)512 << 20)

/// --token-products THREADS ROUNDS MIX (token_products.c; MIX: "Q4_0" or "Q4_K_M").
int token_products(int threads, int rounds, const char *mix);
/// --job-sizes THREADS ROUNDS (job_sizes.c).
int job_sizes(int threads, int rounds);
/// --batch-rows THREADS ROUNDS (batch_rows.c).
int batch_rows(int threads, int rounds);
/// --round-trip ROUNDS (round_trip.c).
int round_trip(int rounds);
#endif
