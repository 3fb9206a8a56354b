/// The weights of one transformer block. Matrices stay in the file's storage; the small
/// normalization vectors are copied to f32.
struct LayerWeights: @unchecked Sendable {
    let attentionNorm: [Float]     // (dim)
    let wq: WeightMatrix           // (n_heads * head_dim, dim)
    let wk: WeightMatrix           // (n_kv_heads * head_dim, dim)
    let wv: WeightMatrix           // (n_kv_heads * head_dim, dim)
    let wo: WeightMatrix           // (dim, n_heads * head_dim)
    let ffnNorm: [Float]           // (dim)
    let gate: WeightMatrix         // (hidden_dim, dim)   w1
    let down: WeightMatrix         // (dim, hidden_dim)   w2
    let up: WeightMatrix           // (hidden_dim, dim)   w3
}

/// All weights of a Llama-family model.
struct ModelWeights: @unchecked Sendable {
    let tokenEmbedding: WeightMatrix   // (vocab, dim)
    let layers: [LayerWeights]
    let outputNorm: [Float]            // (dim)
    let output: WeightMatrix           // (vocab, dim); the embedding itself when tied

    /// Every matrix, for size accounting.
    var matrices: [(String, WeightMatrix)] {
        var all: [(String, WeightMatrix)] = [("token_embd", tokenEmbedding)]
        for (i, layer) in layers.enumerated() {
            all += [("blk.\(i).attn_q", layer.wq), ("blk.\(i).attn_k", layer.wk), ("blk.\(i).attn_v", layer.wv),
                    ("blk.\(i).attn_output", layer.wo), ("blk.\(i).ffn_gate", layer.gate),
                    ("blk.\(i).ffn_down", layer.down), ("blk.\(i).ffn_up", layer.up)]
        }
        all.append(("output", output))
        return all
    }
}

extension ModelWeights {
    /// These weights with interleaved copies of the matrices that generation reads faster
    /// that way (`WeightMatrix.interleaving`), made in parallel; the token embedding stays
    /// as it is (a token reads one row of it). O's and down's copies are kept in `columnParts`
    /// column parts where every layer's split so (see `columnParts(_:config:)`).
    /// `release` is handed each matrix as soon as its copy is made, so that its file pages can
    /// leave memory before the next copies add theirs.
    func interleaving(columnParts requested: Int = 1, config: ModelConfig,
                      release: @escaping @Sendable (WeightMatrix) -> Void) -> ModelWeights {
        let parts = columnParts(requested, config: config)
        // One offset each into a single block of memory (without memory for it, the weights
        // stay as they are): each layer's wq, wk, wv, gate, up (and O and down when whole),
        // the output, then O's and down's parts of every layer. (Each layer's parts in its
        // place among its other matrices streamed slower: tg128 Q4_K_M with two threads,
        // slow minutes, 50.76 against 52.11 t/s; see Benchmarks/README.md.)
        let perLayer = layers.map { [$0.wq, $0.wk, $0.wv, $0.wo, $0.gate, $0.down, $0.up] }
        let partsOf = [1, 1, 1, parts, 1, parts, 1]  // of each of a layer's seven
        let sizes = perLayer.flatMap { m in (0..<7).map { m[$0].interleavedByteCount(columnParts: partsOf[$0]) } }
            + [output.interleavedByteCount()]
        let total = sizes.reduce(0, +)
        guard total > 0 else { return self }
        let layeredCount = 7 * layers.count
        func isParted(_ index: Int) -> Bool { index < layeredCount && partsOf[index % 7] > 1 }
        var offsets = [Int](repeating: 0, count: sizes.count)
        var end = 0
        for partsPass in [false, true] {
            for (i, size) in sizes.enumerated() where isParted(i) == partsPass {
                offsets[i] = end
                end += size
            }
        }
        guard let memory = InterleavedMemory(byteCount: total) else { return self }
        func copy(_ m: WeightMatrix, _ index: Int, parts: Int = 1) -> WeightMatrix {
            let result = m.interleaving(into: memory, at: offsets[index], columnParts: parts)
            if result.isInterleaved { release(m) }
            return result
        }
        let layers = UnsafeMutableBufferPointer<LayerWeights>.allocate(capacity: self.layers.count)
        defer {
            // The array returned holds its own copies: these release theirs (the copies' memory
            // is freed with the last matrix that refers to it).
            layers.deinitialize()
            layers.deallocate()
        }
        parallelFor(self.layers.count) { i in
            let l = self.layers[i], m = perLayer[i], first = 7 * i
            let copies = (0..<7).map { copy(m[$0], first + $0, parts: partsOf[$0]) }
            (layers.baseAddress! + i).initialize(to: LayerWeights(
                attentionNorm: l.attentionNorm, wq: copies[0], wk: copies[1], wv: copies[2], wo: copies[3],
                ffnNorm: l.ffnNorm, gate: copies[4], down: copies[5], up: copies[6]))
        }
        return ModelWeights(tokenEmbedding: tokenEmbedding, layers: Array(layers), outputNorm: outputNorm,
                            output: copy(output, sizes.count - 1))
    }

    /// `requested` if O's and down's copies can be kept in that many column parts for the
    /// tensor-parallel forward pass (`infer_decode`, one part a thread): KV heads and hidden
    /// rows (in groups of 8) shared evenly, every layer's O and down cut into whole blocks; else 1.
    func columnParts(_ requested: Int, config c: ModelConfig) -> Int {
        guard requested > 1, c.kvHeadCount % requested == 0, c.hiddenDim % (8 * requested) == 0,
              layers.allSatisfy({ $0.wo.splitsIntoColumnParts(requested) && $0.down.splitsIntoColumnParts(requested) })
        else { return 1 }
        return requested
    }
}
