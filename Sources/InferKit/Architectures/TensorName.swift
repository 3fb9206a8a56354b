/// The names GGUF files give their tensors (llama.cpp's `LLM_TENSOR_*`), in one place: a block's
/// tensor is `blk.<layer>.<name>.weight` (or `.bias`), the others `<name>.weight`.
enum TensorName: String, CaseIterable, Sendable {
    case tokenEmbedding = "token_embd"
    case outputNorm = "output_norm"
    case output = "output"
    case ropeFrequencies = "rope_freqs"
    case ropeFactorsLong = "rope_factors_long"
    case ropeFactorsShort = "rope_factors_short"

    case attentionNorm = "attn_norm"
    case attentionQ = "attn_q"
    case attentionK = "attn_k"
    case attentionV = "attn_v"
    case attentionQKV = "attn_qkv"
    case attentionQNorm = "attn_q_norm"
    case attentionKNorm = "attn_k_norm"
    case attentionOutput = "attn_output"
    case postAttentionNorm = "post_attention_norm"
    case ffnNorm = "ffn_norm"
    case ffnGate = "ffn_gate"
    case ffnUp = "ffn_up"
    case ffnDown = "ffn_down"
    case postFFNNorm = "post_ffw_norm"

    /// `<name>.weight`, or `blk.<layer>.<name>.weight` for a block's tensor.
    func weight(layer: Int? = nil) -> String { tensor("weight", layer: layer) }

    /// `<name>.bias`, or `blk.<layer>.<name>.bias`.
    func bias(layer: Int? = nil) -> String { tensor("bias", layer: layer) }

    private func tensor(_ kind: String, layer: Int?) -> String {
        layer.map { "blk.\($0).\(rawValue).\(kind)" } ?? "\(rawValue).\(kind)"
    }
}
