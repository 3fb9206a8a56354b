/// What kind of vocabulary entry a token is (GGUF `tokenizer.ggml.token_type`).
public enum TokenType: Int, Sendable {
    case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
}

/// Ids with a special role. Any may be absent.
public struct SpecialTokens: Sendable, Equatable {
    public var bos: Int?
    public var eos: Int?
    /// End of turn (`<|eot_id|>`, `<|im_end|>`, ...), when the model has one apart from EOS.
    public var eot: Int?
    public var unknown: Int?
    public var padding: Int?

    public init(bos: Int? = nil, eos: Int? = nil, eot: Int? = nil, unknown: Int? = nil, padding: Int? = nil) {
        self.bos = bos
        self.eos = eos
        self.eot = eot
        self.unknown = unknown
        self.padding = padding
    }

    /// Tokens that end generation.
    public var endOfGeneration: Set<Int> { Set([eos, eot].compactMap { $0 }) }

    /// Texts of end-of-turn tokens, most specific first: models whose files do not name their
    /// EOT token use one of these (the list llama.cpp recognizes).
    static let endOfTurnTexts = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                 "<|end_of_text|>", "<EOT>", "_<EOT>", "<｜end▁of▁sentence｜>", "<end_of_utterance>"]

    /// `ids` with BOS in front and EOS behind, as asked. A BOS (or EOS) the text already
    /// begins (ends) with is not added a second time.
    func wrap(_ ids: [Int], addBOS: Bool, addEOS: Bool) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(ids.count + 2)
        if addBOS, let bos, ids.first != bos { result.append(bos) }
        result += ids
        if addEOS, let eos, ids.last != eos { result.append(eos) }
        return result
    }
}

/// How text becomes token ids.
public struct EncodeOptions: Sendable {
    /// Prepend BOS; nil follows the model's own flag. Text that already starts with BOS
    /// (parsed from `parseSpecial` text) does not get a second one.
    public var addBOS: Bool?
    /// Append EOS; nil follows the model's own flag.
    public var addEOS: Bool?
    /// Turn the text of control tokens (`<|im_start|>`, `<s>`) into their ids, as a rendered
    /// chat template needs. Off by default, so that user text is always plain text. Added
    /// tokens that are not special (user-defined tokens) are matched either way.
    public var parseSpecial: Bool

    public init(addBOS: Bool? = nil, addEOS: Bool? = nil, parseSpecial: Bool = false) {
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.parseSpecial = parseSpecial
    }
}

/// Text to token ids and back.
public protocol Tokenizer: Sendable {
    var vocabularySize: Int { get }
    var special: SpecialTokens { get }
    /// The model's own default for adding BOS when encoding.
    var addsBOSByDefault: Bool { get }
    var addsEOSByDefault: Bool { get }
    /// SentencePiece prefixes text with a space when encoding; decoding the first token
    /// of a text then drops that space again.
    var stripsLeadingSpace: Bool { get }

    func encode(_ text: String, options: EncodeOptions) -> [Int]
    /// The bytes a token contributes to decoded text (empty for control tokens).
    func bytes(of id: Int) -> [UInt8]
    /// The vocabulary entry as stored, for display (`▁the`, `<0x0A>`, `<s>`).
    func piece(of id: Int) -> String
}

extension Tokenizer {
    public func encode(_ text: String) -> [Int] { encode(text, options: EncodeOptions()) }

    /// The text of a sequence of ids; control tokens are dropped.
    public func decode(_ ids: [Int]) -> String {
        var detokenizer = StreamingDetokenizer(tokenizer: self)
        var text = ""
        for id in ids { text += detokenizer.append(id) }
        return text + detokenizer.flush()
    }
}
