/// Qwen3: the Llama block with each head of Q and K RMS-normed before rotation, NeoX RoPE, and
/// heads whose size is not width ÷ heads (`attention.key_length`).
enum Qwen3: Architecture {
    static let name = "qwen3"

    static func load(_ file: GGUFModelReader) throws -> (ModelConfig, ModelWeights) {
        var config = try file.hyperparameters(ropeStyle: .neox)
        config.block.qkNorm = true
        try config.validate(path: file.path)
        let weights = try file.weights(config: &config)
        return (config, weights)
    }
}
