// Generation's forward pass of one token with every thread of the pool running all of it.
//
// Handing a token's work to the threads as separate jobs (a matrix product, then attention,
// then the next product) costs a round trip between cores per job; here thread t of T runs
// every step itself for its share and waits only where it needs another thread's results, at
// a barrier: Q's rows and the attention of its heads; the K and V rows of its KV heads; the
// rows [t, t + 1) hidden / T of gate and up, activated. O and down are kept by the model in
// column parts (Sources/InferKit/Tensors/WeightMatrix.swift, columnParts); where there is one
// part a thread over the columns that thread computed, the thread multiplies its own part right
// away, and every thread then adds the parts' sum to its own copy of the residual stream after a
// barrier: two barriers a layer. Where the parts do not line up with the threads (one thread,
// KV heads that do not share evenly, a matrix that does not split into whole blocks), the
// threads wait for all inputs and share each part's rows instead; the sums are the same, in the
// same order, so the logits do not depend on which way ran.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "decode.h"
#include "batch.h"
#include <math.h>
#include <stdatomic.h>
#include <sched.h>
#include "spin.h"

/// Activations a thread may prepare at once (Q, K and V of different forms).
#define ACTIVATIONS 3

static size_t round_up(size_t n) { return (n + 63) & ~(size_t)63; }

/// The largest activation scratch any matrix of `d` needs.
static size_t largest_activation(const infer_decoder *d) {
    size_t most = infer_matvec_activation_bytes(d->output);
    for (int l = 0; l < d->layer_count; l++) {
        const infer_block *L = &d->layers[l];
        const infer_matrix *whole[5] = {L->wq, L->wk, L->wv, L->gate, L->up};
        for (int i = 0; i < 5; i++) {
            size_t bytes = infer_matvec_activation_bytes(whole[i]);
            if (bytes > most) most = bytes;
        }
        for (int p = 0; p < L->wo_part_count; p++) {
            size_t bytes = infer_matvec_activation_bytes(&L->wo_parts[p]);
            if (bytes > most) most = bytes;
        }
        for (int p = 0; p < L->down_part_count; p++) {
            size_t bytes = infer_matvec_activation_bytes(&L->down_parts[p]);
            if (bytes > most) most = bytes;
        }
    }
    return most;
}

size_t infer_decode_scratch_bytes(const infer_decoder *d) {
    // x and the normed input, then the activations.
    return 2 * round_up((size_t)d->dim * sizeof(float)) + ACTIVATIONS * largest_activation(d);
}

/// A barrier for the pool's threads: the last to arrive opens the next generation.
typedef struct {
    _Alignas(64) _Atomic int arrived;
    _Atomic unsigned generation;
    int threads;
} barrier;

