// Software prefetch of the weights of generation's matrix-vector products.
//
// Every weight is read once per token, from memory: far more than the caches hold. The
// hardware prefetcher alone runs too little ahead of a kernel that also has work to do per
// byte (unpacking nibbles, say), and the core then waits on memory part of the time. So
// each step of a kernel's loop asks for the lines a fixed distance ahead of what it reads,
// a few per step, spread along the row (spread rather than in a burst per row, so that the
// requests do not queue behind each other). It helps the kernels that do much work per byte,
// the 4- and 5-bit 32-element types; it hinders the kernels that already stream at the memory's
// speed (f32, f16, q8_0), whose extra requests only compete with their loads, and does not
// change the in-place K-quant kernels; so only the first use it. Measurements:
// Benchmarks/README.md, "Design decisions and their measurements".
#ifndef INFER_PREFETCH_H
#define INFER_PREFETCH_H

/// How far ahead: far enough that a line arrives before the kernel reaches it, near enough
/// that it is still in the cache when it does (a range of distances around this one does as well).
#define PREFETCH_DISTANCE 4096

/// Prefetches the cache lines of [p + PREFETCH_DISTANCE, p + PREFETCH_DISTANCE + bytes).
__attribute__((always_inline)) static inline void prefetch_ahead(const void *p, int bytes) {
    const char *q = (const char *)p + PREFETCH_DISTANCE;
    for (int o = 0; o < bytes; o += 64) __builtin_prefetch(q + o);
}

/// The q4_K and q6_K copies' kernels (q4_K_x8.c, q6_K_x8.c) ask for the lines a short distance
/// ahead into L2 only (PREFETCHT2), one per 64 bytes they read. Where each core must stream
/// close to the most one core can read, these kernels, which compute between their loads, fall
/// behind the memory without the requests; a short distance into L2 keeps the lines close
/// without evicting the activation from L1. The q4_0 copy's kernel gains nothing from it and
/// does not use it. Measurements: Benchmarks/README.md, "Design decisions and their measurements".
#define X8_PREFETCH_DISTANCE 384

/// Asks for the lines of [p + X8_PREFETCH_DISTANCE, + bytes) into L2, one per 64 bytes.
__attribute__((always_inline)) static inline void prefetch_x8(const void *p, int bytes) {
    const char *q = (const char *)p + X8_PREFETCH_DISTANCE;
    for (int o = 0; o < bytes; o += 64) __builtin_prefetch(q + o, 0, 1);
}

#endif
