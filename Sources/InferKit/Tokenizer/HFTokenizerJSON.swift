#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a Hugging Face `tokenizer.json` (with the `tokenizer_config.json` beside it, when
/// present) into the tokenizer `tokenizers` would run: a byte-level BPE model, its added
/// tokens, normalizer, pre-tokenizer and post-processor (which decides BOS/EOS).
///
/// Supported: model `BPE` with a `ByteLevel` pre-tokenizer; normalizers NFC, NFD, NFKC, NFKD,
/// Lowercase and Sequence; pre-tokenizers ByteLevel, Split (isolated, with a regex infer knows,
/// see `SplitPattern`), Digits and Sequence; post-processors TemplateProcessing, ByteLevel,
/// RobertaProcessing, BertProcessing and Sequence. Anything else is refused by name.
enum HFTokenizerJSON {
    /// `path` is the `tokenizer.json` itself.
    static func load(path: String) throws -> ByteLevelBPETokenizer {
        let file = try MappedFile(path: path)
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let configPath = directory + "/tokenizer_config.json"
        var config: JSONValue?
        if access(configPath, F_OK) == 0 {
            let configFile = try MappedFile(path: configPath)
            config = try parse(UnsafeRawBufferPointer(start: configFile.base, count: configFile.size), path: configPath)
        }
        return try load(json: UnsafeRawBufferPointer(start: file.base, count: file.size), config: config, path: path)
    }

