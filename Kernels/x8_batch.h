// The several-activation form of an 8-row interleaved kernel, the same for every type: up to 8
// activations in one pass over the group, so that its weights stream from memory while all of
// them are computed (a second pass would find them in the cache, with the memory idle
// meanwhile). The file that expands it defines VNNI, `SINGLE` (the one-activation kernel) and a
// static `rows_of_k(group, x, k, n, out, at)` that the compiler unrolls for each constant k;
// `VIEW` is the type of one activation as `rows_of_k` reads it, `VIEW_AT(act, n)` makes it.
#ifndef INFER_X8_BATCH_H
#define INFER_X8_BATCH_H

/// An activation that `rows_of_k` reads as it is (a pointer to its blocks).
#define X8_ACT_AS_IS(act, n) (act)

#define X8_DOT8_BATCH(NAME, SINGLE, VIEW, VIEW_AT)                                                         \
    VNNI void NAME(const void *group, const void *const *acts, int count, int n, float *const *out,          \
                   size_t at) {                                                                              \
        for (int v = 0; v < count; v += 8) {                                                                 \
            VIEW x[8];                                                                                       \
            int k = count - v < 8 ? count - v : 8;                                                           \
            for (int j = 0; j < k; j++) x[j] = VIEW_AT(acts[v + j], n);                                      \
            switch (k) { /* each count its own unrolled copy */                                             \
            case 1: SINGLE(group, acts[v], n, out[v] + at); break;                                           \
            case 2: rows_of_k(group, x, 2, n, out + v, at); break;                                           \
            case 3: rows_of_k(group, x, 3, n, out + v, at); break;                                           \
            case 4: rows_of_k(group, x, 4, n, out + v, at); break;                                           \
            case 5: rows_of_k(group, x, 5, n, out + v, at); break;                                           \
            case 6: rows_of_k(group, x, 6, n, out + v, at); break;                                           \
            case 7: rows_of_k(group, x, 7, n, out + v, at); break;                                           \
            default: rows_of_k(group, x, 8, n, out + v, at); break;                                          \
            }                                                                                                \
        }                                                                                                    \
    }

#endif
