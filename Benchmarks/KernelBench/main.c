// kernel-bench: how fast each matrix-vector kernel streams weights, next to how fast this
// machine can read memory at all.
//
//   swift run -c release kernel-bench [--quick] [--best] [--cpu-time] [file.gguf ...]
//   swift run -c release kernel-bench --probe-only THREADS [file.gguf ...]
//   swift run -c release kernel-bench --token-products THREADS [ROUNDS] [Q4_0 | Q4_K_M]   (token_products.c)
//   swift run -c release kernel-bench --job-sizes THREADS [ROUNDS]   (job_sizes.c)
//   swift run -c release kernel-bench --round-trip [ROUNDS]   (round_trip.c)
//   swift run -c release kernel-bench --batch-rows THREADS [ROUNDS]   (batch_rows.c)
//
// For every weight type it times infer_matvec (the path generation uses) over a matrix far
// larger than the caches, with 1 thread and with every core, and prints GB/s of weights
// read; "cached" repeats a matrix that fits in L2, which shows the kernel's compute speed.
// The bandwidth probe reads a buffer of the same size (on huge pages, as infer keeps the
// weight copies it makes) with AVX2 loads into several accumulators (the most a plain
// reading loop gets); given files are probed the same way through a read-only mapping, as
// model weights are read.
#include "kernels.h"
#include "bench.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/// --cpu-time: time single-thread runs by the thread's CPU clock, which stops while another
/// process has the core (a busy shared machine), instead of the wall clock.
static int cpu_clock = 0;

double now(void) {
    struct timespec t;
    clock_gettime(cpu_clock ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/// --best reports the fastest run instead of the median: what the code can do when the
/// machine is busy with other work.
static int report_best = 0;

double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, compare_double);
    if (report_best) return v[n - 1];
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
uint64_t next_random(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}

// ---- bandwidth probe ----------------------------------------------------------------------

typedef struct {
    const char *data;
    size_t bytes;
    volatile uint64_t sink;
} probe;

#if defined(__x86_64__)
__attribute__((target("avx2")))
static uint64_t read_range(const char *p, size_t bytes) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 128 <= bytes; i += 128) {
        a0 = _mm256_add_epi64(a0, _mm256_load_si256((const __m256i *)(p + i)));
        a1 = _mm256_add_epi64(a1, _mm256_load_si256((const __m256i *)(p + i + 32)));
        a2 = _mm256_add_epi64(a2, _mm256_load_si256((const __m256i *)(p + i + 64)));
        a3 = _mm256_add_epi64(a3, _mm256_load_si256((const __m256i *)(p + i + 96)));
    }
    __m256i s = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    return (uint64_t)_mm256_extract_epi64(s, 0) + (uint64_t)_mm256_extract_epi64(s, 3);
}
#else
static uint64_t read_range(const char *p, size_t bytes) {
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    const uint64_t *q = (const uint64_t *)p;
    for (size_t i = 0; i + 4 <= bytes / 8; i += 4) { s0 += q[i]; s1 += q[i + 1]; s2 += q[i + 2]; s3 += q[i + 3]; }
    return s0 + s1 + s2 + s3;
}
#endif

/// Index i reads the i-th 1 MiB (4 KiB-aligned) piece.
static void probe_task(void *context, int begin, int end, int thread) {
    (void)thread;
    probe *p = context;
    size_t piece = 1 << 20;
    uint64_t s = 0;
    for (int i = begin; i < end; i++) s += read_range(p->data + (size_t)i * piece, piece);
    p->sink += s;
}

double read_bandwidth(infer_pool *pool, const char *data, size_t bytes, int repeats) {
    probe p = {data, bytes, 0};
    double gbs[16];
    read_range(data, bytes);  // fault the pages in
    for (int r = 0; r < repeats; r++) {
        double t = now();
        infer_pool_run(pool, probe_task, &p, (int)(bytes >> 20), 4);
        gbs[r] = (double)(bytes >> 20 << 20) / (now() - t) / 1e9;
    }
    return median(gbs, repeats);
}

// ---- kernels ----------------------------------------------------------------------------------

typedef struct {
    infer_type type;
    const char *name;
    int block, block_bytes;
    int scales[2];  // byte offsets of fp16 scales in a block, -1 for none
} type_info;