    static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws -> JSONValue {
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw InferError.invalidFile(path: path, problem: "not valid JSON: \(error.message)")
        }
    }

    static func load(json: UnsafeRawBufferPointer, config: JSONValue?, path: String) throws -> ByteLevelBPETokenizer {
        func invalid(_ problem: String) -> InferError { .invalidFile(path: path, problem: problem) }
        func unsupported(_ what: String) -> InferError { .unsupported(path: path, what: what) }

        let root = try parse(json, path: path)
        guard let model = root["model"], model.members != nil else { throw invalid("there is no \"model\" object") }
        let type = model["type"]?.string ?? "?"
        guard type == "BPE" else { throw unsupported("tokenizer model '\(type)' (infer reads BPE tokenizer.json files)") }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let value = model[key]?.string, !value.isEmpty { throw unsupported("BPE \(key) '\(value)'") }
        }
        if let dropout = model["dropout"], !dropout.isNull, dropout.int != 0 { throw unsupported("BPE dropout") }

        let (vocabulary, splitTokens) = try readVocabulary(model, root["added_tokens"], invalid)
        let merges = try readMerges(model, vocabulary, invalid)
        let normalizer = try normalizerSteps(root["normalizer"], unsupported)
        var pre = PreTokenizerSettings()
        try pre.read(root["pre_tokenizer"], unsupported)
        guard pre.byteLevel else {
            throw unsupported("a BPE tokenizer.json without a ByteLevel pre-tokenizer (SentencePiece-style BPE)")
        }

        // BOS/EOS: the post-processor's template, overridden by tokenizer_config.json.
        func id(of value: JSONValue?) -> Int? {
            // A token given as "text" or as {"content": "text", ...}.
            (value?.string ?? value?["content"]?.string).flatMap(vocabulary.id(of:))
        }
        var template = Template()
        try template.read(root["post_processor"], vocabulary: vocabulary, unsupported)
        // The post-processor states its tokens' ids itself; they must be the vocabulary's.
        for (role, id) in [("first", template.bos), ("last", template.eos)] {
            if let id, !(0..<vocabulary.count).contains(id) {
                throw invalid("post_processor's \(role) special token has id \(id), outside the vocabulary of \(vocabulary.count) tokens")
            }
        }
        var special = SpecialTokens(
            bos: id(of: config?["bos_token"]) ?? template.bos,
            eos: id(of: config?["eos_token"]) ?? template.eos,
            unknown: id(of: model["unk_token"]),
            padding: id(of: config?["pad_token"]))
        special.eot = SpecialTokens.endOfTurnTexts.lazy.compactMap(vocabulary.id(of:)).first

        return ByteLevelBPETokenizer(
            vocabulary: vocabulary, merges: merges, preTokenizer: PreTokenizer(rules: pre.rules),
            normalizer: normalizer.isEmpty ? nil : Normalizer(steps: normalizer),
            specialTokens: splitTokens, special: special,
            addBOS: config?["add_bos_token"]?.bool ?? (template.bos != nil),
            addEOS: config?["add_eos_token"]?.bool ?? (template.eos != nil),
            ignoresMerges: model["ignore_merges"]?.bool ?? false, addsPrefixSpace: pre.addsPrefixSpace)
    }

    /// `model.vocab` and `added_tokens` as one vocabulary with dense ids (an added token may
    /// restate a vocabulary entry), and the added tokens to find in text.
    private static func readVocabulary(_ model: JSONValue, _ addedTokens: JSONValue?, _ invalid: (String) -> InferError)
        throws -> (Vocabulary, [SpecialTokenSplitter.Token]) {
        guard let vocab = model["vocab"]?.members else { throw invalid("model.vocab is missing") }
        let added = addedTokens?.array ?? []
        let count = vocab.count + added.filter { token in token["id"]?.int.map { $0 >= vocab.count } ?? false }.count
        var pieces = [String?](repeating: nil, count: count)
        var types = [TokenType](repeating: .normal, count: count)
        for (key, value) in vocab {
            guard let id = value.int else { throw invalid("model.vocab[\"\(key)\"] is not a token id") }
            guard id >= 0 && id < count else { throw invalid("model.vocab[\"\(key)\"] = \(id) is out of range (the vocabulary has \(count) tokens)") }
            guard pieces[id] == nil else { throw invalid("token id \(id) appears twice in model.vocab") }
            pieces[id] = key
        }
        var splitTokens: [SpecialTokenSplitter.Token] = []
        for (index, token) in added.enumerated() {
            guard let id = token["id"]?.int, let content = token["content"]?.string else {
                throw invalid("added_tokens[\(index)] has no id or content")
            }
            guard id >= 0 && id < count else { throw invalid("added_tokens[\(index)] id \(id) is out of range (the vocabulary has \(count) tokens)") }
            pieces[id] = content
            let isSpecial = token["special"]?.bool ?? false
            types[id] = isSpecial ? .control : .userDefined
            splitTokens.append(SpecialTokenSplitter.Token(
                id: id, text: Array(content.utf8), alwaysSplit: !isSpecial,
                stripsLeft: token["lstrip"]?.bool ?? false, stripsRight: token["rstrip"]?.bool ?? false,
                singleWord: token["single_word"]?.bool ?? false))
        }
        if let hole = pieces.firstIndex(where: { $0 == nil }) {
            throw invalid("token id \(hole) has no entry in model.vocab or added_tokens")
        }
        return (Vocabulary(pieces: pieces.map { $0! }, types: types), splitTokens)
    }

    /// `model.merges`, as "left right" strings or as pairs.
    private static func readMerges(_ model: JSONValue, _ vocabulary: Vocabulary, _ invalid: (String) -> InferError) throws -> BPEMerges {
        guard let values = model["merges"]?.array else { throw invalid("model.merges is missing") }
        let spellings: [MergeSpelling] = try values.enumerated().map { rank, value in
            if let text = value.string { return .joined(text) }
            guard let pair = value.array, pair.count == 2, let left = pair[0].string, let right = pair[1].string else {
                throw invalid("model.merges[\(rank)] is not a pair of tokens")
            }
            return .pair(left, right)
        }
        do {
            return try BPEMerges(spellings, vocabulary: vocabulary)
        } catch {
            throw invalid("model.merges[\(error.rank)] \(error.problem)")
        }
    }

    private static func normalizerSteps(_ value: JSONValue?, _ unsupported: (String) -> InferError) throws -> [Normalizer.Step] {
        guard let value, !value.isNull else { return [] }
        switch value["type"]?.string {
        case "NFC": return [.nfc]
        case "NFD": return [.nfd]
        case "NFKC": return [.nfkc]
        case "NFKD": return [.nfkd]
        case "Lowercase": return [.lowercase]
        case "Sequence":
            return try (value["normalizers"]?.array ?? []).flatMap { try normalizerSteps($0, unsupported) }
        case let type:
            throw unsupported("normalizer '\(type ?? "?")'")
        }
    }

    private struct PreTokenizerSettings {
        var rules: [SplitRule] = []
        var byteLevel = false
        var addsPrefixSpace = false

        mutating func read(_ value: JSONValue?, _ unsupported: (String) -> InferError) throws {
            guard let value, !value.isNull else { return }
            switch value["type"]?.string {
            case "Sequence":
                for step in value["pretokenizers"]?.array ?? [] { try read(step, unsupported) }
            case "ByteLevel":
                byteLevel = true
                addsPrefixSpace = value["add_prefix_space"]?.bool ?? false
                // After a split the prefix would go on every piece, which infer does not do.
                if addsPrefixSpace && !rules.isEmpty { throw unsupported("ByteLevel add_prefix_space after another pre-tokenizer") }
                if value["use_regex"]?.bool ?? true { rules.append(.gpt2) }
            case "Split":
                guard let regex = value["pattern"]?["Regex"]?.string else {
                    throw unsupported("a Split pre-tokenizer without a regex pattern")
                }
                let behavior = value["behavior"]?.string ?? "?"
                guard behavior == "Isolated", value["invert"]?.bool != true else {
                    throw unsupported("Split pre-tokenizer behaviour '\(behavior)'")
                }
                guard let rule = SplitPattern.rule(regex) else { throw unsupported("pre-tokenizer regex \(regex)") }
                rules.append(rule)
            case "Digits":
                let individual = value["individual_digits"]?.bool ?? false
                rules.append(.run(ScalarSet(classes: .number), prefix: .none, min: 1, max: individual ? 1 : Int.max))
            case let type:
                throw unsupported("pre-tokenizer '\(type ?? "?")'")
            }
        }
    }

    /// The special tokens the post-processor puts around a single sequence.
    private struct Template {
        var bos: Int?
        var eos: Int?

        mutating func read(_ value: JSONValue?, vocabulary: Vocabulary, _ unsupported: (String) -> InferError) throws {
            guard let value, !value.isNull else { return }
            switch value["type"]?.string {
            case "Sequence":
                for step in value["processors"]?.array ?? [] { try read(step, vocabulary: vocabulary, unsupported) }
            case "ByteLevel":
                break
            case "TemplateProcessing":
                var seenSequence = false
                for piece in value["single"]?.array ?? [] {
                    if piece["Sequence"] != nil {
                        seenSequence = true
                    } else if let name = piece["SpecialToken"]?["id"]?.string {
                        let id = value["special_tokens"]?[name]?["ids"]?.array?.first?.int ?? vocabulary.id(of: name)
                        if seenSequence { eos = eos ?? id } else { bos = bos ?? id }
                    }
                }
            case "RobertaProcessing", "BertProcessing":
                bos = value["cls"]?.array?.last?.int
                eos = value["sep"]?.array?.last?.int
            case let type:
                throw unsupported("post-processor '\(type ?? "?")'")
            }
        }
    }
}
