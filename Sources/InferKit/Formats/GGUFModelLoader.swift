import CKernels

/// Reads a Llama-family model's hyperparameters and weights from GGUF metadata and
/// tensors, checking every tensor's type and shape against the hyperparameters.
enum GGUFModelLoader {
    /// Architectures whose forward pass infer implements, with their RoPE layout.
    static let ropeStyles: [String: RopeStyle] = ["llama": .normal]

    static func config(of gguf: GGUFFile) throws -> ModelConfig {
        let path = gguf.file.path
        guard let arch = gguf.string("general.architecture") else {
            throw InferError.invalidFile(path: path, problem: "general.architecture is missing")
        }
        guard let ropeStyle = ropeStyles[arch] else {
            throw InferError.unsupported(path: path, what: "architecture '\(arch)' (supported: \(ropeStyles.keys.sorted().joined(separator: ", ")))")
        }
        func required(_ key: String) throws -> Int {
            guard let value = gguf.int("\(arch).\(key)") else {
                throw InferError.invalidFile(path: path, problem: "metadata \(arch).\(key) is missing")
            }
            return value
        }
        let dim = try required("embedding_length")
        let heads = try required("attention.head_count")
        let headDim = gguf.int("\(arch).attention.key_length") ?? (heads > 0 ? dim / heads : 0)
        guard let embedding = gguf.tensor(named: "token_embd.weight"), embedding.shape.count == 2 else {
            throw InferError.invalidFile(path: path, problem: "tensor 'token_embd.weight' is missing or not 2-dimensional")
        }
        let config = ModelConfig(
            architecture: arch, dim: dim, hiddenDim: try required("feed_forward_length"),
            layerCount: try required("block_count"), headCount: heads,
            kvHeadCount: gguf.int("\(arch).attention.head_count_kv") ?? heads, headDim: headDim,
            vocabularySize: embedding.shape[1], contextLength: gguf.int("\(arch).context_length") ?? 2048,
            rmsEpsilon: Float(gguf.double("\(arch).attention.layer_norm_rms_epsilon") ?? 1e-5),
            ropeTheta: Float(gguf.double("\(arch).rope.freq_base") ?? 10000),
            ropeDim: gguf.int("\(arch).rope.dimension_count") ?? headDim, ropeStyle: ropeStyle)
        try config.validate(path: path)
        return config
    }

    static func weights(of gguf: GGUFFile, config c: ModelConfig) throws -> ModelWeights {
        let path = gguf.file.path
        // Llama 3.1/3.2 scale RoPE's frequencies by these factors; running without them
        // would give subtly wrong text, so such files are refused until it is implemented.
        if gguf.tensor(named: "rope_freqs.weight") != nil {
            throw InferError.unsupported(path: path, what: "RoPE frequency factors (rope_freqs.weight, Llama 3.1/3.2 RoPE scaling)")
        }

        func tensor(_ name: String, _ shape: [Int]) throws -> GGUFFile.TensorInfo {
            guard let t = gguf.tensor(named: name) else {
                throw InferError.invalidFile(path: path, problem: "tensor '\(name)' is missing")
            }
            guard t.shape == shape else {
                throw InferError.invalidFile(path: path, problem: "tensor '\(name)' has shape \(t.shape) but the hyperparameters need \(shape)")
            }
            guard t.type.isSupported else {
                throw InferError.unsupported(path: path, what: "tensor '\(name)' has type \(t.type.name), which infer cannot compute yet")
            }
            return t
        }
        // `cols` is the input length (GGML ne0), `rows` the output length.
        func matrix(_ name: String, rows: Int, cols: Int) throws -> WeightMatrix {
            let t = try tensor(name, [cols, rows])
            return WeightMatrix(rows: rows, cols: cols,
                                storage: .ggml(t.type, gguf.data(of: t), rowBytes: t.byteCount / rows))
        }
        func vector(_ name: String, length: Int) throws -> [Float] {
            let t = try tensor(name, [length])
            var out = [Float](repeating: 0, count: length)
            out.withUnsafeMutableBufferPointer { buffer in
                infer_dequantize_row(infer_type(t.type.rawValue), gguf.data(of: t), buffer.baseAddress!, Int32(length))
            }
            return out
        }

        let embedding = try matrix("token_embd.weight", rows: c.vocabularySize, cols: c.dim)
        let layers = try (0..<c.layerCount).map { l in
            let p = "blk.\(l)."
            return LayerWeights(
                attentionNorm: try vector(p + "attn_norm.weight", length: c.dim),
                wq: try matrix(p + "attn_q.weight", rows: c.qDim, cols: c.dim),
                wk: try matrix(p + "attn_k.weight", rows: c.kvDim, cols: c.dim),
                wv: try matrix(p + "attn_v.weight", rows: c.kvDim, cols: c.dim),
                wo: try matrix(p + "attn_output.weight", rows: c.dim, cols: c.qDim),
                ffnNorm: try vector(p + "ffn_norm.weight", length: c.dim),
                gate: try matrix(p + "ffn_gate.weight", rows: c.hiddenDim, cols: c.dim),
                down: try matrix(p + "ffn_down.weight", rows: c.dim, cols: c.hiddenDim),
                up: try matrix(p + "ffn_up.weight", rows: c.hiddenDim, cols: c.dim))
        }
        let output = gguf.tensor(named: "output.weight") != nil
            ? try matrix("output.weight", rows: c.vocabularySize, cols: c.dim)
            : embedding
        return ModelWeights(tokenEmbedding: embedding, layers: layers,
                            outputNorm: try vector("output_norm.weight", length: c.dim), output: output)
    }
}
