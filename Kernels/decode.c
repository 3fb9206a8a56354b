// Generation's forward pass of one token per sequence with every thread of the pool running all
// of it: one sequence, or several at once (a batched step: every weight is read once for all
// their tokens, and each sequence attends over its own KV cache).
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
// same order, so the logits do not depend on which way ran. With several sequences every step is
// taken for each of them in turn, the products through infer_matvec_rows_batch, whose results
// for each input are the one-input kernels': a token's logits do not depend on the others.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "decode.h"
#include "batch.h"
#include <math.h>
#include <stdatomic.h>
#include <sched.h>
#include "spin.h"

/// Activations a thread may prepare at once per sequence (Q, K and V of different forms).
#define ACTIVATIONS 3

static size_t round_up(size_t n) { return (n + 63) & ~(size_t)63; }

/// The largest activation scratch any matrix of `d` needs for one input.
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
    // Each sequence's x and normed input, then the activations.
    return (size_t)d->capacity * (2 * round_up((size_t)d->dim * sizeof(float)) + ACTIVATIONS * largest_activation(d));
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
    const infer_sequence *seqs;
    int count, threads;
    barrier *barrier;
} decode_job;

/// Thread t's share of `rows` rows: whole groups of 8 (what an interleaved matrix needs), the
/// last thread taking the rest.
static void share(int rows, int t, int threads, int *begin, int *end) {
    int groups = rows / 8;
    *begin = (int)((long long)groups * t / threads) * 8;
    *end = t == threads - 1 ? rows : (int)((long long)groups * (t + 1) / threads) * 8;
}

/// This thread's activation scratch: room for ACTIVATIONS preparations of each of `count` inputs.
typedef struct {
    char *next;
} activations;

/// The `count` inputs x[s] prepared for `w` in `a` (or read in place).
static void prepare(const infer_matrix *w, const float *const *x, int count, activations *a, const void **act) {
    size_t bytes = infer_matvec_activation_bytes(w);
    for (int s = 0; s < count; s++) {
        act[s] = infer_matvec_activation(w, x[s], a->next);
        a->next += bytes;
    }
}

/// Rows [begin[i], end[i]) of the products m[i] of the `count` inputs x[s], into
/// y[i] + s * y_stride[i] (or, y_stride[i] 0, into out[s]), each input prepared once per
/// activation form.
static void rows_of(const infer_matrix *const *m, float *const *y, const size_t *y_stride, float *const *out,
                    int products, const float *const *x, int count, char *scratch, const int *begin, const int *end) {
    const void *act[ACTIVATIONS][INFER_DECODE_MAX_SEQUENCES];
    activations a = {scratch};
    for (int i = 0; i < products; i++) {
        int same = -1;  // an earlier product of the same type reads the same preparation
        for (int j = 0; j < i; j++) {
            if (m[j]->type == m[i]->type && m[j]->cols == m[i]->cols) same = j;
        }
        if (same >= 0) {
            for (int s = 0; s < count; s++) act[i][s] = act[same][s];
        } else {
            prepare(m[i], x, count, &a, act[i]);
        }
    }
    for (int i = 0; i < products; i++) {
        if (begin[i] >= end[i]) continue;
        float *ys[INFER_DECODE_MAX_SEQUENCES];
        for (int s = 0; s < count; s++) ys[s] = y_stride[i] ? y[i] + (size_t)s * y_stride[i] : out[s];
        infer_matvec_rows_batch(m[i], act[i], x, ys, count, begin[i], end[i]);
    }
}

/// x[begin, end) += bias[begin, end).
static void add_bias(float *x, const float *bias, int begin, int end) {
    if (bias) {
        for (int i = begin; i < end; i++) x[i] += bias[i];
    }
}

/// out = Σ_p partials[p] over `count` rows of dim floats `stride` floats apart, in part order.
static void sum_parts(const float *partials, int count, size_t stride, int dim, float *out) {
    for (int i = 0; i < dim; i++) {
        float sum = partials[i];
        for (int p = 1; p < count; p++) sum += partials[(size_t)p * stride + i];
        out[i] = sum;
    }
}

/// y_p = W_p x_p for a matrix in `count` column parts over each sequence's input (sequence s's
/// at x + s * x_stride), into `partials` (part p's output for sequence s at row p * n + s, n the
/// sequences). `own`: this thread has just computed exactly the columns of part t itself, so it
/// multiplies that part alone; else every input must be complete (a barrier), and the threads
/// share every part's rows. Ends at a barrier: every part's output is ready.
static void parted_product(const decode_job *job, int t, const infer_matrix *parts, int count, const float *x,
                           size_t x_stride, int own, float *partials, char *act_scratch) {
    const infer_decoder *d = job->d;
    int n = job->count;
    const float *xs[INFER_DECODE_MAX_SEQUENCES];
    float *ys[INFER_DECODE_MAX_SEQUENCES];
    const void *act[INFER_DECODE_MAX_SEQUENCES];
    if (!own) wait_at(job->barrier);  // every column of x
    for (int p = own ? t : 0; p < (own ? t + 1 : count); p++) {
        const infer_matrix *w = &parts[p];
        int b = 0, e = w->rows;
        if (!own) share(w->rows, t, job->threads, &b, &e);
        if (b == e) continue;
        for (int s = 0; s < n; s++) {
            xs[s] = x + (size_t)s * x_stride + (size_t)p * w->cols;
            ys[s] = partials + ((size_t)p * n + s) * d->dim;
        }
        activations a = {act_scratch};
        prepare(w, xs, n, &a, act);
        infer_matvec_rows_batch(w, act, xs, ys, n, b, e);
    }
    wait_at(job->barrier);  // every part's rows
}

