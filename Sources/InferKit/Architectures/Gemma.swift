/// What Gemma 2 and Gemma 3 share: the embedding scaled by √width, RMSNorms before and after each
/// sublayer (the files store the norms' weights with Gemma's +1 already added), a GELU-tanh gated
/// feed-forward, NeoX RoPE, an output tied to the embedding, and sliding-window attention on some
/// blocks.
enum Gemma {
    static func hyperparameters(_ file: GGUFModelReader) throws -> ModelConfig {
        var config = try file.hyperparameters(ropeStyle: .neox)
        config.block.norms = .preAndPost
        config.block.activation = .geglu
        config.block.embeddingScale = Float(config.dim).squareRoot()
        // Queries are scaled by 1/√head_dim, except in the 27B models (46 and 62 blocks), whose
        // query_pre_attn_scalar is width ÷ heads: llama.cpp's rule, as no key carries the scalar.
        let scalar = [46, 62].contains(config.layerCount) && config.headCount > 0 ? config.dim / config.headCount : config.headDim
        config.block.attentionScale = 1 / Float(max(1, scalar)).squareRoot()
        return config
    }

    /// Sets blocks `windowed` to attend through a window of `window` positions, with RoPE rotation
    /// `rotation`.
    static func slide(_ config: inout ModelConfig, windowed: [Bool], window: Int, rotation: Int) {
        for (l, slides) in windowed.enumerated() where slides {
            config.layers[l] = LayerDescription(slidingWindow: window, rotation: rotation)
        }
    }
}

/// Gemma 2: attention scores and logits soft-capped, a sliding window on every other block.
enum Gemma2: Architecture {
    static let name = "gemma2"

    static func load(_ file: GGUFModelReader) throws -> (ModelConfig, ModelWeights) {
        var config = try Gemma.hyperparameters(file)
        config.block.attentionSoftCap = file.float("attn_logit_softcapping") ?? 50
        config.block.finalLogitSoftCap = file.float("final_logit_softcapping") ?? 30
        try config.validate(path: file.path)
        // Windowed blocks rotate like the others unless the file gives them a base of their own.
        if let base = file.float("rope.freq_base_swa") {
            config.block.rope.rotations.append(RoPE.Rotation(base: base))
        }
        Gemma.slide(&config, windowed: try file.slidingLayers(count: config.layerCount, defaultPeriod: 2),
                    window: file.int("attention.sliding_window") ?? 4096, rotation: config.block.rope.rotations.count - 1)
        let weights = try file.weights(config: &config)
        return (config, weights)
    }
}

/// Gemma 3 (text): Q and K heads RMS-normed, a sliding window on 5 of every 6 blocks whose RoPE has
/// its own base (10000 unless the file says), no soft-capping unless the file asks for final-logit
/// capping.
enum Gemma3: Architecture {
    static let name = "gemma3"

    static func load(_ file: GGUFModelReader) throws -> (ModelConfig, ModelWeights) {
        var config = try Gemma.hyperparameters(file)
        config.block.qkNorm = true
        config.block.finalLogitSoftCap = file.float("final_logit_softcapping").flatMap { $0 > 0 ? $0 : nil }
        try config.validate(path: file.path)
        if let window = file.int("attention.sliding_window"), window > 0 {
            config.block.rope.rotations.append(RoPE.Rotation(base: file.float("rope.freq_base_swa") ?? 10000))
            Gemma.slide(&config, windowed: try file.slidingLayers(count: config.layerCount, defaultPeriod: 6),
                        window: window, rotation: 1)
        }
        let weights = try file.weights(config: &config)
        return (config, weights)
    }
}
