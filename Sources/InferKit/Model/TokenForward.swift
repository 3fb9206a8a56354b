import CKernels

/// Generation's forward pass of one token per sequence, for up to `capacity` sequences at once
/// (a session's own: one; a batched step over several sessions: more): the model's blocks laid
/// out once for `infer_decode` (Kernels/decode.c), which runs the tokens on all of the pool's
/// threads together, reading every weight once for all of them. The one-token path of every
/// family: what a block computes comes from the model's `BlockDescription` and weights, never
/// from code written for a family.
final class TokenForward {
    let buffers: ForwardBuffers
    /// Sequences one run takes at most.
    var capacity: Int { buffers.capacity }
    /// The most positions a query of a sequence may attend to (the longest cache it may run over).
    let context: Int
    private var decoder: infer_decoder
    private let blocks: UnsafeMutablePointer<infer_block>     // (layers)
    private let matrices: UnsafeMutablePointer<infer_matrix>  // every block's, then the output
    private let vectors: UnsafeMutablePointer<Float>          // every norm and bias, copied
    private let scratch: UnsafeMutableRawPointer
    private let weights: ModelWeights
    private let config: ModelConfig
    private let sequences: UnsafeMutablePointer<infer_sequence>  // (capacity) a run's

    /// The forward pass of `weights` for up to `capacity` sequences (at most
    /// `TokenForward.maxCapacity`) whose caches hold at most `context` positions, on a pool of
    /// `threads` threads; valid while the weights are.
    init(weights: ModelWeights, config c: ModelConfig, context: Int, capacity: Int = 1, threads: Int) {
        precondition(capacity >= 1 && capacity <= Self.maxCapacity)
        self.weights = weights
        config = c
        self.context = context
        let parts = weights.layers.flatMap { [$0.wo.columnParts.count, $0.down.columnParts.count] }.max() ?? 0
        let b = ForwardBuffers(config: c, context: context, columnParts: max(1, parts), capacity: capacity)
        buffers = b
        sequences = .allocate(capacity: capacity)

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
                rope: Int32(c.layers[l].rotation)))
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
            capacity: Int32(capacity), x: b.x, q: b.q, attention: b.attention, key: b.key, value: b.value,
            gate: b.gate, up: b.up, scores: b.scores, scores_stride: context,
            attention_partials: b.attentionPartials, ffn_partials: b.ffnPartials, scratch: nil, scratch_bytes: 0)
        decoder.scratch_bytes = infer_decode_scratch_bytes(&decoder)
        scratch = .allocate(byteCount: max(64, decoder.scratch_bytes * threads), alignment: 64)
        decoder.scratch = scratch
    }

    deinit {
        blocks.deallocate()
        matrices.deallocate()
        vectors.deallocate()
        scratch.deallocate()
        sequences.deallocate()
    }

    /// Most sequences a forward pass takes at once.
    static let maxCapacity = Int(INFER_DECODE_MAX_SEQUENCES)

    /// One sequence's token in a run.
    struct Entry {
        let token: Int
        let position: Int
        let cache: KVCache
        let rotary: RotaryAngles
        /// Where the next-token logits go (vocab floats).
        let logits: UnsafeMutablePointer<Float>
    }

    /// Runs token `token` at `position` of the sequence in `cache`: its keys and values into the
    /// cache, the next-token logits into `buffers.logits` (and the normed last hidden state into
    /// `buffers.x`).
    func run(token: Int, position: Int, cache: KVCache, rotary: RotaryAngles, on pool: ThreadPool) {
        run([Entry(token: token, position: position, cache: cache, rotary: rotary, logits: buffers.logits)], on: pool)
    }

    /// Runs each entry's token (at most `capacity`) in one pass over the weights: its keys and
    /// values into its cache, its logits where it says (the normed last hidden states into rows of
    /// `buffers.x`). Each entry's results are what it would get alone, bit for bit.
    func run(_ entries: [Entry], on pool: ThreadPool) {
        precondition(!entries.isEmpty && entries.count <= capacity)
        let b = buffers, rotations = b.rotationFloats
        for (s, entry) in entries.enumerated() {
            precondition(entry.cache.capacity <= context)
            let x = b.x + s * config.dim
            weights.tokenEmbedding.dequantizeRow(entry.token, into: x)
            if config.block.embeddingScale != 1 { scale(x, config.dim, by: config.block.embeddingScale) }
            entry.rotary.write(position: entry.position, cosines: b.ropeCos + s * rotations, sines: b.ropeSin + s * rotations)
            (sequences + s).initialize(to: infer_sequence(
                caches: entry.cache.layerTable, pos: Int32(entry.position), rope_cos: b.ropeCos + s * rotations,
                rope_sin: b.ropeSin + s * rotations, logits: entry.logits))
        }
        pool.decode(&decoder, sequences: sequences, count: entries.count)
    }
}

/// x[0..<n] *= factor.
func scale(_ x: UnsafeMutablePointer<Float>, _ n: Int, by factor: Float) {
    for i in 0..<n { x[i] *= factor }
}