static const type_info types[] = {
    {INFER_TYPE_F32, "F32", 1, 4, {-1, -1}},     {INFER_TYPE_F16, "F16", 1, 2, {-1, -1}},
    {INFER_TYPE_BF16, "BF16", 1, 2, {-1, -1}},   {INFER_TYPE_Q8_0, "Q8_0", 32, 34, {0, -1}},
    {INFER_TYPE_Q4_0, "Q4_0", 32, 18, {0, -1}},  {INFER_TYPE_Q4_1, "Q4_1", 32, 20, {0, 2}},
    {INFER_TYPE_Q5_0, "Q5_0", 32, 22, {0, -1}},  {INFER_TYPE_Q5_1, "Q5_1", 32, 24, {0, 2}},
    {INFER_TYPE_Q2_K, "Q2_K", 256, 84, {80, 82}}, {INFER_TYPE_Q3_K, "Q3_K", 256, 110, {108, -1}},
    {INFER_TYPE_Q4_K, "Q4_K", 256, 144, {0, 2}}, {INFER_TYPE_Q5_K, "Q5_K", 256, 176, {0, 2}},
    {INFER_TYPE_Q6_K, "Q6_K", 256, 210, {208, -1}},
};

/// Random weights of `t`: small floats, or random quants with small fp16 scales.
static void fill(const type_info *t, char *data, size_t bytes) {
    for (size_t i = 0; i + 8 <= bytes; i += 8) { uint64_t r = next_random(); memcpy(data + i, &r, 8); }
    if (t->type == INFER_TYPE_F32) {
        for (size_t i = 0; i + 4 <= bytes; i += 4) { float f = (float)(next_random() % 2001) * 1e-5f - 0.01f; memcpy(data + i, &f, 4); }
    } else if (t->type == INFER_TYPE_F16 || t->type == INFER_TYPE_BF16) {
        for (size_t i = 0; i + 2 <= bytes; i += 2) {
            float f = (float)(next_random() % 2001) * 1e-5f - 0.01f;
            uint16_t h = t->type == INFER_TYPE_F16 ? infer_fp32_to_fp16(f) : (uint16_t)(*(uint32_t *)&f >> 16);
            memcpy(data + i, &h, 2);
        }
    } else {
        uint16_t scale = infer_fp32_to_fp16(0.001f);
        for (size_t b = 0; b + (size_t)t->block_bytes <= bytes; b += (size_t)t->block_bytes) {
            for (int s = 0; s < 2; s++) if (t->scales[s] >= 0) memcpy(data + b + t->scales[s], &scale, 2);
        }
    }
}

void fill_weights(infer_type type, char *data, size_t bytes) {
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        if (types[k].type == type) fill(&types[k], data, bytes);
    }
}

size_t file_row_bytes(infer_type type, int cols) {
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        if (types[k].type == type) return (size_t)(cols / types[k].block) * (size_t)types[k].block_bytes;
    }
    return 0;
}

infer_type interleaved_type_of(infer_type type) {
    switch (type) {
    case INFER_TYPE_Q4_K: return INFER_TYPE_Q4_K_X8;
    case INFER_TYPE_Q4_0: return INFER_TYPE_Q4_0_X8;
    case INFER_TYPE_Q6_K: return INFER_TYPE_Q6_K_X8;
    case INFER_TYPE_Q8_0: return INFER_TYPE_Q8_0_X8;
    default: return INFER_TYPE_F32;
    }
}

owned_matrix make_matrix(infer_type type, int rows, int cols) {
    size_t row_bytes = file_row_bytes(type, cols), bytes = row_bytes * (size_t)rows;
    char *file = malloc(bytes);
    fill_weights(type, file, bytes);
    if (infer_isa_active() != INFER_ISA_AVX512) {
        return (owned_matrix){{type, file, row_bytes, rows, cols, NULL, 0}, bytes};
    }
    infer_type x8_type = interleaved_type_of(type);
    size_t x8_bytes = infer_interleaved_bytes(x8_type, rows, cols);
    char *x8 = infer_huge_pages_alloc(x8_bytes);
    infer_interleave(x8_type, file, row_bytes, rows, cols, x8);
    free(file);
    return (owned_matrix){{x8_type, x8, 0, rows, cols, NULL, 0}, x8_bytes};
}

void free_matrix(owned_matrix *m) {
    if (m->w.row_bytes == 0) infer_huge_pages_free((void *)m->w.data, m->bytes);  // an interleaved copy
    else free((void *)m->w.data);
}

