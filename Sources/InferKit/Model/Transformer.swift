import CKernels

/// Scratch activations for one token's forward pass, allocated once per session.
final class ForwardBuffers {
    let x: UnsafeMutablePointer<Float>          // (dim) residual stream
    let normed: UnsafeMutablePointer<Float>     // (dim) normalized input of a sublayer
    let sublayer: UnsafeMutablePointer<Float>   // (dim) output of a sublayer
    let q: UnsafeMutablePointer<Float>          // (n_heads * head_dim)
    let attention: UnsafeMutablePointer<Float>  // (n_heads * head_dim) attention output
    let gate: UnsafeMutablePointer<Float>       // (hidden_dim)
    let up: UnsafeMutablePointer<Float>         // (hidden_dim)
    let scores: UnsafeMutablePointer<Float>     // (n_heads, context) attention weights
    let logits: UnsafeMutablePointer<Float>     // (vocab)
    private let all: [UnsafeMutablePointer<Float>]

    init(config c: ModelConfig, context: Int) {
        func make(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
            p.initialize(repeating: 0, count: n)
            return p
        }
        x = make(c.dim); normed = make(c.dim); sublayer = make(c.dim)
        q = make(c.qDim); attention = make(c.qDim)
        gate = make(c.hiddenDim); up = make(c.hiddenDim)
        scores = make(c.headCount * context); logits = make(c.vocabularySize)
        all = [x, normed, sublayer, q, attention, gate, up, scores, logits]
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
    /// the next-token logits into `buffers.logits`.
    func forward(token: Int, position pos: Int, cache: KVCache, buffers b: ForwardBuffers) {
        let c = config
        let headDim = c.headDim
        let groupSize = c.headCount / c.kvHeadCount
        let scale = 1 / Float(headDim).squareRoot()
        let neox: Int32 = c.ropeStyle == .neox ? 1 : 0

        weights.tokenEmbedding.dequantizeRow(token, into: b.x)
        for (l, layer) in weights.layers.enumerated() {
            // Attention.
            infer_rmsnorm(b.normed, b.x, layer.attentionNorm, Int32(c.dim), c.rmsEpsilon)
            let keyRow = cache.keys(layer: l, position: pos)     // (n_kv_heads * head_dim)
            let valueRow = cache.values(layer: l, position: pos) // (n_kv_heads * head_dim)
            layer.wq.multiply(b.normed, into: b.q)
            layer.wk.multiply(b.normed, into: keyRow)
            layer.wv.multiply(b.normed, into: valueRow)
            for h in 0..<c.headCount {
                infer_rope(b.q + h * headDim, Int32(c.ropeDim), Int32(pos), c.ropeTheta, neox)
            }
            for h in 0..<c.kvHeadCount {
                infer_rope(keyRow + h * headDim, Int32(c.ropeDim), Int32(pos), c.ropeTheta, neox)
            }
            let keys = cache.keys(layer: l), values = cache.values(layer: l)
            for h in 0..<c.headCount {
                let kvHead = h / groupSize
                infer_attention_head(b.q + h * headDim, keys + kvHead * headDim, values + kvHead * headDim,
                                     c.kvDim, Int32(pos + 1), Int32(headDim), scale,
                                     b.scores + h * cache.capacity, b.attention + h * headDim)
            }
            layer.wo.multiply(b.attention, into: b.sublayer)
            infer_add(b.x, b.sublayer, Int32(c.dim))

            // Feed-forward.
            infer_rmsnorm(b.normed, b.x, layer.ffnNorm, Int32(c.dim), c.rmsEpsilon)
            layer.gate.multiply(b.normed, into: b.gate)
            layer.up.multiply(b.normed, into: b.up)
            infer_swiglu(b.gate, b.up, Int32(c.hiddenDim))
            layer.down.multiply(b.gate, into: b.sublayer)
            infer_add(b.x, b.sublayer, Int32(c.dim))
        }
        infer_rmsnorm(b.x, b.x, weights.outputNorm, Int32(c.dim), c.rmsEpsilon)
        weights.output.multiply(b.x, into: b.logits)
    }
}
