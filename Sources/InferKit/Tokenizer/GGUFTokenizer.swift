/// Builds the tokenizer a GGUF file carries in its `tokenizer.ggml.*` metadata, reading it the
/// way llama.cpp does (src/llama-vocab.cpp): `llama` is SentencePiece BPE, `gpt2` byte-level
/// BPE with the pre-tokenizer named by `tokenizer.ggml.pre`, `bert` WordPiece.
enum GGUFTokenizer {
    static func load(from gguf: GGUFFile) throws -> any Tokenizer {
        let path = gguf.file.path
        guard let model = gguf.string("tokenizer.ggml.model") else {
            throw InferError.missingTokenizer(path: path, hint: "the file has no tokenizer.ggml.model metadata; pass a tokenizer with --tokenizer")
        }
        guard let tokenValues = gguf.array("tokenizer.ggml.tokens") else {
            throw InferError.invalidFile(path: path, problem: "tokenizer.ggml.tokens is missing")
        }
        let strings: [String] = try tokenValues.enumerated().map { id, value in
            guard let s = value.string else {
                throw InferError.invalidFile(path: path, problem: "tokenizer.ggml.tokens[\(id)] is not a string")
            }
            return s
        }
        let pieces = strings.map { Array($0.utf8) }
        let count = pieces.count
        guard count > 0 else { throw InferError.invalidFile(path: path, problem: "tokenizer.ggml.tokens is empty") }
        let scores: [Float] = try gguf.array("tokenizer.ggml.scores").map { values in
            guard values.count == count else {
                throw InferError.invalidFile(path: path, problem: "tokenizer.ggml.scores has \(values.count) entries for \(count) tokens")
            }
            return values.map { Float($0.double ?? 0) }
        } ?? [Float](repeating: 0, count: count)
        var types: [TokenType] = try gguf.array("tokenizer.ggml.token_type").map { values in
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
        var special = SpecialTokens(
            bos: try tokenID("bos_token_id"), eos: try tokenID("eos_token_id"),
            eot: try tokenID("eot_token_id"), unknown: try tokenID("unknown_token_id"),
            padding: try tokenID("padding_token_id"))
        // Token texts are compared as bytes: String equality is canonical equivalence.
        let endOfTurn = SpecialTokens.endOfTurnTexts.map { Array($0.utf8) }
        if special.eot == nil {
            special.eot = endOfTurn.lazy.compactMap { text in pieces.firstIndex(of: text) }.first
        }
        // End-of-turn tokens stay plain text unless special tokens are parsed, even where a
        // converter typed them user-defined (llama.cpp makes them control tokens too).
        let endOfGeneration = Set(endOfTurn + [Array("</s>".utf8)])
        for (id, piece) in pieces.enumerated() where types[id] == .userDefined && endOfGeneration.contains(piece) {
            types[id] = .control
        }
        let specialTokens = splitTokens(pieces: pieces, types: types, gguf: gguf)
        let addBOS = gguf.bool("tokenizer.ggml.add_bos_token")
        let addEOS = gguf.bool("tokenizer.ggml.add_eos_token") ?? false

        switch model {
        case "llama":
            // llama.cpp's defaults for SentencePiece vocabularies that do not name them.
            special.bos = special.bos ?? (count > 1 ? 1 : nil)
            special.eos = special.eos ?? (count > 2 ? 2 : nil)
            special.unknown = special.unknown ?? 0
            return SentencePieceTokenizer(
                pieces: pieces, scores: scores, types: types, special: special,
                addBOS: addBOS ?? true, addEOS: addEOS,
                addSpacePrefix: gguf.bool("tokenizer.ggml.add_space_prefix") ?? true,
                specialTokens: specialTokens)
        case "gpt2":
            let preName = gguf.string("tokenizer.ggml.pre") ?? ""
            guard let pre = GGUFPreTokenizer.named(preName) else {
                throw InferError.unsupported(path: path, what: "pre-tokenizer '\(preName)' (tokenizer.ggml.pre)")
            }
            guard let mergeValues = gguf.array("tokenizer.ggml.merges") else {
                throw InferError.invalidFile(path: path, problem: "tokenizer.ggml.merges is missing (a gpt2 vocabulary needs its BPE merges)")
            }
            let spellings: [MergeSpelling] = try mergeValues.enumerated().map { rank, value in
                guard let text = value.string else {
                    throw InferError.invalidFile(path: path, problem: "tokenizer.ggml.merges[\(rank)] is not a string")
                }
                return .joined(text)
            }
            let vocabulary = Vocabulary(pieces: strings, types: types)
            let merges: BPEMerges
            do {
                merges = try BPEMerges(spellings, vocabulary: vocabulary)
            } catch {
                throw InferError.invalidFile(path: path, problem: "tokenizer.ggml.merges[\(error.rank)] \(error.problem)")
            }
            return ByteLevelBPETokenizer(
                vocabulary: vocabulary, merges: merges, preTokenizer: pre.preTokenizer,
                specialTokens: specialTokens, special: special,
                addBOS: addBOS ?? pre.addsBOS, addEOS: addEOS, ignoresMerges: pre.ignoresMerges)
        case "bert":
            // BOS and EOS are BERT's classifier and separator tokens, which wrap every input.
            special.bos = try tokenID("cls_token_id") ?? special.bos
            special.eos = try tokenID("seperator_token_id") ?? special.eos
            return WordPieceTokenizer(
                vocabulary: Vocabulary(pieces: strings, types: types), specialTokens: specialTokens, special: special,
                lowercases: gguf.bool("tokenizer.ggml.normalizer.lowercase") ?? true,
                stripsAccents: gguf.bool("tokenizer.ggml.normalizer.strip_accents")
                    ?? gguf.bool("tokenizer.ggml.normalizer.lowercase") ?? true,
                addBOS: addBOS ?? true, addEOS: gguf.bool("tokenizer.ggml.add_sep_token") ?? true)
        default:
            throw InferError.unsupported(path: path, what: "tokenizer model '\(model)'")
        }
    }

    /// The vocabulary's special tokens, with the one per-model rule llama.cpp applies that a
    /// GGUF cannot state: Phi-3's chat tokens swallow the whitespace that follows them.
    private static func splitTokens(pieces: [[UInt8]], types: [TokenType], gguf: GGUFFile) -> [SpecialTokenSplitter.Token] {
        var tokens = SpecialTokenSplitter.Token.all(in: pieces, types: types)
        let name = gguf.string("general.name")?.lowercased() ?? ""
        if name.contains("phi-3") || name.contains("phi3") {
            let keep: Set<[UInt8]> = [Array("<unk>".utf8), Array("<s>".utf8), Array("<|endoftext|>".utf8)]
            for i in tokens.indices where !keep.contains(tokens[i].text) { tokens[i].stripsRight = true }
        }
        return tokens
    }
}
