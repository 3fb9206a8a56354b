// Generation's forward pass with every thread of the pool running the whole token, tensor parallel.
//
// The forward pass of jobs (Model/Transformer.swift) hands the work to the threads ~110 times
// a token: the caller norms and quantizes, posts a job, the workers take its activation and
// rows, the caller waits for their outputs. Each handoff is a few cache lines moving between
// cores, ~160 ns each when the threads sit on different CCDs (Benchmarks/README.md, "Why the
// host has fast minutes"). Here thread t of T runs every step itself for its share: the Q, K
// and V rows of its KV heads, their rotation, cache and attention; the part of O over those
// heads' columns; the rows [t, t + 1) hidden / T of gate and up, gated; the part of down over
// those columns. O and down thus leave one partial sum per thread, which every thread adds to
// its own copy of the residual stream (in thread order: the same values everywhere) after a
// barrier: two barriers a layer. The model keeps O's and down's interleaved copies in T
// column parts for this (WeightMatrix.columnParts); the forward pass of jobs reads the same
// parts and sums them in the same order, so both give the same logits, bit for bit.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  // sched_getaffinity
#endif
#include "kernels.h"
#include "batch.h"
#include <sched.h>
#include <stdatomic.h>
#include "spin.h"

/// Activations a thread may prepare at once (Q, K and V of different forms).
#define ACTIVATIONS 3

static size_t round_up(size_t n) { return (n + 63) & ~(size_t)63; }

/// Matrices a layer has for a thread: Q, K, V, gate, up, then O's and down's parts.
#define LAYER_MATRICES 7

/// Layer L's matrices as thread t reads them (its own parts of O and down).
static void matrices_of(const infer_decoder_layer *L, int t, const infer_matrix *m[LAYER_MATRICES]) {
    const infer_matrix *all[LAYER_MATRICES] = {L->wq, L->wk, L->wv, L->gate, L->up, &L->wo_parts[t], &L->down_parts[t]};
    for (int i = 0; i < LAYER_MATRICES; i++) m[i] = all[i];
}

/// The largest activation scratch any matrix of `d` needs.
static size_t largest_activation(const infer_decoder *d) {
    size_t most = infer_matvec_activation_bytes(d->output);
    for (int l = 0; l < d->layer_count; l++) {
        for (int t = 0; t < d->parts; t++) {
            const infer_matrix *m[LAYER_MATRICES];
            matrices_of(&d->layers[l], t, m);
            for (int i = 0; i < LAYER_MATRICES; i++) {
                size_t bytes = infer_matvec_activation_bytes(m[i]);
                if (bytes > most) most = bytes;
            }
        }
    }
    return most;
}

size_t infer_decode_scratch_bytes(const infer_decoder *d) {
    // x, the normed input, the two partial sums (O's and down's), the activations.
    return 4 * round_up((size_t)d->dim * sizeof(float)) + ACTIVATIONS * largest_activation(d);
}

int infer_decode_supported(const infer_pool *pool, const infer_decoder *d) {
    int threads = infer_pool_threads(pool);
    cpu_set_t allowed;
    int cores = sched_getaffinity(0, sizeof allowed, &allowed) == 0 ? CPU_COUNT(&allowed) : 1;
    // Barriers spin: a thread without a core of its own would hold the others back.
    if (threads < 2 || threads > cores || d->kv_heads % threads != 0) return 0;
    if (d->output->rows % 8 != 0 || d->head_dim % 8 != 0 || d->parts != threads || d->hidden % (8 * threads) != 0) return 0;
    for (int l = 0; l < d->layer_count; l++) {
        for (int t = 0; t < threads; t++) {
            const infer_matrix *m[LAYER_MATRICES];
            matrices_of(&d->layers[l], t, m);
            for (int i = 0; i < LAYER_MATRICES; i++) {
                if (m[i]->rows % 8 != 0) return 0;
            }
        }
    }
    return 1;
}