void print_band_medians(const char *label, const double *probes, const double *shares, int rounds) {
    double band_shares[512];
    for (int band = 0; band < 200; band += 10) {
        int n = 0;
        for (int r = 0; r < rounds && n < 512; r++) {
            if (probes[r] >= band && probes[r] < band + 10) band_shares[n++] = shares[r];
        }
        if (n) printf("  %s%3d-%3d GB/s: %3.0f%% (%d rounds)\n", label, band, band + 10, 100 * median(band_shares, n), n);
    }
}

/// GB/s of the `bytes` of weights of w read by `repeats` products, median.
static double product_gbs(infer_pool *pool, infer_matrix w, size_t bytes, int repeats) {
    float *x = malloc((size_t)w.cols * sizeof(float)), *y = malloc((size_t)w.rows * sizeof(float));
    for (int i = 0; i < w.cols; i++) x[i] = (float)(next_random() % 2001) * 1e-3f - 1.0f;
    infer_product product = {&w, x, y};
    void *scratch = aligned_alloc(64, (infer_matvec_scratch_bytes(&product, 1) + 63) / 64 * 64 + 64);
    double gbs[512];
    infer_matvec(pool, &product, 1, scratch);
    for (int r = 0; r < repeats; r++) {
        double t0 = now();
        infer_matvec(pool, &product, 1, scratch);
        gbs[r] = (double)bytes / (now() - t0) / 1e9;
    }
    free(x); free(y); free(scratch);
    return median(gbs, repeats);
}

/// GB/s of weights read by `repeats` products with a cols-wide matrix of `bytes`, median.
static double matvec_gbs(infer_pool *pool, const type_info *t, char *data, size_t bytes, int cols, int repeats) {
    size_t row_bytes = file_row_bytes(t->type, cols);
    int rows = (int)(bytes / row_bytes);
    infer_matrix w = {t->type, data, row_bytes, rows, cols, NULL, 0};
    return product_gbs(pool, w, row_bytes * (size_t)rows, repeats);
}

/// The same for an interleaved copy (`type` INFER_TYPE_*_X8) of `rows` rows.
static double interleaved_gbs(infer_pool *pool, infer_type type, char *x8, int rows, int cols, int repeats) {
    infer_matrix w = {type, x8, 0, rows, cols, NULL, 0};
    return product_gbs(pool, w, infer_interleaved_bytes(type, rows, cols), repeats);
}

/// A read-only mapping of the file at `path` (its size in *bytes), or NULL.
static const char *map_file(const char *path, size_t *bytes) {
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) { fprintf(stderr, "cannot open %s\n", path); if (fd >= 0) close(fd); return NULL; }
    const char *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    *bytes = (size_t)st.st_size;
    return map == MAP_FAILED ? NULL : map;
}

/// GB/s reading a file through a mapping (whole MiB of it), as model weights are read.
static double file_bandwidth(const char *path, infer_pool *pool, int repeats) {
    size_t bytes;
    const char *map = map_file(path, &bytes);
    if (!map) return 0;
    double gbs = read_bandwidth(pool, map, bytes & ~(size_t)((1 << 20) - 1), repeats);
    munmap((void *)map, bytes);
    return gbs;
}

/// --probe-only N: prints the most GB/s that N threads read from the probe's buffer or from
/// the mappings of the given files that are larger than the buffer (a smaller one would be
/// read from the caches), median of 5 each, and nothing else; side-by-side.py takes it as
/// the roofline of each line it measures.
static int probe_only(int threads, size_t big, int argc, char **argv) {
    infer_pool *pool = infer_pool_create(threads);
    char *buffer = infer_huge_pages_alloc(big);
    if (!pool || !buffer) return 1;
    memset(buffer, 1, big);
    double best = read_bandwidth(pool, buffer, big, 5);
    infer_huge_pages_free(buffer, big);
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' || (i > 1 && strcmp(argv[i - 1], "--probe-only") == 0)) continue;
        struct stat st;
        if (stat(argv[i], &st) != 0 || (size_t)st.st_size < big) continue;
        double gbs = file_bandwidth(argv[i], pool, 5);
        if (gbs > best) best = gbs;
    }
    printf("%.2f\n", best);
    infer_pool_destroy(pool);
    return 0;
}

