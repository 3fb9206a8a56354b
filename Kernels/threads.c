// The worker pool that splits each matrix product (and attention) across cores.
//
// A forward pass hands the pool many jobs, in generation each only tens of microseconds long,
// so the cost of starting a job matters: workers spin on a generation counter for a while
// after each job (a new job starts within a microsecond, no system call), and only then
// sleep on a condition variable; the caller waits for the last ranges the same way. The
// spins are short because a spinning thread is a busy thread to the scheduler: on a
// machine shared with other work it would lose its turn when it has work. Work is handed
// out in ranges of shrinking size (guided scheduling, capped): each range a thread takes is
// a new stream of weights for the hardware prefetcher to pick up, so the first ranges are
// as large as an even split (half the job each with two threads: fewer, longer streams read
// closer to the memory's speed than more, shorter ones), and small last ones even out threads
// that were slowed down (by another process, say). Measurements: Benchmarks/README.md, "Design
// decisions and their measurements".
#include "kernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "spin.h"

/// The largest range handed out, in grains: a thread that another process keeps off its
/// core holds back the end of a job by at most this much work. 32 grains of matrix rows
/// is up to ~4 MB of weights (grains of ~128 KB, Kernels/matvec.c); smaller ranges make
/// generation slower, because each new range is a new stream for the hardware prefetcher.
#define MAX_RANGE_GRAINS 32

struct infer_pool {
    int threads;
    pthread_t *workers;

    // The current job: written by the caller between closing and opening a generation in
    // `cursor`. Atomics (relaxed, with fences) because a late worker may read them while
    // the next job is written; it then fails to take a range, so what it read is never used.
    _Atomic(infer_task) task;
    _Atomic(void *) context;
    _Atomic int count;
    _Atomic int grain;
    _Atomic int gang;  // infer_pool_gang's job: each worker runs its own index, once
    /// (generation << 32) | first index not yet handed out. Taking a range is one
    /// compare-and-swap that also checks the job is still the one the worker looked at,
    /// so the caller never waits for a worker that has not taken part (one that another
    /// process keeps off its core, say); it waits only for ranges handed out.
    _Atomic uint64_t cursor;
    _Atomic int done;        // indices finished in the current job
    unsigned generation;     // the caller's count of jobs

    _Atomic int stopping;
    _Atomic int sleepers;        // workers waiting on `wake`
    _Atomic int caller_waiting;  // the caller waits on `finished`
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_cond_t finished;
};

typedef struct {
    infer_pool *pool;
    int index;
} worker_start;

static unsigned generation_of(uint64_t cursor) { return (unsigned)(cursor >> 32); }

/// The index part of `cursor` while the caller writes a job: no range can be taken. Closing
/// the new generation before the job's fields change makes every compare-and-swap against
/// an earlier generation fail, so a worker can never run a range of a finished job with
/// half-written fields of the next one.
#define CLOSED 0x7FFFFFFF

/// Adds `n` indices to those done of a job of `count`, and wakes the caller if they are all
/// and it sleeps.
static void finish(infer_pool *pool, int n, int count) {
    // Sequentially consistent, against the caller's announcement that it sleeps.
    if (atomic_fetch_add(&pool->done, n) + n == count && atomic_load(&pool->caller_waiting)) {
        pthread_mutex_lock(&pool->lock);
        pthread_cond_signal(&pool->finished);
        pthread_mutex_unlock(&pool->lock);
    }
}

/// Takes ranges of job `generation` until none are left.
static void work(infer_pool *pool, unsigned generation, int thread) {
    uint64_t cursor = atomic_load_explicit(&pool->cursor, memory_order_acquire);
    for (;;) {
        if (generation_of(cursor) != generation) return;
        int begin = (int)(uint32_t)cursor;
        if (begin == CLOSED) {  // the caller is writing this job: it opens in a moment
            cpu_relax();
            cursor = atomic_load_explicit(&pool->cursor, memory_order_acquire);
            continue;
        }
        int count = atomic_load_explicit(&pool->count, memory_order_relaxed);
        if (begin >= count) return;
        int grain = atomic_load_explicit(&pool->grain, memory_order_relaxed);
        infer_task task = atomic_load_explicit(&pool->task, memory_order_relaxed);
        void *context = atomic_load_explicit(&pool->context, memory_order_relaxed);
        int gang = atomic_load_explicit(&pool->gang, memory_order_relaxed);
        // Pairs with the caller's release fence: fields of a newer job seen here mean the
        // compare-and-swap below sees that job's closed cursor, and fails.
        atomic_thread_fence(memory_order_acquire);
        if (gang) {  // the index part counts the workers in: a compare-and-swap, for the same reason
            if (!atomic_compare_exchange_weak_explicit(&pool->cursor, &cursor, cursor + 1, memory_order_acquire,
                                                       memory_order_acquire)) {
                continue;
            }
            task(context, thread, thread + 1, thread);
            finish(pool, 1, count);
            return;
        }
        int size = (count - begin) / pool->threads;
        if (size > MAX_RANGE_GRAINS * grain) size = MAX_RANGE_GRAINS * grain;
        if (size < grain) size = grain;
        int end = begin + size < count ? begin + size : count;
        uint64_t taken = ((uint64_t)generation << 32) | (uint32_t)end;
        if (atomic_compare_exchange_weak_explicit(&pool->cursor, &cursor, taken, memory_order_acquire,
                                                  memory_order_acquire)) {
            task(context, begin, end, thread);
            finish(pool, end - begin, count);
            cursor = atomic_load_explicit(&pool->cursor, memory_order_acquire);
        }
        // On failure `cursor` holds the current value: look again.
    }
}

