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

/// The q4_K and q6_K copies' kernels (q4_K_x8.c, q6_K_x8.c) ask for the lines a short distance
/// ahead into L2 only (PREFETCHT2), one per 64 bytes they read. With two threads in this host's
/// fast minutes each core must stream ~34 GB/s, the most one core reads at all, and these
/// kernels, which compute between their loads, fell behind: measured in those minutes, one
/// 256 MiB q4_K matrix streamed 82-85% of the read probe without, 91-94% with 256-512 bytes
/// (1 KiB: 91%; PREFETCHT0 or NTA, or a burst per block 4-8 KiB ahead: no better or much
/// slower), and a Q4_K_M token's products 83.5% without, 86.3% with; no change in slow minutes.
/// The q4_0 copy's kernel gained nothing from it (a Q4_0 token's products 85.6% and 85.5%).
#define X8_PREFETCH_DISTANCE 384

/// Asks for the lines of [p + X8_PREFETCH_DISTANCE, + bytes) into L2, one per 64 bytes.
__attribute__((always_inline)) static inline void prefetch_x8(const void *p, int bytes) {
    const char *q = (const char *)p + X8_PREFETCH_DISTANCE;
    for (int o = 0; o < bytes; o += 64) __builtin_prefetch(q + o, 0, 1);
}

#endif
