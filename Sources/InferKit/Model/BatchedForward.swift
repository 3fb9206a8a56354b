import CKernels

/// Scratch activations for a batch of prompt tokens, grown to the largest batch a session
/// has processed (so a short prompt costs little memory).
final class BatchBuffers {
    private let config: ModelConfig
    /// Tokens the buffers hold.
    private(set) var capacity = 0
    private(set) var x: UnsafeMutablePointer<Float>!          // (n_tokens, dim) residual stream
    private(set) var normed: UnsafeMutablePointer<Float>!     // (n_tokens, dim)
    private(set) var sublayer: UnsafeMutablePointer<Float>!   // (n_tokens, dim)
    private(set) var q: UnsafeMutablePointer<Float>!          // (n_tokens, n_heads * head_dim)
    private(set) var key: UnsafeMutablePointer<Float>!        // (n_tokens, n_kv_heads * head_dim) before the cache
    private(set) var value: UnsafeMutablePointer<Float>!      // (n_tokens, n_kv_heads * head_dim)
    private(set) var attention: UnsafeMutablePointer<Float>!  // (n_tokens, n_heads * head_dim)
    private(set) var gate: UnsafeMutablePointer<Float>!       // (n_tokens, hidden_dim)
    private(set) var up: UnsafeMutablePointer<Float>!         // (n_tokens, hidden_dim)
    private(set) var ropeCos: UnsafeMutablePointer<Float>!    // (n_tokens, rotations, rope_dim / 2)
    private(set) var ropeSin: UnsafeMutablePointer<Float>!    // (n_tokens, rotations, rope_dim / 2)
    /// Per thread: the queries of one KV head's query heads for a block of tokens, stacked
    /// (group * attention block, head_dim), their outputs (group * attention block, head_dim),
    /// their scores (group * attention block, context), and keys and values widened from the
    /// cache (context, head_dim) each.
    let attentionScratch: UnsafeMutablePointer<Float>
    let attentionScratchPerThread: Int
    /// Positions the cache holds.
    let context: Int
    /// (rows, vocab) next-token scores of the tokens that asked for them.
    private(set) var logits: UnsafeMutablePointer<Float>?
    private(set) var logitRows = 0
    /// Where quantized weight tiles are widened to f32.
    let tiles = WeightTileScratch()
    private let threads: Int

    /// Queries whose attention is computed together: a block sees positions up to its last
    /// query, so the causal mask wastes at most a block's worth of columns.
    static let attentionBlock = 64
    init(config c: ModelConfig, context: Int, threads: Int) {
        config = c
        self.threads = threads
        let stacked = c.headCount / c.kvHeadCount * Self.attentionBlock
        self.context = context
        attentionScratchPerThread = stacked * (context + 2 * c.headDim) + 2 * context * c.headDim
        attentionScratch = .allocate(capacity: threads * attentionScratchPerThread)
    }

    deinit {
        release()
        attentionScratch.deallocate()
        logits?.deallocate()
    }

    /// Makes room for `count` tokens.
    func reserve(tokens count: Int) {
        guard count > capacity else { return }
        release()
        let c = config
        x = .allocate(capacity: count * c.dim)
        normed = .allocate(capacity: count * c.dim)
        sublayer = .allocate(capacity: count * c.dim)
        q = .allocate(capacity: count * c.qDim)
        key = .allocate(capacity: count * c.kvDim)
        value = .allocate(capacity: count * c.kvDim)
        attention = .allocate(capacity: count * c.qDim)
        gate = .allocate(capacity: count * c.hiddenDim)
        up = .allocate(capacity: count * c.hiddenDim)
        let rotations = c.block.rope.rotations.count * c.ropeDim / 2
        ropeCos = .allocate(capacity: count * rotations)
        ropeSin = .allocate(capacity: count * rotations)
        capacity = count
        tiles.reserve(WeightMatrix.scratchFloats(tokens: count, widest: max(c.dim, c.hiddenDim, c.qDim),
                                                 dim: c.dim, threads: threads))
    }

    /// Makes room for `rows` rows of logits.
    func reserve(logitRows rows: Int) {
        guard rows > logitRows else { return }
        logits?.deallocate()
        logits = .allocate(capacity: rows * config.vocabularySize)
        logitRows = rows
    }

    private func release() {
        guard capacity > 0 else { return }
        for p in [x, normed, sublayer, q, key, value, attention, gate, up, ropeCos, ropeSin] { p!.deallocate() }
        capacity = 0
    }
}

