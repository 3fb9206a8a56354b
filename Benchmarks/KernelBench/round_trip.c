// --round-trip [ROUNDS]: how long a cache line takes to go from one thread to another and
// back, next to the two-thread read probe, round after round.
//
// This host's two vCPUs are not always placed alike: in its "slow minutes" a line goes
// there and back in ~55 ns and two threads read ~35 GB/s (two cores of one CCD, by all
// appearances, sharing its link to memory); in its "fast minutes" ~315 ns and ~65 GB/s
// (cores on two CCDs, a link each). The fast placement doubles what weights can stream and makes every handoff
// between the pool's threads (a job posted, a range taken, a job's outputs read) six
// times slower: what sets the share of the probe generation keeps there.
#include "bench.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRIPS 100000

static _Alignas(64) _Atomic long ball;

/// The other end: sends back every odd number it sees as the next even one.
static void *bounce(void *arg) {
    (void)arg;
    for (long i = 1; i < 2 * TRIPS; i += 2) {
        while (atomic_load_explicit(&ball, memory_order_acquire) != i) {}
        atomic_store_explicit(&ball, i + 1, memory_order_release);
    }
    return NULL;
}

/// Nanoseconds a line takes there and back between this thread and a new one, mean of TRIPS.
static double round_trip_ns(void) {
    atomic_store(&ball, 0);
    pthread_t other;
    if (pthread_create(&other, NULL, bounce, NULL) != 0) return -1;
    double t = now();
    for (long i = 0; i < 2 * TRIPS; i += 2) {
        atomic_store_explicit(&ball, i + 1, memory_order_release);
        while (atomic_load_explicit(&ball, memory_order_acquire) != i + 2) {}
    }
    t = now() - t;
    pthread_join(other, NULL);
    return t / TRIPS * 1e9;
}

int round_trip(int rounds) {
    infer_pool *pool = infer_pool_create(2);
    char *buffer = infer_huge_pages_alloc(PROBE_BYTES);
    if (!pool || !buffer) return 1;
    memset(buffer, 1, PROBE_BYTES);
    for (int r = 0; r < rounds; r++) {
        double gbs = read_bandwidth(pool, buffer, PROBE_BYTES, 1);
        printf("round %3d: probe %5.1f GB/s (2 threads), line round trip %5.0f ns\n", r, gbs, round_trip_ns());
        fflush(stdout);
    }
    infer_huge_pages_free(buffer, PROBE_BYTES);
    infer_pool_destroy(pool);
    return 0;
}