/// x += the sublayer's output for sequence s of n, the sum of its `count` parts in `partials`
/// (normed first by `post_norm` where the block has one); `sum` is scratch.
static void add_sublayer(const infer_decoder *d, const float *partials, int s, int n, int count,
                         const float *post_norm, float *x, float *sum) {
    sum_parts(partials + (size_t)s * d->dim, count, (size_t)n * d->dim, d->dim, sum);
    if (post_norm) infer_rmsnorm(sum, sum, post_norm, d->dim, d->rms_epsilon);
    for (int i = 0; i < d->dim; i++) x[i] += sum[i];
}

static void decode_task(void *context, int begin, int end, int thread) {
    (void)begin;
    (void)end;
    const decode_job *job = context;
    const infer_decoder *d = job->d;
    const infer_sequence *seqs = job->seqs;
    int T = job->threads, t = thread, n = job->count, hd = d->head_dim, half = d->rope_dim / 2;
    size_t vector = round_up((size_t)d->dim * sizeof(float));
    char *scratch = (char *)d->scratch + (size_t)t * d->scratch_bytes;
    // Each sequence's copy of its residual stream in this thread, and its normed input.
    float *x[INFER_DECODE_MAX_SEQUENCES], *normed[INFER_DECODE_MAX_SEQUENCES];
    for (int s = 0; s < n; s++) {
        x[s] = (float *)(scratch + (size_t)s * vector);
        normed[s] = (float *)(scratch + (size_t)(d->capacity + s) * vector);
    }
    char *act_scratch = scratch + 2 * (size_t)d->capacity * vector;
    infer_isa isa = infer_isa_active();
    size_t q_dim = (size_t)d->heads * hd, kv_dim = (size_t)d->kv_heads * hd;

    // This thread's query heads; its KV heads when they share evenly (each thread then has the
    // K and V of the heads it attends with), else its share of K's and V's rows.
    int group = d->heads / d->kv_heads;
    int h0 = (int)((long long)d->heads * t / T), h1 = (int)((long long)d->heads * (t + 1) / T);
    int kv_own = d->kv_heads % T == 0;
    int j0 = kv_own ? d->kv_heads / T * t : 0, j1 = kv_own ? d->kv_heads / T * (t + 1) : 0;
    int kb, ke;
    if (kv_own) {
        kb = j0 * hd;
        ke = j1 * hd;
    } else {
        share((int)kv_dim, t, T, &kb, &ke);
    }
    // The rows of gate and up this thread activates.
    int gb, ge;
    share(d->hidden, t, T, &gb, &ge);
    int heads_even = d->heads % T == 0;
    for (int s = 0; s < n; s++) {
        for (int i = 0; i < d->dim; i++) x[s][i] = d->x[(size_t)s * d->dim + i];
    }
    const float *const *inputs = (const float *const *)normed;

    for (int l = 0; l < d->layer_count; l++) {
        const infer_block *L = &d->layers[l];
        // Attention: Q rows of this thread's heads, K and V rows.
        for (int s = 0; s < n; s++) infer_rmsnorm(normed[s], x[s], L->attention_norm, d->dim, d->rms_epsilon);
        {
            const infer_matrix *m[3] = {L->wq, L->wk, L->wv};
            float *y[3] = {d->q, d->key, d->value};
            size_t stride[3] = {q_dim, kv_dim, kv_dim};
            int b[3] = {h0 * hd, kb, kb}, e[3] = {h1 * hd, ke, ke};
            rows_of(m, y, stride, NULL, 3, inputs, n, act_scratch, b, e);
        }
        for (int s = 0; s < n; s++) {
            float *q = d->q + s * q_dim;
            add_bias(q, L->q_bias, h0 * hd, h1 * hd);
            add_bias(d->key + s * kv_dim, L->k_bias, kb, ke);
            add_bias(d->value + s * kv_dim, L->v_bias, kb, ke);
            const float *cosines = seqs[s].rope_cos + (size_t)L->rope * half;
            const float *sines = seqs[s].rope_sin + (size_t)L->rope * half;
            for (int h = h0; h < h1; h++) {
                float *head = q + (size_t)h * hd;
                if (L->q_norm) infer_rmsnorm(head, head, L->q_norm, hd, d->rms_epsilon);
                infer_rope_rotate(head, d->rope_dim, cosines, sines, d->neox);
            }
        }
        // K's heads: this thread's own, or else every T-th from t once all rows are in.
        if (!kv_own) wait_at(job->barrier);  // every row of K and V
        for (int s = 0; s < n; s++) {
            const float *cosines = seqs[s].rope_cos + (size_t)L->rope * half;
            const float *sines = seqs[s].rope_sin + (size_t)L->rope * half;
            for (int j = kv_own ? j0 : t; j < (kv_own ? j1 : d->kv_heads); j += kv_own ? 1 : T) {
                float *head = d->key + s * kv_dim + (size_t)j * hd;
                if (L->k_norm) infer_rmsnorm(head, head, L->k_norm, hd, d->rms_epsilon);
                infer_rope_rotate(head, d->rope_dim, cosines, sines, d->neox);
                infer_cache_layer one = seqs[s].caches[l];  // KV head j's rows
                one.keys = (char *)one.keys + (size_t)j * one.slots * one.row_bytes;
                one.values = (char *)one.values + (size_t)j * one.slots * one.row_bytes;
                infer_cache_store(&one, 1, hd, seqs[s].pos, head, d->value + s * kv_dim + (size_t)j * hd);
            }
        }
        if (!kv_own) wait_at(job->barrier);  // every head's keys and values in the cache
        for (int s = 0; s < n; s++) {
            const infer_cache_layer *cache = &seqs[s].caches[l];
            int row, first = infer_cache_first(cache, seqs[s].pos, &row), positions = seqs[s].pos - first + 1;
            for (int h = h0; h < h1;) {  // runs of heads that share a KV head
                int j = h / group, stop = (j + 1) * group < h1 ? (j + 1) * group : h1;
                size_t at = ((size_t)j * cache->slots + row) * cache->row_bytes;
                infer_attention_heads_isa(isa, d->q + s * q_dim + (size_t)h * hd, stop - h, (const char *)cache->keys + at,
                                          (const char *)cache->values + at, cache->type, cache->row_bytes, positions, hd,
                                          d->attention_scale, d->attention_soft_cap,
                                          d->scores + (size_t)h * d->scores_stride, d->scores_stride,
                                          d->attention + s * q_dim + (size_t)h * hd);
                h = stop;
            }
        }
        int o_own = L->wo_part_count == T && heads_even;
        parted_product(job, t, L->wo_parts, L->wo_part_count, d->attention, q_dim, o_own, d->attention_partials,
                       act_scratch);
        for (int s = 0; s < n; s++) {
            add_sublayer(d, d->attention_partials, s, n, L->wo_part_count, L->post_attention_norm, x[s], normed[s]);
        }

        // Feed-forward: this thread's rows of gate and up, activated; down's parts.
        for (int s = 0; s < n; s++) infer_rmsnorm(normed[s], x[s], L->ffn_norm, d->dim, d->rms_epsilon);
        {
            const infer_matrix *m[2] = {L->gate, L->up};
            float *y[2] = {d->gate, d->up};
            size_t stride[2] = {(size_t)d->hidden, (size_t)d->hidden};
            int b[2] = {gb, gb}, e[2] = {ge, ge};
            rows_of(m, y, stride, NULL, 2, inputs, n, act_scratch, b, e);
        }
        for (int s = 0; s < n; s++) {
            infer_gated_activation(d->activation, d->gate + (size_t)s * d->hidden + gb, d->up + (size_t)s * d->hidden + gb,
                                   (size_t)(ge - gb));
        }
        int down_own = L->down_part_count == T && L->down_parts[t].cols == ge - gb &&
                       (long long)t * L->down_parts[0].cols == gb;
        parted_product(job, t, L->down_parts, L->down_part_count, d->gate, (size_t)d->hidden, down_own, d->ffn_partials,
                       act_scratch);
        for (int s = 0; s < n; s++) {
            add_sublayer(d, d->ffn_partials, s, n, L->down_part_count, L->post_ffn_norm, x[s], normed[s]);
        }
    }
    for (int s = 0; s < n; s++) infer_rmsnorm(normed[s], x[s], d->output_norm, d->dim, d->rms_epsilon);
    int b, e;
    share(d->output->rows, t, T, &b, &e);
    float *logits[INFER_DECODE_MAX_SEQUENCES];
    for (int s = 0; s < n; s++) logits[s] = seqs[s].logits;
    size_t no_stride = 0;
    rows_of(&d->output, NULL, &no_stride, logits, 1, inputs, n, act_scratch, &b, &e);
    for (int s = 0; s < n; s++) {
        if (d->logit_soft_cap > 0) infer_soft_cap(logits[s] + b, (size_t)(e - b), d->logit_soft_cap);
        if (t == 0) {
            for (int i = 0; i < d->dim; i++) d->x[(size_t)s * d->dim + i] = normed[s][i];
        }
    }
}

void infer_decode(infer_pool *pool, const infer_decoder *d, const infer_sequence *seqs, int count) {
    if (count < 1 || count > d->capacity || count > INFER_DECODE_MAX_SEQUENCES) return;
    int threads = pool ? infer_pool_threads(pool) : 1;
    barrier b = {0, 0, threads};
    decode_job job = {d, seqs, count, threads, &b};
    if (threads == 1) {
        decode_task(&job, 0, 1, 0);
    } else {
        infer_pool_gang(pool, decode_task, &job);
    }
}
