// Software prefetch of the weights of generation's matrix-vector products.
//
// Every weight is read once per token, from memory: far more than the caches hold. The
// hardware prefetcher alone runs too little ahead of a kernel that also has work to do per
// byte (unpacking nibbles, say), and the core then waits on memory part of the time. So
// each step of a kernel's loop asks for the lines a fixed distance ahead of what it reads,
// a few per step, spread along the row (a burst of prefetches per row measured slower).
// Measured on Zen 4 with kernel-bench and infer bench: it speeds up the 4- and 5-bit
// 32-element types (q4_0 by 15% in tg), slows down the kernels that already stream at the
// memory limit (f32, f16, q8_0: by up to half), and leaves the K-quants unchanged; so only
// the first use it.
#ifndef INFER_PREFETCH_H
#define INFER_PREFETCH_H

/// How far ahead: 2-8 KiB measured alike; 0.5-1 KiB too little to help.
#define PREFETCH_DISTANCE 4096

/// Prefetches the cache lines of [p + PREFETCH_DISTANCE, p + PREFETCH_DISTANCE + bytes).
__attribute__((always_inline)) static inline void prefetch_ahead(const void *p, int bytes) {
    const char *q = (const char *)p + PREFETCH_DISTANCE;
    for (int o = 0; o < bytes; o += 64) __builtin_prefetch(q + o);
}

#endif
