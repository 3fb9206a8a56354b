import CKernels

/// Generation's forward pass of one token over a session's cache and buffers: the model's blocks
/// laid out once for `infer_decode` (Kernels/decode.c), which runs each token on all of the pool's
/// threads together. The one-token path of every family: what a block computes comes from the
/// model's `BlockDescription` and weights, never from code written for a family.
final class TokenForward {
    let buffers: ForwardBuffers
    private var decoder: infer_decoder
    private let blocks: UnsafeMutablePointer<infer_block>     // (layers)
    private let matrices: UnsafeMutablePointer<infer_matrix>  // every block's, then the output
    private let vectors: UnsafeMutablePointer<Float>          // every norm and bias, copied
    private let scratch: UnsafeMutableRawPointer
    private let weights: ModelWeights
    private let config: ModelConfig
    /// The rotations of this session's positions (the batched pass uses them too).
    let rotary: RotaryAngles

    /// The forward pass of `weights` over `cache`, for a pool of `threads` threads; valid while
    /// the weights and the cache are.
    init(weights: ModelWeights, config c: ModelConfig, cache: KVCache, threads: Int) {
        self.weights = weights
        config = c
        rotary = RotaryAngles(rope: c.block.rope, contextLength: cache.capacity)
        let parts = weights.layers.flatMap { [$0.wo.columnParts.count, $0.down.columnParts.count] }.max() ?? 0
        let b = ForwardBuffers(config: c, context: cache.capacity, columnParts: max(1, parts))
        buffers = b

        let perLayer = 5 + 2 * max(1, parts)
        matrices = .allocate(capacity: weights.layers.count * perLayer + 1)
        let vectorCount = weights.layers.reduce(weights.outputNorm.count) { $0 + $1.vectors.reduce(0) { $0 + $1.count } }
        vectors = .allocate(capacity: max(1, vectorCount))
        blocks = .allocate(capacity: max(1, weights.layers.count))
        var nextVector = vectors
        func copy(_ values: [Float]?) -> UnsafePointer<Float>? {
            guard let values else { return nil }
            let p = nextVector
            p.initialize(from: values, count: values.count)
            nextVector += values.count
            return UnsafePointer(p)
        }
        var nextMatrix = matrices
        func add(_ ms: [WeightMatrix]) -> UnsafePointer<infer_matrix> {
            let first = nextMatrix
            for m in ms {
                nextMatrix.initialize(to: m.descriptor)
                nextMatrix += 1
            }
            return UnsafePointer(first)
        }
        func partsOf(_ m: WeightMatrix) -> [WeightMatrix] { m.columnParts.isEmpty ? [m] : m.columnParts }
        for (l, layer) in weights.layers.enumerated() {
            let wo = partsOf(layer.wo), down = partsOf(layer.down)
            (blocks + l).initialize(to: infer_block(
                wq: add([layer.wq]), wk: add([layer.wk]), wv: add([layer.wv]), gate: add([layer.gate]), up: add([layer.up]),
                wo_parts: add(wo), down_parts: add(down), wo_part_count: Int32(wo.count), down_part_count: Int32(down.count),
                q_bias: copy(layer.qBias), k_bias: copy(layer.kBias), v_bias: copy(layer.vBias),
                q_norm: copy(layer.qNorm), k_norm: copy(layer.kNorm),
                attention_norm: copy(layer.attentionNorm), ffn_norm: copy(layer.ffnNorm),
                post_attention_norm: copy(layer.postAttentionNorm), post_ffn_norm: copy(layer.postFFNNorm),
                cache: cache.layers[l], rope: Int32(c.layers[l].rotation)))
        }
        let block = c.block
        decoder = infer_decoder(
            layer_count: Int32(weights.layers.count), dim: Int32(c.dim), heads: Int32(c.headCount),
            kv_heads: Int32(c.kvHeadCount), head_dim: Int32(c.headDim), hidden: Int32(c.hiddenDim),
            rope_dim: Int32(c.ropeDim), neox: block.rope.style == .neox ? 1 : 0,
            activation: block.activation == .geglu ? INFER_ACTIVATION_GELU_TANH : INFER_ACTIVATION_SILU,
            rms_epsilon: c.rmsEpsilon, attention_scale: block.attentionScale,
            attention_soft_cap: block.attentionSoftCap ?? 0, logit_soft_cap: block.finalLogitSoftCap ?? 0,
            layers: blocks, output_norm: copy(weights.outputNorm), output: add([weights.output]),
            x: b.x, q: b.q, attention: b.attention, key: b.key, value: b.value, gate: b.gate, up: b.up,
            scores: b.scores, scores_stride: cache.capacity,
            attention_partials: b.attentionPartials, ffn_partials: b.ffnPartials,
            rope_cos: b.ropeCos, rope_sin: b.ropeSin, logits: b.logits, scratch: nil, scratch_bytes: 0)
        decoder.scratch_bytes = infer_decode_scratch_bytes(&decoder)
        scratch = .allocate(byteCount: max(64, decoder.scratch_bytes * threads), alignment: 64)
        decoder.scratch = scratch
    }

    deinit {
        blocks.deallocate()
        matrices.deallocate()
        vectors.deallocate()
        scratch.deallocate()
    }

    /// Runs token `token` at `position`: its keys and values into the cache, the next-token
    /// logits into `buffers.logits` (and the normed last hidden state into `buffers.x`).
    func run(token: Int, position: Int, on pool: ThreadPool) {
        let b = buffers
        weights.tokenEmbedding.dequantizeRow(token, into: b.x)
        if config.block.embeddingScale != 1 { scale(b.x, config.dim, by: config.block.embeddingScale) }
        rotary.write(position: position, cosines: b.ropeCos, sines: b.ropeSin)
        pool.decode(&decoder, position: position)
    }
}

/// x[0..<n] *= factor.
func scale(_ x: UnsafeMutablePointer<Float>, _ n: Int, by factor: Float) {
    for i in 0..<n { x[i] *= factor }
}