extension Transformer {
    /// Runs `tokens` at positions `start`, `start + 1`, ... in one pass: every weight
    /// matrix multiplies the whole batch at once (a matrix–matrix product), and each token
    /// attends causally to the cache and the tokens before it in the batch (within its layer's
    /// window). Writes the batch's keys and values into the cache and, for the batch rows
    /// `logitRows`, the next-token logits to `logits` (one row of vocab floats each, in order).
    /// `buffers` must hold `tokens.count` tokens and `logitRows.count` logit rows.
    func forward(batch tokens: ArraySlice<Int>, start: Int, cache: KVCache, rotary: RotaryAngles, buffers b: BatchBuffers,
                 threads: Int, logitRows: Range<Int>, into logits: UnsafeMutablePointer<Float>) {
        let c = config, block = c.block
        let n = tokens.count
        let rotations = rotary.count * rotary.pairs
        let neox: Int32 = block.rope.style == .neox ? 1 : 0
        for (i, token) in tokens.enumerated() {
            weights.tokenEmbedding.dequantizeRow(token, into: b.x + i * c.dim)
            if block.embeddingScale != 1 { scale(b.x + i * c.dim, c.dim, by: block.embeddingScale) }
            rotary.write(position: start + i, cosines: b.ropeCos + i * rotations, sines: b.ropeSin + i * rotations)
        }
        func project(_ w: WeightMatrix, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, yStride: Int) {
            w.multiply(batch: x, count: n, xStride: w.cols, into: y, yStride: yStride, scratch: b.tiles, threads: threads)
        }
        // The per-token steps, split among the threads by tokens.
        let parts = min(threads, max(1, n / 16))
        func eachToken(_ body: (Int) -> Void) {
            parallelFor(parts) { p in
                for i in (n * p / parts)..<(n * (p + 1) / parts) { body(i) }
            }
        }
        /// Each head of a row: bias added (where the block has one), RMS-normed (where it has a norm),
        /// rotated.
        func prepareHeads(_ rows: UnsafeMutablePointer<Float>, heads: Int, bias: [Float]?, norm: [Float]?, rotation: Int) {
            let width = heads * c.headDim, d = Int32(c.headDim)
            eachToken { i in
                let row = rows + i * width
                if let bias { infer_add(row, bias, Int32(width)) }
                let cosines = b.ropeCos + i * rotations + rotation * rotary.pairs
                let sines = b.ropeSin + i * rotations + rotation * rotary.pairs
                for h in 0..<heads {
                    let head = row + h * c.headDim
                    if let norm { infer_rmsnorm(head, head, norm, d, c.rmsEpsilon) }
                    infer_rope_rotate(head, Int32(c.ropeDim), cosines, sines, neox)
                }
            }
        }
        /// x += the sublayer output in b.sublayer, normed first where the block has a post-norm.
        func addSublayer(postNorm: [Float]?) {
            eachToken { i in
                let out = b.sublayer + i * c.dim
                if let postNorm { infer_rmsnorm(out, out, postNorm, Int32(c.dim), c.rmsEpsilon) }
                infer_add(b.x + i * c.dim, out, Int32(c.dim))
            }
        }

        for (l, layer) in weights.layers.enumerated() {
            let rotation = c.layers[l].rotation
            // Attention: queries, keys and values into the buffers, keys and values then into the cache.
            eachToken { i in
                infer_rmsnorm(b.normed + i * c.dim, b.x + i * c.dim, layer.attentionNorm, Int32(c.dim), c.rmsEpsilon)
            }
            project(layer.wq, b.normed, into: b.q, yStride: c.qDim)
            project(layer.wk, b.normed, into: b.key, yStride: c.kvDim)
            project(layer.wv, b.normed, into: b.value, yStride: c.kvDim)
            prepareHeads(b.q, heads: c.headCount, bias: layer.qBias, norm: layer.qNorm, rotation: rotation)
            prepareHeads(b.key, heads: c.kvHeadCount, bias: layer.kBias, norm: layer.kNorm, rotation: rotation)
            if let bias = layer.vBias {
                eachToken { i in infer_add(b.value + i * c.kvDim, bias, Int32(c.kvDim)) }
            }
            cache.store(layer: l, start: start, count: n, keys: b.key, values: b.value)
            causalAttention(count: n, start: start, cache: cache, layer: l, buffers: b, threads: threads)
            project(layer.wo, b.attention, into: b.sublayer, yStride: c.dim)
            addSublayer(postNorm: layer.postAttentionNorm)

            // Feed-forward.
            eachToken { i in
                infer_rmsnorm(b.normed + i * c.dim, b.x + i * c.dim, layer.ffnNorm, Int32(c.dim), c.rmsEpsilon)
            }
            project(layer.gate, b.normed, into: b.gate, yStride: c.hiddenDim)
            project(layer.up, b.normed, into: b.up, yStride: c.hiddenDim)
            let activation = block.activation == .geglu ? INFER_ACTIVATION_GELU_TANH : INFER_ACTIVATION_SILU
            eachToken { i in infer_gated_activation(activation, b.gate + i * c.hiddenDim, b.up + i * c.hiddenDim, c.hiddenDim) }
            project(layer.down, b.gate, into: b.sublayer, yStride: c.dim)
            addSublayer(postNorm: layer.postFFNNorm)
        }

        guard !logitRows.isEmpty else { return }
        for (row, i) in logitRows.enumerated() {
            infer_rmsnorm(b.normed + row * c.dim, b.x + i * c.dim, weights.outputNorm, Int32(c.dim), c.rmsEpsilon)
        }
        weights.output.multiply(batch: b.normed, count: logitRows.count, xStride: c.dim,
                                into: logits, yStride: c.vocabularySize, scratch: b.tiles, threads: threads)
        if let cap = block.finalLogitSoftCap {
            infer_soft_cap(logits, logitRows.count * c.vocabularySize, cap)
        }
    }

