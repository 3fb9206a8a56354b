// The KV cache of one layer (include/decode.h): where a position's keys and values are kept,
// and which rows a query reads.
#include "decode.h"
#include <string.h>

void infer_cache_store(const infer_cache_layer *c, int kv_heads, int head_dim, int pos, const float *k, const float *v) {
    int row = pos % c->ring;
    size_t bytes = (size_t)head_dim * sizeof(float);
    for (int j = 0; j < kv_heads; j++) {
        size_t at = ((size_t)j * c->slots + row) * head_dim;
        memcpy(c->keys + at, k + (size_t)j * head_dim, bytes);
        memcpy(c->values + at, v + (size_t)j * head_dim, bytes);
        if (c->slots == 2 * c->ring) {  // the mirror row
            memcpy(c->keys + at + (size_t)c->ring * head_dim, k + (size_t)j * head_dim, bytes);
            memcpy(c->values + at + (size_t)c->ring * head_dim, v + (size_t)j * head_dim, bytes);
        }
    }
}

int infer_cache_first(const infer_cache_layer *c, int pos, int *row) {
    int first = c->window > 0 && pos + 1 > c->window ? pos + 1 - c->window : 0;
    *row = first % c->ring;
    return first;
}
