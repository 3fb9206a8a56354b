/// The weights of one transformer block. Matrices stay in the file's storage; the small
/// vectors (norms, biases) are copied to f32. Optional pieces are nil where the family has none.
struct LayerWeights: @unchecked Sendable {
    var attentionNorm: [Float]        // (dim)
    var wq: WeightMatrix              // (n_heads * head_dim, dim)
    var wk: WeightMatrix              // (n_kv_heads * head_dim, dim)
    var wv: WeightMatrix              // (n_kv_heads * head_dim, dim)
    var wo: WeightMatrix              // (dim, n_heads * head_dim)
    var qBias: [Float]? = nil         // (n_heads * head_dim)
    var kBias: [Float]? = nil         // (n_kv_heads * head_dim)
    var vBias: [Float]? = nil         // (n_kv_heads * head_dim)
    var qNorm: [Float]? = nil         // (head_dim)
    var kNorm: [Float]? = nil         // (head_dim)
    var postAttentionNorm: [Float]? = nil  // (dim)
    var ffnNorm: [Float]              // (dim)
    var gate: WeightMatrix            // (hidden_dim, dim)
    var up: WeightMatrix              // (hidden_dim, dim)
    var down: WeightMatrix            // (dim, hidden_dim)
    var postFFNNorm: [Float]? = nil   // (dim)

    /// The block's matrices with their tensor names, in the order every listing uses.
    static var matrices: [(TensorName, WritableKeyPath<LayerWeights, WeightMatrix>)] {
        [(.attentionQ, \.wq), (.attentionK, \.wk), (.attentionV, \.wv), (.attentionOutput, \.wo),
         (.ffnGate, \.gate), (.ffnUp, \.up), (.ffnDown, \.down)]
    }

    /// The block's vectors that exist, for size accounting.
    var vectors: [[Float]] {
        [attentionNorm, ffnNorm] + [qBias, kBias, vBias, qNorm, kNorm, postAttentionNorm, postFFNNorm].compactMap { $0 }
    }
}

/// All weights of a model.
struct ModelWeights: @unchecked Sendable {
    let tokenEmbedding: WeightMatrix   // (vocab, dim)
    let layers: [LayerWeights]
    let outputNorm: [Float]            // (dim)
    let output: WeightMatrix           // (vocab, dim); the embedding itself when tied

    /// Every matrix with its tensor name, for size accounting.
    var matrices: [(String, WeightMatrix)] {
        var all: [(String, WeightMatrix)] = [(TensorName.tokenEmbedding.rawValue, tokenEmbedding)]
        for (i, layer) in layers.enumerated() {
            all += LayerWeights.matrices.map { ("blk.\(i).\($0.0.rawValue)", layer[keyPath: $0.1]) }
        }
        all.append((TensorName.output.rawValue, output))
        return all
    }
}

extension ModelWeights {
    /// These weights arranged for generation's forward pass:
    /// - O and down of each block in `columnParts` column parts where they split into whole blocks
    ///   along head and hidden-row boundaries (`splitsIntoColumnParts`): the threads of
    ///   `infer_decode` then multiply one part each as soon as their own inputs are ready;
    /// - with `interleave`, interleaved copies of the matrices that generation reads faster that
    ///   way (`WeightMatrix.interleaving`), made in parallel, in one block of memory; the token
    ///   embedding stays as it is (a token reads one row of it). `release` is handed each matrix as
    ///   soon as its copy is made, so that its file pages can leave memory before the next copies
    ///   add theirs.
    func arranged(columnParts: Int, interleave: Bool, config c: ModelConfig,
                  release: @escaping @Sendable (WeightMatrix) -> Void) -> ModelWeights {
        let named = LayerWeights.matrices
        // The parts of each of a block's matrices.
        func parts(_ layer: LayerWeights, _ index: Int) -> Int {
            let path = named[index].1
            let parted = path == \LayerWeights.wo ? c.headCount % max(1, columnParts) == 0
                : path == \LayerWeights.down ? c.hiddenDim % (8 * max(1, columnParts)) == 0 : false
            return parted && layer[keyPath: path].splitsIntoColumnParts(columnParts) ? columnParts : 1
        }
        // Q, K and V rows are shared among threads by heads: whole groups of 8 rows only where a
        // head is.
        func interleaves(_ index: Int) -> Bool {
            interleave && (index >= 3 || c.headDim % 8 == 0)
        }
        let count = named.count
        let partsOf = layers.map { layer in (0..<count).map { parts(layer, $0) } }
        // One offset each into a single block of memory: each layer's matrices (whole), the output,
        // then the column parts of every layer (see Benchmarks/README.md: the parts together stream
        // faster than each in its place).
        let sizes = layers.indices.flatMap { l in
            (0..<count).map { i in interleaves(i) ? layers[l][keyPath: named[i].1].interleavedByteCount(columnParts: partsOf[l][i]) : 0 }
        } + [interleave ? output.interleavedByteCount() : 0]
        var offsets = [Int](repeating: 0, count: sizes.count)
        var end = 0
        for partsPass in [false, true] {
            for (i, size) in sizes.enumerated() {
                let parted = i < sizes.count - 1 && partsOf[i / count][i % count] > 1
                guard parted == partsPass else { continue }
                offsets[i] = end
                end += size
            }
        }
        let memory = end > 0 ? InterleavedMemory(byteCount: end) : nil
        func arrange(_ m: WeightMatrix, _ index: Int, parts: Int, copy: Bool) -> WeightMatrix {
            guard copy, let memory, m.interleavesForSpeed else { return parts > 1 ? m.inColumnParts(parts) : m }
            let result = m.interleaving(into: memory, at: offsets[index], columnParts: parts)
            if result.isInterleaved { release(m) }
            return result
        }
        let arrangedLayers = UnsafeMutableBufferPointer<LayerWeights>.allocate(capacity: layers.count)
        defer {
            // The array returned holds its own copies: these release theirs (the copies' memory
            // is freed with the last matrix that refers to it).
            arrangedLayers.deinitialize()
            arrangedLayers.deallocate()
        }
        parallelFor(layers.count) { l in
            var layer = self.layers[l]
            for (i, (_, path)) in named.enumerated() {
                layer[keyPath: path] = arrange(layer[keyPath: path], l * count + i, parts: partsOf[l][i], copy: interleaves(i))
            }
            (arrangedLayers.baseAddress! + l).initialize(to: layer)
        }
        return ModelWeights(tokenEmbedding: tokenEmbedding, layers: Array(arrangedLayers), outputNorm: outputNorm,
                            output: arrange(output, sizes.count - 1, parts: 1, copy: interleave))
    }
}
