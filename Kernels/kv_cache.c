// The KV cache of one layer (include/decode.h): its rows' storage types, where a position's keys
// and values are kept, and which rows a query reads.
#include "decode.h"
#include "batch.h"
#include "blocks.h"
#include <math.h>
#include <string.h>

int infer_cache_type_supported(infer_type type, int head_dim) {
    switch (type) {
    case INFER_TYPE_F32: case INFER_TYPE_F16: return head_dim > 0;
    case INFER_TYPE_Q8_0: return head_dim > 0 && head_dim % QK8_0 == 0;
    default: return 0;
    }
}

size_t infer_cache_row_bytes(infer_type type, int head_dim) {
    switch (type) {
    case INFER_TYPE_F16: return (size_t)head_dim * sizeof(uint16_t);
    case INFER_TYPE_Q8_0: return (size_t)head_dim / QK8_0 * sizeof(block_q8_0);
    default: return (size_t)head_dim * sizeof(float);
    }
}

void infer_cache_row_store(infer_type type, const float *x, void *row, int n) {
    switch (type) {
    case INFER_TYPE_F16:
        for (int i = 0; i < n; i++) ((uint16_t *)row)[i] = infer_fp32_to_fp16(x[i]);
        break;
    case INFER_TYPE_Q8_0:
        for (int b = 0; b < n / QK8_0; b++) {
            const float *v = x + b * QK8_0;
            block_q8_0 *out = (block_q8_0 *)row + b;
            float most = 0;
            for (int i = 0; i < QK8_0; i++) most = fmaxf(most, fabsf(v[i]));
            float d = most / 127.0f, inverse = d > 0 ? 1.0f / d : 0.0f;
            out->d = infer_fp32_to_fp16(d);
            for (int i = 0; i < QK8_0; i++) out->qs[i] = (int8_t)roundf(v[i] * inverse);
        }
        break;
    default:
        memcpy(row, x, (size_t)n * sizeof(float));
        break;
    }
}

void infer_cache_row_widen(infer_type type, const void *row, float *out, int n) {
    switch (type) {
    case INFER_TYPE_F16:
        for (int i = 0; i < n; i++) out[i] = infer_fp16_to_fp32(((const uint16_t *)row)[i]);
        break;
    case INFER_TYPE_Q8_0:
        for (int b = 0; b < n / QK8_0; b++) {
            const block_q8_0 *block = (const block_q8_0 *)row + b;
            float d = infer_fp16_to_fp32(block->d);
            for (int i = 0; i < QK8_0; i++) out[b * QK8_0 + i] = d * (float)block->qs[i];
        }
        break;
    default:
        memcpy(out, row, (size_t)n * sizeof(float));
        break;
    }
}

float infer_cache_row_dot(infer_type type, const float *q, const void *row, int n) {
    if (type == INFER_TYPE_F32) return infer_dot_f32(q, row, n);
    float sum = 0;
    if (type == INFER_TYPE_F16) {
        for (int i = 0; i < n; i++) sum += q[i] * infer_fp16_to_fp32(((const uint16_t *)row)[i]);
        return sum;
    }
    for (int b = 0; b < n / QK8_0; b++) {  // q8_0
        const block_q8_0 *block = (const block_q8_0 *)row + b;
        float d = infer_fp16_to_fp32(block->d);
        for (int i = 0; i < QK8_0; i++) sum += q[b * QK8_0 + i] * (d * (float)block->qs[i]);
    }
    return sum;
}

void infer_cache_row_add(infer_type type, float a, const void *row, float *out, int n) {
    switch (type) {
    case INFER_TYPE_F16:
        for (int i = 0; i < n; i++) out[i] += a * infer_fp16_to_fp32(((const uint16_t *)row)[i]);
        break;
    case INFER_TYPE_Q8_0:
        for (int b = 0; b < n / QK8_0; b++) {
            const block_q8_0 *block = (const block_q8_0 *)row + b;
            float d = infer_fp16_to_fp32(block->d);
            for (int i = 0; i < QK8_0; i++) out[b * QK8_0 + i] += a * (d * (float)block->qs[i]);
        }
        break;
    default:
        for (int i = 0; i < n; i++) out[i] += a * ((const float *)row)[i];
        break;
    }
}

void infer_cache_store(const infer_cache_layer *c, int kv_heads, int head_dim, int pos, const float *k, const float *v) {
    int row = pos % c->ring;
    for (int j = 0; j < kv_heads; j++) {
        size_t at = ((size_t)j * c->slots + row) * c->row_bytes;
        char *keys = (char *)c->keys + at, *values = (char *)c->values + at;
        infer_cache_row_store(c->type, k + (size_t)j * head_dim, keys, head_dim);
        infer_cache_row_store(c->type, v + (size_t)j * head_dim, values, head_dim);
        if (c->slots == 2 * c->ring) {  // the mirror row
            size_t mirror = (size_t)c->ring * c->row_bytes;
            memcpy(keys + mirror, keys, c->row_bytes);
            memcpy(values + mirror, values, c->row_bytes);
        }
    }
}

void infer_cache_move(const infer_cache_layer *c, int kv_heads, int head_dim, const int *from, const int *to, int count,
                      int rope_dim, int neox, const float *cos, const float *sin, void *scratch) {
    char *gathered = scratch;
    float *key = (float *)(gathered + (size_t)(2 * count) * c->row_bytes);
    for (int j = 0; j < kv_heads; j++) {
        size_t head = (size_t)j * c->slots * c->row_bytes;
        char *keys = (char *)c->keys + head, *values = (char *)c->values + head;
        for (int i = 0; i < count; i++) {
            size_t at = (size_t)(from[i] % c->ring) * c->row_bytes;
            memcpy(gathered + (size_t)(2 * i) * c->row_bytes, keys + at, c->row_bytes);
            memcpy(gathered + (size_t)(2 * i + 1) * c->row_bytes, values + at, c->row_bytes);
        }
        for (int i = 0; i < count; i++) {
            const char *k = gathered + (size_t)(2 * i) * c->row_bytes, *v = k + c->row_bytes;
            size_t at = (size_t)(to[i] % c->ring) * c->row_bytes;
            if (from[i] != to[i]) {
                infer_cache_row_widen(c->type, k, key, head_dim);
                infer_rope_rotate(key, rope_dim, cos, sin, neox);
                infer_cache_row_store(c->type, key, keys + at, head_dim);
            } else {
                memcpy(keys + at, k, c->row_bytes);
            }
            memcpy(values + at, v, c->row_bytes);
            if (c->slots == 2 * c->ring) {
                size_t mirror = (size_t)c->ring * c->row_bytes;
                memcpy(keys + at + mirror, keys + at, c->row_bytes);
                memcpy(values + at + mirror, values + at, c->row_bytes);
            }
        }
    }
}

int infer_cache_first(const infer_cache_layer *c, int pos, int *row) {
    int first = c->window > 0 && pos + 1 > c->window ? pos + 1 - c->window : 0;
    *row = first % c->ring;
    return first;
}