static void wait_at(barrier *b) {
    if (b->threads == 1) return;
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

/// Thread t's share of `rows` rows: whole groups of 8 (what an interleaved matrix needs), the
/// last thread taking the rest.
static void share(int rows, int t, int threads, int *begin, int *end) {
    int groups = rows / 8;
    *begin = (int)((long long)groups * t / threads) * 8;
    *end = t == threads - 1 ? rows : (int)((long long)groups * (t + 1) / threads) * 8;
}

/// Rows [begin, end) of the products `m` of one input x, each prepared once per activation form.
static void rows_of(const infer_matrix *const *m, float *const *y, int count, const float *x, char *scratch,
                    const int *begin, const int *end) {
    const void *act[ACTIVATIONS];
    size_t slot = 0;
    for (int i = 0; i < count; i++) {
        int same = -1;  // an earlier product of the same type reads the same preparation
        for (int j = 0; j < i; j++) {
            if (m[j]->type == m[i]->type && m[j]->cols == m[i]->cols) same = j;
        }
        if (same >= 0) {
            act[i] = act[same];
        } else {
            act[i] = infer_matvec_activation(m[i], x, scratch + slot);
            slot += infer_matvec_activation_bytes(m[i]);
        }
    }
    for (int i = 0; i < count; i++) {
        if (begin[i] < end[i]) infer_matvec_rows(m[i], act[i], x, y[i], begin[i], end[i]);
    }
}

/// x[begin, end) += bias[begin, end).
static void add_bias(float *x, const float *bias, int begin, int end) {
    if (bias) {
        for (int i = begin; i < end; i++) x[i] += bias[i];
    }
}

/// out = Σ_p partials[p] over `count` rows of dim floats, in part order.
static void sum_parts(const float *partials, int count, int dim, float *out) {
    for (int i = 0; i < dim; i++) {
        float sum = partials[i];
        for (int p = 1; p < count; p++) sum += partials[(size_t)p * dim + i];
        out[i] = sum;
    }
}

/// y_p = W_p x_p for a matrix in `count` column parts over input x, into `partials` (part p's
/// output in row p). `own`: this thread has just computed exactly the columns of part t itself,
/// so it multiplies that part alone; else every input must be complete (a barrier), and the
/// threads share every part's rows. Ends at a barrier: every part's output is ready.
static void parted_product(const decode_job *job, int t, const infer_matrix *parts, int count, const float *x,
                           int own, float *partials, char *act_scratch) {
    const infer_decoder *d = job->d;
    if (own) {
        const infer_matrix *w = &parts[t];
        const void *act = infer_matvec_activation(w, x + (size_t)t * w->cols, act_scratch);
        infer_matvec_rows(w, act, x + (size_t)t * w->cols, partials + (size_t)t * d->dim, 0, w->rows);
    } else {
        wait_at(job->barrier);  // every column of x
        for (int p = 0; p < count; p++) {
            const infer_matrix *w = &parts[p];
            int b, e;
            share(w->rows, t, job->threads, &b, &e);
            if (b == e) continue;
            const void *act = infer_matvec_activation(w, x + (size_t)p * w->cols, act_scratch);
            infer_matvec_rows(w, act, x + (size_t)p * w->cols, partials + (size_t)p * d->dim, b, e);
        }
    }
    wait_at(job->barrier);  // every part's rows
}

/// x += the sublayer's output, the sum of its `count` parts in `partials` (normed first by
/// `post_norm` where the block has one); `sum` is scratch.
static void add_sublayer(const infer_decoder *d, const float *partials, int count, const float *post_norm, float *x,
                         float *sum) {
    sum_parts(partials, count, d->dim, sum);
    if (post_norm) infer_rmsnorm(sum, sum, post_norm, d->dim, d->rms_epsilon);
    for (int i = 0; i < d->dim; i++) x[i] += sum[i];
}

static void decode_task(void *context, int begin, int end, int thread) {
    (void)begin;
    (void)end;
    const decode_job *job = context;
    const infer_decoder *d = job->d;
    int T = job->threads, t = thread, hd = d->head_dim, half = d->rope_dim / 2;
    size_t vector = round_up((size_t)d->dim * sizeof(float));
    char *scratch = (char *)d->scratch + (size_t)t * d->scratch_bytes;
    float *x = (float *)scratch;  // (dim) this thread's copy of the residual stream
    float *normed = (float *)(scratch + vector);
    char *act_scratch = scratch + 2 * vector;
    infer_isa isa = infer_isa_active();

    // This thread's query heads; its KV heads when they share evenly (each thread then has the
    // K and V of the heads it attends with), else its share of K's and V's rows.
    int group = d->heads / d->kv_heads;
    int h0 = (int)((long long)d->heads * t / T), h1 = (int)((long long)d->heads * (t + 1) / T);
    int kv_own = d->kv_heads % T == 0;
    int j0 = kv_own ? d->kv_heads / T * t : 0, j1 = kv_own ? d->kv_heads / T * (t + 1) : 0;
    int kv_dim = d->kv_heads * hd, kb, ke;
    if (kv_own) {
        kb = j0 * hd;
        ke = j1 * hd;
    } else {
        share(kv_dim, t, T, &kb, &ke);
    }
    // The rows of gate and up this thread activates.
    int gb, ge;
    share(d->hidden, t, T, &gb, &ge);
    int heads_even = d->heads % T == 0;
    for (int i = 0; i < d->dim; i++) x[i] = d->x[i];

    for (int l = 0; l < d->layer_count; l++) {
        const infer_block *L = &d->layers[l];
        const float *cosines = d->rope_cos + (size_t)L->rope * half, *sines = d->rope_sin + (size_t)L->rope * half;
        // Attention: Q rows of this thread's heads, K and V rows.
        infer_rmsnorm(normed, x, L->attention_norm, d->dim, d->rms_epsilon);
        {
            const infer_matrix *m[3] = {L->wq, L->wk, L->wv};
            float *y[3] = {d->q, d->key, d->value};
            int b[3] = {h0 * hd, kb, kb}, e[3] = {h1 * hd, ke, ke};
            rows_of(m, y, 3, normed, act_scratch, b, e);
        }
        add_bias(d->q, L->q_bias, h0 * hd, h1 * hd);
        add_bias(d->key, L->k_bias, kb, ke);
        add_bias(d->value, L->v_bias, kb, ke);
        for (int h = h0; h < h1; h++) {
            float *head = d->q + (size_t)h * hd;
            if (L->q_norm) infer_rmsnorm(head, head, L->q_norm, hd, d->rms_epsilon);
            infer_rope_rotate(head, d->rope_dim, cosines, sines, d->neox);
        }
        // K's heads: this thread's own, or else every T-th from t once all rows are in.
        if (!kv_own) wait_at(job->barrier);  // every row of K and V
        for (int j = kv_own ? j0 : t; j < (kv_own ? j1 : d->kv_heads); j += kv_own ? 1 : T) {
            float *head = d->key + (size_t)j * hd;
            if (L->k_norm) infer_rmsnorm(head, head, L->k_norm, hd, d->rms_epsilon);
            infer_rope_rotate(head, d->rope_dim, cosines, sines, d->neox);
            infer_cache_layer one = L->cache;  // KV head j's rows
            one.keys = (char *)one.keys + (size_t)j * one.slots * one.row_bytes;
            one.values = (char *)one.values + (size_t)j * one.slots * one.row_bytes;
            infer_cache_store(&one, 1, hd, job->pos, head, d->value + (size_t)j * hd);
        }
        if (!kv_own) wait_at(job->barrier);  // every head's keys and values in the cache
        int row, first = infer_cache_first(&L->cache, job->pos, &row), n = job->pos - first + 1;
        for (int h = h0; h < h1;) {  // runs of heads that share a KV head
            int j = h / group, stop = (j + 1) * group < h1 ? (j + 1) * group : h1;
            size_t at = ((size_t)j * L->cache.slots + row) * L->cache.row_bytes;
            infer_attention_heads_isa(isa, d->q + (size_t)h * hd, stop - h, (const char *)L->cache.keys + at,
                                      (const char *)L->cache.values + at, L->cache.type, L->cache.row_bytes, n, hd,
                                      d->attention_scale, d->attention_soft_cap,
                                      d->scores + (size_t)h * d->scores_stride, d->scores_stride,
                                      d->attention + (size_t)h * hd);
            h = stop;
        }
        int o_own = L->wo_part_count == T && heads_even;
        parted_product(job, t, L->wo_parts, L->wo_part_count, d->attention, o_own, d->attention_partials, act_scratch);
        add_sublayer(d, d->attention_partials, L->wo_part_count, L->post_attention_norm, x, normed);

        // Feed-forward: this thread's rows of gate and up, activated; down's parts.
        infer_rmsnorm(normed, x, L->ffn_norm, d->dim, d->rms_epsilon);
        {
            const infer_matrix *m[2] = {L->gate, L->up};
            float *y[2] = {d->gate, d->up};
            int b[2] = {gb, gb}, e[2] = {ge, ge};
            rows_of(m, y, 2, normed, act_scratch, b, e);
        }
        infer_gated_activation(d->activation, d->gate + gb, d->up + gb, (size_t)(ge - gb));
        int down_own = L->down_part_count == T && L->down_parts[t].cols == ge - gb &&
                       (long long)t * L->down_parts[0].cols == gb;
        parted_product(job, t, L->down_parts, L->down_part_count, d->gate, down_own, d->ffn_partials, act_scratch);
        add_sublayer(d, d->ffn_partials, L->down_part_count, L->post_ffn_norm, x, normed);
    }
    infer_rmsnorm(normed, x, d->output_norm, d->dim, d->rms_epsilon);
    int b, e;
    share(d->output->rows, t, T, &b, &e);
    rows_of(&d->output, &d->logits, 1, normed, act_scratch, &b, &e);
    if (d->logit_soft_cap > 0) infer_soft_cap(d->logits + b, (size_t)(e - b), d->logit_soft_cap);
    if (t == 0) {
        for (int i = 0; i < d->dim; i++) d->x[i] = normed[i];
    }
}

void infer_decode(infer_pool *pool, const infer_decoder *d, int pos) {
    int threads = pool ? infer_pool_threads(pool) : 1;
    barrier b = {0, 0, threads};
    decode_job job = {d, pos, threads, &b};
    if (threads == 1) {
        decode_task(&job, 0, 1, 0);
    } else {
        infer_pool_gang(pool, decode_task, &job);
    }
}
