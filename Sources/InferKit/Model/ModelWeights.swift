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
        guard (layers.flatMap { [$0.wq, $0.wk, $0.wv, $0.wo, $0.gate, $0.down, $0.up] } + [output])
            .contains(where: \.interleavesForSpeed) else { return self }
        func copy(_ m: WeightMatrix) -> WeightMatrix {
            let result = m.interleaving()
            if result.interleaved != nil { release(m) }
            return result
        }
        let layers = UnsafeMutableBufferPointer<LayerWeights>.allocate(capacity: self.layers.count)
        defer { layers.deallocate() }
        parallelFor(self.layers.count) { i in
            let l = self.layers[i]
            (layers.baseAddress! + i).initialize(to: LayerWeights(
                attentionNorm: l.attentionNorm, wq: copy(l.wq), wk: copy(l.wk), wv: copy(l.wv), wo: copy(l.wo),
                ffnNorm: l.ffnNorm, gate: copy(l.gate), down: copy(l.down), up: copy(l.up)))
        }
        return ModelWeights(tokenEmbedding: tokenEmbedding, layers: Array(layers), outputNorm: outputNorm,
                            output: copy(output))
    }
}
