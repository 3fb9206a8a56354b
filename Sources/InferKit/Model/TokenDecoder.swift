import CKernels

/// A session's forward pass of one token with all of its threads running the whole token,
/// tensor parallel (`infer_decode`, Kernels/decode.c): thread t computes the Q, K and V rows
/// and the attention of its KV heads, O's column part t, its share of gate's and up's rows and
/// down's column part t over them, preparing the activations it reads itself, with two
/// barriers a layer instead of the ~110 jobs a token the caller hands out
/// (`Transformer.forward`). The same logits, bit for bit: the jobs read the same column parts
/// and sum them in the same order. Built only where the model keeps O and down in as many
/// column parts as the pool has threads and the pool can run it (`infer_decode_supported`).
final class TokenDecoder {
    private var decoder: infer_decoder
    private let layers: UnsafeMutablePointer<infer_decoder_layer>  // (layers)
    private let matrices: UnsafeMutablePointer<infer_matrix>       // (layers * perLayer + 1); the last: output
    private let norms: UnsafeMutablePointer<Float>                 // (layers * 2 + 1, dim)
    private let scratch: UnsafeMutableRawPointer

    /// The decoder of `weights` over a session's cache and buffers on `pool`'s threads, or nil
    /// where it cannot run (one thread, O and down not in a column part per thread, more
    /// threads than cores, …). Valid while they are.
    init?(weights: ModelWeights, config c: ModelConfig, cache: KVCache, buffers b: ForwardBuffers, pool: ThreadPool) {
        let threads = pool.threadCount
        guard threads > 1, weights.layers.allSatisfy({ $0.wo.columnParts.count == threads }) else { return nil }
        let layerCount = weights.layers.count
        // wq, wk, wv, gate, up, then O's parts and down's parts.
        let perLayer = 5 + 2 * threads
        layers = .allocate(capacity: layerCount)
        matrices = .allocate(capacity: layerCount * perLayer + 1)
        norms = .allocate(capacity: (layerCount * 2 + 1) * c.dim)
        let norms = norms
        func norm(_ index: Int, _ values: [Float]) -> UnsafePointer<Float> {
            let p = norms + index * c.dim
            p.initialize(from: values, count: c.dim)
            return UnsafePointer(p)
        }
        for (l, layer) in weights.layers.enumerated() {
            let m = matrices + l * perLayer
            let all = [layer.wq, layer.wk, layer.wv, layer.gate, layer.up] + layer.wo.columnParts + layer.down.columnParts
            for (i, w) in all.enumerated() { (m + i).initialize(to: w.descriptor) }
            (layers + l).initialize(to: infer_decoder_layer(
                wq: m, wk: m + 1, wv: m + 2, gate: m + 3, up: m + 4, wo_parts: m + 5, down_parts: m + 5 + threads,
                attention_norm: norm(2 * l, layer.attentionNorm), ffn_norm: norm(2 * l + 1, layer.ffnNorm),
                keys: cache.keys(layer: l), values: cache.values(layer: l)))
        }
        let output = matrices + layerCount * perLayer
        output.initialize(to: weights.output.descriptor)
        decoder = infer_decoder(
            layer_count: Int32(layerCount), dim: Int32(c.dim), heads: Int32(c.headCount), kv_heads: Int32(c.kvHeadCount),
            head_dim: Int32(c.headDim), hidden: Int32(c.hiddenDim), rope_dim: Int32(c.ropeDim),
            neox: c.ropeStyle == .neox ? 1 : 0, capacity: Int32(cache.capacity), parts: Int32(threads),
            rms_epsilon: c.rmsEpsilon, attention_scale: 1 / Float(c.headDim).squareRoot(), layers: layers,
            output_norm: norm(2 * layerCount, weights.outputNorm), output: output,
            x: b.x, q: b.q, attention: b.attention, key: b.key, value: b.value,
            gate: b.gate, up: b.up, scores: b.scores, rope_cos: b.ropeCos, rope_sin: b.ropeSin, logits: b.logits,
            scratch: nil, scratch_bytes: 0)
        decoder.scratch_bytes = infer_decode_scratch_bytes(&decoder)
        scratch = .allocate(byteCount: max(64, decoder.scratch_bytes * threads), alignment: 64)
        decoder.scratch = scratch
        guard pool.canDecode(&decoder) else { return nil }
    }

    deinit {
        layers.deallocate()
        matrices.deallocate()
        norms.deallocate()
        scratch.deallocate()
    }

    /// Runs the token whose embedding is in the buffers' x, at `position`, with the rotation
    /// of that position in the buffers: its keys and values into the cache, the logits into
    /// the buffers' logits (and the normed last hidden state into x).
    func run(position: Int, on pool: ThreadPool) {
        pool.decode(&decoder, position: position)
    }
}
