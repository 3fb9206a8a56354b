/// A model's configuration and weights, and its two forward passes: one token at a time
/// (`TokenForward`, generation) and a batch of tokens at once (`forward(batch:...)`, prompts).
/// Both read what each block computes from `config.block` and `config.layers`.
struct Transformer: Sendable {
    let config: ModelConfig
    let weights: ModelWeights
}
