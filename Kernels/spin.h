// Waiting without a system call, for the threads of one token (threads.c, decode.c): a thread
// spins a short while on what it waits for (the next job starts, or the others arrive, within
// microseconds), and only then gives its core away.
#ifndef INFER_SPIN_H
#define INFER_SPIN_H
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpu_relax(void) { _mm_pause(); }
#elif defined(__aarch64__)
static inline void cpu_relax(void) { __asm__ __volatile__("yield"); }
#else
static inline void cpu_relax(void) {}
#endif

/// How long a waiting thread spins before it sleeps: longer than the gaps between the jobs
/// of one token (a few microseconds of norms and rotations) and than the wait for the
/// other threads' last ranges, short enough to yield the core soon when the wait is long
/// (another process has one of our threads' cores, or generation pauses).
#ifndef SPIN_NANOSECONDS
#define SPIN_NANOSECONDS 50000LL
#endif

static inline long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

#endif
