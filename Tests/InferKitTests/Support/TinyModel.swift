@testable import InferKit

/// A small random-weight Llama GGUF with a byte-level SentencePiece vocabulary, for
/// tests that need a whole model file they can reshape or break.
struct TinyModel {
    var dim = 32
    var hidden = 48
    var layers = 2
    var heads = 4
    var kvHeads = 2
    var seed: UInt64 = 1

    var vocabulary: [String] {
        ["<unk>", "<s>", "</s>"] + (0..<256).map { b in
            let hex = Array("0123456789ABCDEF")
            return "<0x\(hex[b >> 4])\(hex[b & 15])>"
        } + ["▁", "a", "b", "▁a", "ab"]
    }

    func builder() -> GGUFBuilder {
        var random = SplitMix64(seed: seed)
        func weights(_ count: Int) -> [Float] {
            (0..<count).map { _ in Float(random.nextUnitDouble() * 2 - 1) * 0.2 }
        }
        let vocab = vocabulary
        let headDim = dim / heads
        var b = GGUFBuilder()
        b.add("general.architecture", .string("llama"))
        b.add("llama.embedding_length", .uint32(UInt32(dim)))
        b.add("llama.feed_forward_length", .uint32(UInt32(hidden)))
        b.add("llama.block_count", .uint32(UInt32(layers)))
        b.add("llama.attention.head_count", .uint32(UInt32(heads)))
        b.add("llama.attention.head_count_kv", .uint32(UInt32(kvHeads)))
        b.add("llama.context_length", .uint32(64))
        b.add("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
        b.add("tokenizer.ggml.model", .string("llama"))
        b.add("tokenizer.ggml.tokens", .array(elementType: .string, vocab.map { .string($0) }))
        b.add("tokenizer.ggml.scores", .array(elementType: .float32, vocab.indices.map { .float32(-Float($0)) }))
        b.add("tokenizer.ggml.token_type", .array(elementType: .int32, vocab.indices.map { id in
            .int32(id == 0 ? 2 : id < 3 ? 3 : id < 259 ? 6 : 1)
        }))
        b.add("tokenizer.ggml.bos_token_id", .uint32(1))
        b.add("tokenizer.ggml.eos_token_id", .uint32(2))
        b.addTensor("token_embd.weight", shape: [dim, vocab.count], floats: weights(dim * vocab.count))
        b.addTensor("output_norm.weight", shape: [dim], floats: [Float](repeating: 1, count: dim))
        for l in 0..<layers {
            let p = "blk.\(l)."
            b.addTensor(p + "attn_norm.weight", shape: [dim], floats: weights(dim).map { 1 + $0 })
            b.addTensor(p + "attn_q.weight", shape: [dim, dim], floats: weights(dim * dim))
            b.addTensor(p + "attn_k.weight", shape: [dim, kvHeads * headDim], floats: weights(dim * kvHeads * headDim))
            b.addTensor(p + "attn_v.weight", shape: [dim, kvHeads * headDim], floats: weights(dim * kvHeads * headDim))
            b.addTensor(p + "attn_output.weight", shape: [dim, dim], floats: weights(dim * dim))
            b.addTensor(p + "ffn_norm.weight", shape: [dim], floats: weights(dim).map { 1 + $0 })
            b.addTensor(p + "ffn_gate.weight", shape: [dim, hidden], floats: weights(dim * hidden))
            b.addTensor(p + "ffn_down.weight", shape: [hidden, dim], floats: weights(hidden * dim))
            b.addTensor(p + "ffn_up.weight", shape: [dim, hidden], floats: weights(dim * hidden))
        }
        return b
    }
}