int main(int argc, char **argv) {
    int quick = 0, threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) quick = 1;
        if (strcmp(argv[i], "--best") == 0) report_best = 1;
        if (strcmp(argv[i], "--cpu-time") == 0) cpu_clock = 1;
        if (strcmp(argv[i], "--probe-only") == 0 && i + 1 < argc) return probe_only(atoi(argv[i + 1]), PROBE_BYTES, argc, argv);
        if (strcmp(argv[i], "--job-sizes") == 0 && i + 1 < argc) return job_sizes(atoi(argv[i + 1]), i + 2 < argc ? atoi(argv[i + 2]) : 20);
        if (strcmp(argv[i], "--batch-rows") == 0 && i + 1 < argc) return batch_rows(atoi(argv[i + 1]), i + 2 < argc ? atoi(argv[i + 2]) : 1);
        if (strcmp(argv[i], "--round-trip") == 0) return round_trip(i + 1 < argc ? atoi(argv[i + 1]) : 10);
        if (strcmp(argv[i], "--token-products") == 0 && i + 1 < argc) {
            return token_products(atoi(argv[i + 1]), i + 2 < argc ? atoi(argv[i + 2]) : 20, i + 3 < argc ? argv[i + 3] : "Q4_0");
        }
    }
    infer_pool *one = infer_pool_create(1), *all = infer_pool_create(threads);
    const char *isa_names[] = {"scalar", "AVX2", "NEON", "AVX-512"};
    const char *isa = isa_names[infer_isa_active()];
    size_t big = (quick ? 128u : 512u) << 20, cached = 512u << 10;
    int repeats = quick ? 3 : 7;

    char *buffer = infer_huge_pages_alloc(big);  // as the interleaved weight copies are
    memset(buffer, 1, big);
    printf("kernels: %s; threads: 1 and %d; weights per product: %zu MiB (streamed), %zu KiB (cached)\n\n",
           isa, threads, big >> 20, cached >> 10);
    printf("%-36s %13s %13s\n", "", "1 thread", "all threads");
    if (cpu_clock) { infer_pool_destroy(all); all = one; }  // other threads' time is not on this clock
    printf("read %-31s %8.1f GB/s %8.1f GB/s\n", "(memory bandwidth probe)", read_bandwidth(one, buffer, big, repeats),
           read_bandwidth(all, buffer, big, repeats));
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') continue;
        const char *name = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
        printf("read %-30.30s %8.1f GB/s %8.1f GB/s (%d threads)\n", name, file_bandwidth(argv[i], one, 5),
               file_bandwidth(argv[i], all, 5), threads);
    }
    printf("\n%-8s %-27s %13s %13s %13s\n", "type", "kernel (2048 columns)", "streamed 1T", "streamed all", "cached 1T");
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        const type_info *t = &types[k];
        fill(t, buffer, big);
        double s1 = matvec_gbs(one, t, buffer, big, 2048, repeats);
        double sn = matvec_gbs(all, t, buffer, big, 2048, repeats);
        double c1 = matvec_gbs(one, t, buffer, cached, 2048, repeats * 20);
        printf("%-8s %-27s %8.1f GB/s %8.1f GB/s %8.1f GB/s\n", t->name,
               isa_names[infer_dot_kernel_isa(infer_isa_active(), t->type)], s1, sn, c1);
        infer_type type = interleaved_type_of(t->type);
        if (type != INFER_TYPE_F32 && infer_isa_active() == INFER_ISA_AVX512) {
            // The copy interleaved by 8 rows that infer makes of these matrices on this CPU.
            size_t row_bytes = file_row_bytes(t->type, 2048);
            int rows = (int)(big / row_bytes) / 8 * 8, cached_rows = (int)(cached / row_bytes) / 8 * 8;
            size_t x8_bytes = infer_interleaved_bytes(type, rows, 2048);
            char *x8 = infer_huge_pages_alloc(x8_bytes);  // as infer keeps the copies
            infer_interleave(type, buffer, row_bytes, rows, 2048, x8);
            printf("%-8s %-27s %8.1f GB/s %8.1f GB/s %8.1f GB/s\n", t->name, "AVX-512, 8 rows interleaved",
                   interleaved_gbs(one, type, x8, rows, 2048, repeats), interleaved_gbs(all, type, x8, rows, 2048, repeats),
                   interleaved_gbs(one, type, x8, cached_rows, 2048, repeats * 20));
            infer_huge_pages_free(x8, x8_bytes);
        }
    }
    infer_huge_pages_free(buffer, big);
    if (all != one) infer_pool_destroy(all);
    infer_pool_destroy(one);
    return 0;
}