/// A barrier for the pool's threads: the last to arrive opens the next generation.
typedef struct {
    _Alignas(64) _Atomic int arrived;
    _Atomic unsigned generation;
    int threads;
} barrier;

static void wait_at(barrier *b) {
    unsigned generation = atomic_load_explicit(&b->generation, memory_order_acquire);
    if (atomic_fetch_add_explicit(&b->arrived, 1, memory_order_acq_rel) == b->threads - 1) {
        atomic_store_explicit(&b->arrived, 0, memory_order_relaxed);
        atomic_store_explicit(&b->generation, generation + 1, memory_order_release);
        return;
    }
    // Spin while the others are likely to arrive, then let another thread have the core
    // (one of ours, it may be, that another process kept from its own).
    long long deadline = 0;
    for (int spins = 1; atomic_load_explicit(&b->generation, memory_order_acquire) == generation; spins++) {
        if ((spins & 1023) != 0) {
            cpu_relax();
        } else if (deadline == 0) {
            deadline = now_ns() + SPIN_NANOSECONDS;
        } else if (now_ns() > deadline) {
            sched_yield();
        }
    }
}

typedef struct {
    const infer_decoder *d;
    int pos, threads;
    barrier *barrier;
} decode_job;

/// Thread t's share of `rows` rows: whole groups of 8.
static void share(int rows, int t, int threads, int *begin, int *end) {
    int groups = rows / 8;
    *begin = (int)((long long)groups * t / threads) * 8;
    *end = (int)((long long)groups * (t + 1) / threads) * 8;
}

/// Rows [begin, end) of the products `m` of one input x, each prepared once per activation form.
static void rows_of(const infer_matrix *const *m, float *const *y, int count, const float *x, char *scratch,
                    const int *begin, const int *end) {
    const void *act[ACTIVATIONS];
    size_t slot = 0;
    for (int i = 0; i < count; i++) {
        size_t bytes = infer_matvec_activation_bytes(m[i]);
        int same = -1;  // an earlier product of the same type reads the same preparation
        for (int j = 0; j < i; j++) {
            if (m[j]->type == m[i]->type && m[j]->cols == m[i]->cols) same = j;
        }
        if (same >= 0) {
            act[i] = act[same];
        } else {
            act[i] = infer_matvec_activation(m[i], x, scratch + slot);
            slot += bytes;
        }
    }
    for (int i = 0; i < count; i++) infer_matvec_rows(m[i], act[i], x, y[i], begin[i], end[i]);
}

/// x += the sum of the threads' partial sums `which` (0: O's, 1: down's), added in thread
/// order first, as the forward pass of jobs adds its parts: every thread the same values.
static void add_partials(float *x, const decode_job *job, int which) {
    const infer_decoder *d = job->d;
    size_t vector = round_up((size_t)d->dim * sizeof(float));
    const char *first = (const char *)d->scratch + (size_t)(2 + which) * vector;
    for (int i = 0; i < d->dim; i++) {
        float sum = ((const float *)first)[i];
        for (int t = 1; t < job->threads; t++) sum += ((const float *)(first + (size_t)t * d->scratch_bytes))[i];
        x[i] += sum;
    }
}

/// Every row of column part `w` against x (its columns of the full input), into `y`.
static void part_product(const infer_matrix *w, const float *x, float *y, char *act_scratch) {
    const void *act = infer_matvec_activation(w, x, act_scratch);
    infer_matvec_rows(w, act, x, y, 0, w->rows);
}

