import CKernels

/// Scratch activations for one token's forward pass, allocated once per session.
final class ForwardBuffers {
    let x: UnsafeMutablePointer<Float>          // (dim) residual stream
    let normed: UnsafeMutablePointer<Float>     // (dim) normalized input of a sublayer
    let sublayer: UnsafeMutablePointer<Float>   // (dim) output of a sublayer
    let q: UnsafeMutablePointer<Float>          // (n_heads * head_dim)
    let key: UnsafeMutablePointer<Float>        // (n_kv_heads * head_dim) this position's, before the cache
    let value: UnsafeMutablePointer<Float>      // (n_kv_heads * head_dim)
    let attention: UnsafeMutablePointer<Float>  // (n_heads * head_dim) attention output
    let gate: UnsafeMutablePointer<Float>       // (hidden_dim)
    let up: UnsafeMutablePointer<Float>         // (hidden_dim)
    let scores: UnsafeMutablePointer<Float>     // (n_heads, context) attention weights
    let ropeCos: UnsafeMutablePointer<Float>    // (rope_dim / 2) rotation of this position
    let ropeSin: UnsafeMutablePointer<Float>    // (rope_dim / 2)
    let logits: UnsafeMutablePointer<Float>     // (vocab)
    let partials: UnsafeMutablePointer<Float>   // (column parts, dim) O's or down's parts' outputs
    let dim: Int
    private let all: [UnsafeMutablePointer<Float>]

    init(config c: ModelConfig, context: Int, columnParts: Int = 1) {
        func make(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
            p.initialize(repeating: 0, count: n)
            return p
        }
        x = make(c.dim); normed = make(c.dim); sublayer = make(c.dim)
        q = make(c.qDim); attention = make(c.qDim)
        key = make(c.kvDim); value = make(c.kvDim)
        gate = make(c.hiddenDim); up = make(c.hiddenDim)
        scores = make(c.headCount * context); logits = make(c.vocabularySize)
        ropeCos = make(c.ropeDim / 2); ropeSin = make(c.ropeDim / 2)
        partials = make(columnParts * c.dim)
        dim = c.dim
        all = [x, normed, sublayer, q, key, value, attention, gate, up, scores, logits, ropeCos, ropeSin, partials]
    }

    deinit { for p in all { p.deallocate() } }
}

/// The Llama-family forward pass: embedding, then per block RMSNorm → attention with
/// RoPE over the KV cache → residual, RMSNorm → SwiGLU feed-forward → residual, and a
/// final RMSNorm and output projection to logits.
struct Transformer: Sendable {
    let config: ModelConfig
    let weights: ModelWeights

    /// Runs token `token` at `position`, writing its keys and values into the cache and
    /// the next-token logits into `products.buffers.logits`. Matrix products and attention
    /// run on `pool`'s threads.
    /// With a `decoder`, every thread runs the whole token (`TokenDecoder`): the same logits.
    func forward(token: Int, position pos: Int, cache: KVCache, products: TokenProducts, decoder: TokenDecoder?,
                 pool: ThreadPool) {
        let b = products.buffers
        let c = config
        let headDim = c.headDim
        let neox: Int32 = c.ropeStyle == .neox ? 1 : 0

        weights.tokenEmbedding.dequantizeRow(token, into: b.x)
        // The rotation angles of this position, once for every head of every layer.
        infer_rope_angles(Int32(pos), Int32(c.ropeDim), c.ropeTheta, b.ropeCos, b.ropeSin)
        if let decoder {
            precondition(pos < cache.capacity)
            decoder.run(position: pos, on: pool)
            return
        }
        for (l, layer) in weights.layers.enumerated() {
            // Attention.
            infer_rmsnorm(b.normed, b.x, layer.attentionNorm, Int32(c.dim), c.rmsEpsilon)
            products.run(.qkv, layer: l, on: pool)
            for h in 0..<c.headCount {
                infer_rope_rotate(b.q + h * headDim, Int32(c.ropeDim), b.ropeCos, b.ropeSin, neox)
            }
            for h in 0..<c.kvHeadCount {
                infer_rope_rotate(b.key + h * headDim, Int32(c.ropeDim), b.ropeCos, b.ropeSin, neox)
            }
            cache.store(layer: l, start: pos, count: 1, keys: b.key, values: b.value)
            pool.attention(query: b.q, cache: cache, layer: l, config: c, positionCount: pos + 1,
                           scores: b.scores, into: b.attention)
            products.run(.output, layer: l, on: pool)
            infer_add(b.x, b.sublayer, Int32(c.dim))

            // Feed-forward.
            infer_rmsnorm(b.normed, b.x, layer.ffnNorm, Int32(c.dim), c.rmsEpsilon)
            products.run(.gateUp, layer: l, on: pool)
            infer_swiglu_batch(b.gate, b.up, c.hiddenDim)
            products.run(.down, layer: l, on: pool)
            infer_add(b.x, b.sublayer, Int32(c.dim))
        }
        infer_rmsnorm(b.x, b.x, weights.outputNorm, Int32(c.dim), c.rmsEpsilon)
        products.runLogits(on: pool)
    }
}
