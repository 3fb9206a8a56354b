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
    /// as it is (a token reads one row of it). `release` is handed each matrix as soon as its
    /// copy is made, so that its file pages can leave memory before the next copies add theirs.
    func interleaving(release: @escaping @Sendable (WeightMatrix) -> Void) -> ModelWeights {
        // Each layer's wq, wk, wv, wo, gate, down, up, then the output: one offset each into
        // a single block of memory (without memory for it, the weights stay as they are).
        let perLayer = layers.map { [$0.wq, $0.wk, $0.wv, $0.wo, $0.gate, $0.down, $0.up] }
        let sizes = (perLayer.flatMap { $0 } + [output]).map(\.interleavedByteCount)
        let total = sizes.reduce(0, +)
        guard total > 0 else { return self }
        var offsets = [0]
        for size in sizes { offsets.append(offsets.last! + size) }
        guard let memory = InterleavedMemory(byteCount: total) else { return self }
        func copy(_ m: WeightMatrix, _ index: Int) -> WeightMatrix {
            let result = m.interleaving(into: memory, at: offsets[index])
            if result.interleaved != nil { release(m) }
            return result
        }
        let layers = UnsafeMutableBufferPointer<LayerWeights>.allocate(capacity: self.layers.count)
        defer { layers.deallocate() }
        parallelFor(self.layers.count) { i in
            let l = self.layers[i], m = perLayer[i], first = 7 * i
            let copies = (0..<7).map { copy(m[$0], first + $0) }
            (layers.baseAddress! + i).initialize(to: LayerWeights(
                attentionNorm: l.attentionNorm, wq: copies[0], wk: copies[1], wv: copies[2], wo: copies[3],
                ffnNorm: l.ffnNorm, gate: copies[4], down: copies[5], up: copies[6]))
        }
        return ModelWeights(tokenEmbedding: tokenEmbedding, layers: Array(layers), outputNorm: outputNorm,
                            output: copy(output, sizes.count - 1))
    }
}