    /// b.attention (n, n_heads * head_dim) = softmax(scale · q kᵀ) v per head, where batch row i
    /// (position start + i) sees the cached positions its layer's window keeps of [0, start + i].
    /// The query heads that share a KV head are stacked into one product (grouped-query
    /// attention makes them several times taller, which BLAS runs faster); the KV heads are split
    /// among `threads` threads.
    private func causalAttention(count n: Int, start: Int, cache: KVCache, layer: Int, buffers b: BatchBuffers,
                                 threads: Int) {
        let c = config
        let group = c.headCount / c.kvHeadCount, d = c.headDim
        let scale = c.block.attentionScale, softCap = c.block.attentionSoftCap
        // Work items: (KV head, block of queries), in ranges per thread.
        let blocks = (n + BatchBuffers.attentionBlock - 1) / BatchBuffers.attentionBlock
        let items = c.kvHeadCount * blocks
        let parts = min(threads, items)
        parallelFor(parts) { p in
            let stackedQueries = b.attentionScratch + p * b.attentionScratchPerThread
            let stackedOutputs = stackedQueries + group * BatchBuffers.attentionBlock * d
            let scores = stackedOutputs + group * BatchBuffers.attentionBlock * d
            // Where a cache of f16 or q8_0 rows is widened for BLAS: (context, head_dim) each.
            let wideKeys = scores + group * BatchBuffers.attentionBlock * b.context
            let wideValues = wideKeys + b.context * d
            for item in (items * p / parts)..<(items * (p + 1) / parts) {
                let kvHead = item / blocks, i0 = item % blocks * BatchBuffers.attentionBlock
                do {
                    let rows = min(BatchBuffers.attentionBlock, n - i0)
                    // The block's queries read the rows of positions [first, last]: from the first
                    // its first query sees to the block's last.
                    let (first, row) = cache.firstAttended(layer: layer, byQueryAt: start + i0)
                    let seen = start + i0 + rows - first
                    // (position, head_dim)
                    let (headKeys, headValues) = cache.rowsAsFloats(layer: layer, head: kvHead, row: row, count: seen,
                                                                    keys: wideKeys, values: wideValues)
                    // Stacked row g * rows + r is query head kvHead * group + g of token i0 + r.
                    for g in 0..<group {
                        let head = (kvHead * group + g) * d
                        for r in 0..<rows {
                            let query = UnsafePointer(b.q + (i0 + r) * c.qDim + head)
                            (stackedQueries + (g * rows + r) * d).update(from: query, count: d)
                        }
                    }
                    // scores (group * rows, seen) = queries (group * rows, head_dim) · keysᵀ
                    BLAS.multiplyTransposed(m: group * rows, n: seen, k: d, alpha: scale, a: stackedQueries, lda: d,
                                            b: headKeys, ldb: d, c: scores, ldc: seen)
                    for g in 0..<group {
                        for r in 0..<rows {
                            // Query i0 + r sees the positions [its own first, start + i0 + r].
                            let own = cache.firstAttended(layer: layer, byQueryAt: start + i0 + r).position - first
                            let valid = start + i0 + r + 1 - first
                            let line = scores + (g * rows + r) * seen
                            if let softCap { infer_soft_cap(line + own, valid - own, softCap) }
                            for j in 0..<own { line[j] = 0 }
                            infer_softmax_prefix(line + own, Int32(valid - own), Int32(seen - own))
                        }
                    }
                    // outputs (group * rows, head_dim) = scores (group * rows, seen) · values (seen, head_dim)
                    BLAS.multiply(m: group * rows, n: d, k: seen, a: scores, lda: seen, b: headValues,
                                  ldb: d, c: stackedOutputs, ldc: d)
                    for g in 0..<group {
                        let head = (kvHead * group + g) * d
                        for r in 0..<rows {
                            let output = UnsafePointer(stackedOutputs + (g * rows + r) * d)
                            (b.attention + (i0 + r) * c.qDim + head).update(from: output, count: d)
                        }
                    }
                }
            }
        }
    }
}
