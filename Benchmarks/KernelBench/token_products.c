// --token-products THREADS [ROUNDS] [Q4_0 | Q4_K_M]: the matrix-vector products of generated
// tokens of a TinyLlama-shaped model (22 layers; dim 2048, 4 KV heads of 64, ffn 5632, vocab
// 32000) in Q4_0 (every matrix) or Q4_K_M's mix (Q4_K, with V and the down projection in Q6_K
// in every other layer, as llama.cpp's Q4_K_M gives half its layers, and the output in Q6_K),
// in the jobs and order of infer's generation (Q, K and V as one job, O, gate and up as one,
// down; the output matrix last), alternated with the read probe, round after round.
//
// This host's bandwidth moves from minute to minute (a two-thread probe reads 30 to 70 GB/s),
// so a share of the probe means something only against probes taken around the same
// products: each round prints the probe before and after its tokens, and the summary gives
// the median share in each band of probe bandwidth. The products alone: no attention, norms
// or other per-token work, which is what tells the pool's and the kernels' share from the
// rest of a token. Weights are what infer computes with on this CPU: rows interleaved by 8 on
// huge pages with AVX-512 VNNI, rows in place elsewhere.
#include "bench.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LAYERS 22
#define VOCAB 32000
#define TOKENS_PER_ROUND 5

enum { WQ, WK, WV, WO, GATE, UP, DOWN, MATRICES };
static const int shapes[MATRICES][2] = {  // rows, columns
    {2048, 2048}, {256, 2048}, {256, 2048}, {2048, 2048}, {5632, 2048}, {5632, 2048}, {2048, 5632},
};

/// One token's products. x: (5632) activation, y: one (VOCAB) output per matrix.
static void token(infer_pool *pool, owned_matrix (*layers)[MATRICES], owned_matrix *output, const float *x,
                  float *y[MATRICES], void *scratch) {
    for (int l = 0; l < LAYERS; l++) {
        owned_matrix *m = layers[l];
        infer_product qkv[3] = {{&m[WQ].w, x, y[WQ]}, {&m[WK].w, x, y[WK]}, {&m[WV].w, x, y[WV]}};
        infer_matvec(pool, qkv, 3, scratch);
        infer_product o = {&m[WO].w, x, y[WO]};
        infer_matvec(pool, &o, 1, scratch);
        infer_product ffn[2] = {{&m[GATE].w, x, y[GATE]}, {&m[UP].w, x, y[UP]}};
        infer_matvec(pool, ffn, 2, scratch);
        infer_product down = {&m[DOWN].w, x, y[DOWN]};
        infer_matvec(pool, &down, 1, scratch);
    }
    infer_product logits = {&output->w, x, y[WQ]};
    infer_matvec(pool, &logits, 1, scratch);
}

int token_products(int threads, int rounds, const char *mix) {
    if (rounds < 1) rounds = 1;
    int k_mix = strcmp(mix, "Q4_K_M") == 0;
    if (!k_mix && strcmp(mix, "Q4_0") != 0) {
        fprintf(stderr, "--token-products: unknown mix %s (Q4_0 or Q4_K_M)\n", mix);
        return 2;
    }
    infer_pool *pool = infer_pool_create(threads);
    static owned_matrix layers[LAYERS][MATRICES];
    size_t weight_bytes = 0;
    for (int l = 0; l < LAYERS; l++) {
        for (int m = 0; m < MATRICES; m++) {
            infer_type type = !k_mix ? INFER_TYPE_Q4_0
                            : (m == WV || m == DOWN) && l % 2 == 0 ? INFER_TYPE_Q6_K : INFER_TYPE_Q4_K;
            layers[l][m] = make_matrix(type, shapes[m][0], shapes[m][1]);
            weight_bytes += layers[l][m].bytes;
        }
    }
    owned_matrix output = make_matrix(k_mix ? INFER_TYPE_Q6_K : INFER_TYPE_Q4_0, VOCAB, 2048);
    weight_bytes += output.bytes;
    float *x = malloc(5632 * sizeof(float)), *y[MATRICES];
    for (int i = 0; i < 5632; i++) x[i] = (float)(next_random() % 2001) * 1e-3f - 1.0f;
    for (int m = 0; m < MATRICES; m++) y[m] = malloc(VOCAB * sizeof(float));
    void *scratch = aligned_alloc(64, 1 << 20);  // activations of up to 5632 columns, with room
    char *buffer = infer_huge_pages_alloc(PROBE_BYTES);
    if (!pool || !scratch || !buffer) return 1;
    memset(buffer, 1, PROBE_BYTES);

    printf("products of a TinyLlama-shaped %s token%s: %.1f MB of weights; %d threads; %d tokens a round\n", mix,
           output.w.row_bytes == 0 ? " (8 rows interleaved)" : "", weight_bytes / 1e6, threads, TOKENS_PER_ROUND);
    token(pool, layers, &output, x, y, scratch);  // warm-up
    double *probes = malloc((size_t)rounds * sizeof(double)), *shares = malloc((size_t)rounds * sizeof(double));
    for (int r = 0; r < rounds; r++) {
        double before = read_bandwidth(pool, buffer, PROBE_BYTES, 1);
        double t = now();
        for (int k = 0; k < TOKENS_PER_ROUND; k++) token(pool, layers, &output, x, y, scratch);
        double products = (double)weight_bytes * TOKENS_PER_ROUND / (now() - t) / 1e9;
        double after = read_bandwidth(pool, buffer, PROBE_BYTES, 1);
        probes[r] = 0.5 * (before + after);
        shares[r] = products / probes[r];
        printf("round %3d: probe %5.1f GB/s, products %5.1f GB/s, probe %5.1f GB/s: %3.0f%% of the probes' mean\n", r,
               before, products, after, 100 * shares[r]);
    }
    printf("\nmedian share of the probe, by the probes' mean:\n");
    print_band_medians("", probes, shares, rounds);
    free(probes);
    free(shares);
    infer_huge_pages_free(buffer, PROBE_BYTES);
    free(scratch);
    for (int m = 0; m < MATRICES; m++) free(y[m]);
    free(x);
    free_matrix(&output);
    for (int l = 0; l < LAYERS; l++) {
        for (int m = 0; m < MATRICES; m++) free_matrix(&layers[l][m]);
    }
    infer_pool_destroy(pool);
    return 0;
}
