/// Llama 2, 3, 3.1 and 3.2, Mistral, SmolLM, TinyLlama: the block every other family builds on.
/// Llama 3.1 and 3.2 divide RoPE's frequencies by the factors of `rope_freqs.weight`.
enum Llama: Architecture {
    static let name = "llama"

    static func load(_ file: GGUFModelReader) throws -> (ModelConfig, ModelWeights) {
        var config = try file.hyperparameters(ropeStyle: .normal)
        try config.validate(path: file.path)
        config.block.rope.rotations[0].frequencyFactors =
            try file.optionalVector(TensorName.ropeFrequencies.weight(), length: config.ropeDim / 2)
        let weights = try file.weights(config: &config)
        return (config, weights)
    }
}