static void *worker_main(void *arg) {
    worker_start start = *(worker_start *)arg;
    free(arg);
    infer_pool *pool = start.pool;
    unsigned seen = 0;
    for (;;) {
        unsigned g = generation_of(atomic_load_explicit(&pool->cursor, memory_order_acquire));
        if (g == seen) {
            long long deadline = now_ns() + SPIN_NANOSECONDS;
            for (int spins = 1; g == seen; spins++) {
                cpu_relax();
                g = generation_of(atomic_load_explicit(&pool->cursor, memory_order_acquire));
                if ((spins & 1023) == 0 && now_ns() > deadline) break;
            }
        }
        if (g == seen) {
            // Announce the sleep before the last look at the generation: the caller
            // publishes a job before it looks at `sleepers`, so one sees the other.
            pthread_mutex_lock(&pool->lock);
            atomic_fetch_add(&pool->sleepers, 1);
            while ((g = generation_of(atomic_load(&pool->cursor))) == seen) pthread_cond_wait(&pool->wake, &pool->lock);
            atomic_fetch_sub(&pool->sleepers, 1);
            pthread_mutex_unlock(&pool->lock);
        }
        seen = g;
        if (atomic_load_explicit(&pool->stopping, memory_order_acquire)) break;
        work(pool, g, start.index);
    }
    return NULL;
}

static void publish(infer_pool *pool, uint64_t cursor) {
    atomic_store(&pool->cursor, cursor);  // sequentially consistent: see worker_main
    if (atomic_load(&pool->sleepers) > 0) {
        pthread_mutex_lock(&pool->lock);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->lock);
    }
}

infer_pool *infer_pool_create(int threads) {
    if (threads < 1) threads = 1;
    infer_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->threads = threads;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->finished, NULL);
    pool->workers = calloc((size_t)threads, sizeof(pthread_t));
    if (!pool->workers) { free(pool); return NULL; }
    for (int i = 1; i < threads; i++) {
        worker_start *start = malloc(sizeof *start);
        if (start) *start = (worker_start){pool, i};
        if (!start || pthread_create(&pool->workers[i], NULL, worker_main, start) != 0) {
            // Fewer threads than asked: keep the ones that started.
            free(start);
            pool->threads = i;
            break;
        }
    }
    return pool;
}

void infer_pool_destroy(infer_pool *pool) {
    if (!pool) return;
    atomic_store(&pool->stopping, 1);
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->cursor, (uint64_t)(pool->generation + 1) << 32);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 1; i < pool->threads; i++) pthread_join(pool->workers[i], NULL);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->wake);
    pthread_cond_destroy(&pool->finished);
    free(pool->workers);
    free(pool);
}

int infer_pool_threads(const infer_pool *pool) { return pool ? pool->threads : 1; }

/// Waits until every index of the current job is done: spins, then sleeps.
static void wait_for_ranges(infer_pool *pool, int count) {
    long long deadline = 0;
    for (int spins = 1; atomic_load_explicit(&pool->done, memory_order_acquire) < count; spins++) {
        cpu_relax();
        if ((spins & 255) != 0) continue;
        if (!deadline) {
            deadline = now_ns() + SPIN_NANOSECONDS;
        } else if (now_ns() > deadline) {
            // Announce the sleep before the last look at `done`: a worker adds to `done`
            // before it looks at `caller_waiting`, so one sees the other.
            pthread_mutex_lock(&pool->lock);
            atomic_store(&pool->caller_waiting, 1);
            while (atomic_load(&pool->done) < count) pthread_cond_wait(&pool->finished, &pool->lock);
            atomic_store(&pool->caller_waiting, 0);
            pthread_mutex_unlock(&pool->lock);
            return;
        }
    }
}

/// Posts a job: closes a new generation, writes the fields, opens it. Its generation.
static unsigned post(infer_pool *pool, infer_task task, void *context, int count, int grain, int gang) {
    unsigned generation = ++pool->generation;
    atomic_store(&pool->cursor, ((uint64_t)generation << 32) | CLOSED);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&pool->task, task, memory_order_relaxed);
    atomic_store_explicit(&pool->context, context, memory_order_relaxed);
    atomic_store_explicit(&pool->count, count, memory_order_relaxed);
    atomic_store_explicit(&pool->grain, grain, memory_order_relaxed);
    atomic_store_explicit(&pool->gang, gang, memory_order_relaxed);
    atomic_store_explicit(&pool->done, 0, memory_order_relaxed);
    publish(pool, (uint64_t)generation << 32);
    return generation;
}

void infer_pool_run(infer_pool *pool, infer_task task, void *context, int count, int grain) {
    if (count <= 0) return;
    if (grain < 1) grain = 1;
    if (!pool || pool->threads == 1 || count <= grain) {
        task(context, 0, count, 0);
        return;
    }
    unsigned generation = post(pool, task, context, count, grain, 0);
    work(pool, generation, 0);
    wait_for_ranges(pool, count);
}

void infer_pool_gang(infer_pool *pool, infer_task task, void *context) {
    if (!pool || pool->threads == 1) {
        task(context, 0, 1, 0);
        return;
    }
    post(pool, task, context, pool->threads - 1, 1, 1);  // `count`: the workers
    task(context, 0, 1, 0);
    wait_for_ranges(pool, pool->threads - 1);
}
