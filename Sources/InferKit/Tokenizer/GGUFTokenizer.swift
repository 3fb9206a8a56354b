/// Builds the tokenizer a GGUF file carries in its `tokenizer.ggml.*` metadata.
enum GGUFTokenizer {
    static func load(from gguf: GGUFFile) throws -> any Tokenizer {
        let path = gguf.file.path
        guard let model = gguf.string("tokenizer.ggml.model") else {
            throw InferError.missingTokenizer(path: path, hint: "the file has no tokenizer.ggml.model metadata; pass a tokenizer with --tokenizer")
        }
        guard let tokenValues = gguf.array("tokenizer.ggml.tokens") else {
            throw InferError.invalidFile(path: path, problem: "tokenizer.ggml.tokens is missing")
        }
        let pieces: [[UInt8]] = try tokenValues.enumerated().map { id, value in
            guard let s = value.string else {
                throw InferError.invalidFile(path: path, problem: "tokenizer.ggml.tokens[\(id)] is not a string")
            }
            return Array(s.utf8)
        }
        let count = pieces.count
        let scores: [Float] = try gguf.array("tokenizer.ggml.scores").map { values in
            guard values.count == count else {
                throw InferError.invalidFile(path: path, problem: "tokenizer.ggml.scores has \(values.count) entries for \(count) tokens")
            }
            return values.map { Float($0.double ?? 0) }
        } ?? [Float](repeating: 0, count: count)
        let types: [TokenType] = try gguf.array("tokenizer.ggml.token_type").map { values in
            guard values.count == count else {
                throw InferError.invalidFile(path: path, problem: "tokenizer.ggml.token_type has \(values.count) entries for \(count) tokens")
            }
            return values.map { TokenType(rawValue: $0.int ?? 1) ?? .normal }
        } ?? [TokenType](repeating: .normal, count: count)

        func tokenID(_ key: String) throws -> Int? {
            guard let value = gguf.int("tokenizer.ggml.\(key)") else { return nil }
            // Converters write -1 (as uint32 0xFFFFFFFF) for "none".
            if value < 0 || value == Int(UInt32.max) { return nil }
            guard value < count else {
                throw InferError.invalidFile(path: path, problem: "tokenizer.ggml.\(key) \(value) is outside the vocabulary of \(count) tokens")
            }
            return value
        }
        let special = SpecialTokens(
            bos: try tokenID("bos_token_id"), eos: try tokenID("eos_token_id"),
            eot: try tokenID("eot_token_id"), unknown: try tokenID("unknown_token_id"),
            padding: try tokenID("padding_token_id"))

        switch model {
        case "llama":
            return SentencePieceTokenizer(
                pieces: pieces, scores: scores, types: types, special: special,
                addBOS: gguf.bool("tokenizer.ggml.add_bos_token") ?? true,
                addEOS: gguf.bool("tokenizer.ggml.add_eos_token") ?? false,
                addSpacePrefix: gguf.bool("tokenizer.ggml.add_space_prefix") ?? true)
        default:
            throw InferError.unsupported(path: path, what: "tokenizer model '\(model)'")
        }
    }
}
