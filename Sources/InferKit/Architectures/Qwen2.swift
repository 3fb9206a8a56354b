/// Qwen2, Qwen2.5, Qwen2.5-Coder: the Llama block with biases on Q, K and V, and NeoX RoPE.
enum Qwen2: Architecture {
    static let name = "qwen2"

    static func load(_ file: GGUFModelReader) throws -> (ModelConfig, ModelWeights) {
        var config = try file.hyperparameters(ropeStyle: .neox)
        config.block.qkvBias = true
        try config.validate(path: file.path)
        let weights = try file.weights(config: &config)
        return (config, weights)
    }
}