static void decode_task(void *context, int begin, int end, int thread) {
    (void)begin;
    (void)end;
    const decode_job *job = context;
    const infer_decoder *d = job->d;
    int T = job->threads, t = thread, hd = d->head_dim;
    size_t vector = round_up((size_t)d->dim * sizeof(float));
    char *scratch = (char *)d->scratch + (size_t)t * d->scratch_bytes;
    float *x = (float *)scratch;  // (dim) this thread's copy of the residual stream
    float *normed = (float *)(scratch + vector);
    float *o_part = (float *)(scratch + 2 * vector), *down_part = (float *)(scratch + 3 * vector);  // (dim)
    char *act_scratch = scratch + 4 * vector;
    int kv_per = d->kv_heads / T, group = d->heads / d->kv_heads;
    int kv0 = t * kv_per, h0 = kv0 * group, heads = kv_per * group;
    for (int i = 0; i < d->dim; i++) x[i] = d->x[i];

    for (int l = 0; l < d->layer_count; l++) {
        const infer_decoder_layer *L = &d->layers[l];
        // Attention: Q, K and V rows of this thread's KV heads, rotated, cached, attended.
        infer_rmsnorm(normed, x, L->attention_norm, d->dim, d->rms_epsilon);
        {
            const infer_matrix *m[3] = {L->wq, L->wk, L->wv};
            float *y[3] = {d->q, d->key, d->value};
            int begin[3] = {h0 * hd, kv0 * hd, kv0 * hd}, end[3] = {(h0 + heads) * hd, (kv0 + kv_per) * hd, (kv0 + kv_per) * hd};
            rows_of(m, y, 3, normed, act_scratch, begin, end);
        }
        for (int h = h0; h < h0 + heads; h++) infer_rope_rotate(d->q + (size_t)h * hd, d->rope_dim, d->rope_cos, d->rope_sin, d->neox);
        size_t head_stride = (size_t)d->capacity * hd;
        for (int j = kv0; j < kv0 + kv_per; j++) {
            infer_rope_rotate(d->key + (size_t)j * hd, d->rope_dim, d->rope_cos, d->rope_sin, d->neox);
            float *k = L->keys + j * head_stride + (size_t)job->pos * hd, *v = L->values + j * head_stride + (size_t)job->pos * hd;
            for (int i = 0; i < hd; i++) { k[i] = d->key[(size_t)j * hd + i]; v[i] = d->value[(size_t)j * hd + i]; }
            infer_attention_heads_isa(infer_isa_active(), d->q + (size_t)j * group * hd, group, L->keys + j * head_stride,
                                      L->values + j * head_stride, (size_t)hd, job->pos + 1, hd, d->attention_scale,
                                      d->scores + (size_t)j * group * d->capacity, (size_t)d->capacity,
                                      d->attention + (size_t)j * group * hd);
        }
        // O: the columns of this thread's heads, against their outputs.
        part_product(&L->wo_parts[t], d->attention + (size_t)h0 * hd, o_part, act_scratch);
        wait_at(job->barrier);  // every thread's part of O
        add_partials(x, job, 0);

        // Feed-forward: this thread's rows of gate and up, gated; down's columns of those rows.
        infer_rmsnorm(normed, x, L->ffn_norm, d->dim, d->rms_epsilon);
        int b = (int)((long long)d->hidden * t / T), e = (int)((long long)d->hidden * (t + 1) / T);  // down's part t
        {
            const infer_matrix *m[2] = {L->gate, L->up};
            float *y[2] = {d->gate, d->up};
            int begin[2] = {b, b}, end[2] = {e, e};
            rows_of(m, y, 2, normed, act_scratch, begin, end);
        }
        infer_swiglu_batch(d->gate + b, d->up + b, (size_t)(e - b));
        part_product(&L->down_parts[t], d->gate + b, down_part, act_scratch);
        wait_at(job->barrier);  // every thread's part of down
        add_partials(x, job, 1);
    }
    infer_rmsnorm(normed, x, d->output_norm, d->dim, d->rms_epsilon);
    int b, e;
    share(d->output->rows, t, T, &b, &e);
    rows_of(&d->output, &d->logits, 1, normed, act_scratch, &b, &e);
    if (t == 0) {
        for (int i = 0; i < d->dim; i++) d->x[i] = normed[i];
    }
}

void infer_decode(infer_pool *pool, const infer_decoder *d, int pos) {
    barrier b = {0, 0, infer_pool_threads(pool)};
    decode_job job = {d, pos, infer_pool_threads(pool), &b};
    infer_pool_gang(pool, decode_task, &job);
}
