/// Phi-3 and Phi-3.5 (mini, medium): the Llama block with Q, K and V in one tensor and gate and up
/// in another (read as views of their rows), NeoX RoPE, and for the long-context models
/// ("longrope") per-pair frequency factors — the long ones where a session's context exceeds the
/// trained original, else the short ones — with an attention factor on the rotation.
/// Like llama.cpp, blocks attend to every position: the files' sliding window is not applied.
enum Phi3: Architecture {
    static let name = "phi3"

    static func load(_ file: GGUFModelReader) throws -> (ModelConfig, ModelWeights) {
        var config = try file.hyperparameters(ropeStyle: .neox, ropeScalings: ["longrope"])
        try config.validate(path: file.path)
        let pairs = config.ropeDim / 2
        if let short = try file.optionalVector(TensorName.ropeFactorsShort.weight(), length: pairs) {
            let long = try file.vector(TensorName.ropeFactorsLong.weight(), length: pairs)
            var rotation = config.block.rope.rotations[0]
            rotation.frequencyFactors = short
            rotation.magnitude = file.float("rope.scaling.attn_factor") ?? 1
            rotation.longContext = RoPE.LongContext(
                frequencyFactors: long, from: (file.int("rope.scaling.original_context_length") ?? config.contextLength) + 1)
            config.block.rope.rotations[0] = rotation
        }
        let layout = BlockTensors(fusedQKV: file.hasTensor(TensorName.attentionQKV.weight(layer: 0)), fusedGateUp: true)
        let weights = try file.weights(config: &config, layout: layout)
        return (config, weights)
    }
}
