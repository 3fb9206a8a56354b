/// WordPiece (BERT; GGUF `tokenizer.ggml.model = bert`), as llama.cpp runs it: the text is
/// lowercased with accents stripped, split at whitespace, punctuation, ASCII symbols and CJK
/// ideographs, and each word becomes the longest vocabulary entries that spell it, left to
/// right, or the unknown token when it cannot be spelled. GGUF stores word-initial entries with
/// a leading `▁` and continuations bare (Hugging Face's `##` prefix removed).
public struct WordPieceTokenizer: Tokenizer {
    let vocabulary: Vocabulary
    let splitter: SpecialTokenSplitter
    let lowercases: Bool
    let stripsAccents: Bool
    /// The longest entry in bytes: no match is looked for beyond it.
    let maxPieceLength: Int
    public let special: SpecialTokens
    public let addsBOSByDefault: Bool
    public let addsEOSByDefault: Bool

    public var vocabularySize: Int { vocabulary.count }
    /// Words are stored with a leading `▁`, so decoded text starts with a space.
    public var stripsLeadingSpace: Bool { true }

    /// - Parameters:
    ///   - specialTokens: the control and user-defined tokens to find in text.
    ///   - special: BOS is the classifier token (`[CLS]`), EOS the separator (`[SEP]`).
    init(vocabulary: Vocabulary, specialTokens: [SpecialTokenSplitter.Token], special: SpecialTokens,
         lowercases: Bool, stripsAccents: Bool, addBOS: Bool, addEOS: Bool) {
        self.vocabulary = vocabulary
        self.splitter = SpecialTokenSplitter(specialTokens)
        self.lowercases = lowercases
        self.stripsAccents = stripsAccents
        self.maxPieceLength = vocabulary.pieces.map(\.utf8.count).max() ?? 0
        self.special = special
        self.addsBOSByDefault = addBOS
        self.addsEOSByDefault = addEOS
    }

    public func piece(of id: Int) -> String {
        vocabulary.pieces.indices.contains(id) ? vocabulary.pieces[id] : ""
    }

    public func bytes(of id: Int) -> [UInt8] {
        guard vocabulary.pieces.indices.contains(id) else { return [] }
        switch vocabulary.types[id] {
        case .control, .unknown, .unused: return []
        default: return SentencePieceTokenizer.replacingSpaceMarkers(Array(vocabulary.pieces[id].utf8))
        }
    }

    public func encode(_ text: String, options: EncodeOptions) -> [Int] {
        splitter.encode(text, options: options, special: special, addsBOS: addsBOSByDefault, addsEOS: addsEOSByDefault) {
            utf8, _, ids in
            for word in words(String(decoding: utf8, as: UTF8.self)) { encodeWord(word, into: &ids) }
        }
    }

    /// BERT's basic tokenizer: normalized words, punctuation and ideographs one per word.
    func words(_ text: String) -> [String] {
        let scalars = stripsAccents ? Normalizer(steps: [.nfd]).apply(text) : text
        var words: [String] = []
        var word = ""
        func finish() {
            if !word.isEmpty { words.append(word) }
            word = ""
        }
        for scalar in scalars.unicodeScalars {
            let cls = CharacterClass.of(scalar.value)
            if cls.contains(.whitespace) {
                finish()
                continue
            }
            if scalar.value == 0 || scalar.value == 0xFFFD || cls.contains(.control) { continue }
            if stripsAccents && cls.contains(.mark) { continue }
            let normalized = lowercases ? scalar.properties.lowercaseMapping : String(scalar)
            if cls.contains(.punctuation) || (scalar.value < 0x7F && cls.contains(.symbol)) || Self.isIdeograph(scalar.value) {
                finish()
                words.append(normalized)
            } else {
                word += normalized
            }
        }
        finish()
        return words
    }

    /// Greedy longest match over `▁word`; a word that cannot be spelled entirely is unknown.
    private func encodeWord(_ word: String, into ids: inout [Int]) {
        let bytes = SentencePieceTokenizer.spaceMarker + Array(word.utf8)
        let start = ids.count
        bytes.withUnsafeBufferPointer { buffer in
            var i = 0
            while i < buffer.count {
                var j = min(buffer.count, i + maxPieceLength)
                var found: Int32?
                while j > i {
                    found = vocabulary.index.id(of: UnsafeBufferPointer(rebasing: buffer[i..<j]))
                    if found != nil { break }
                    j -= 1
                }
                guard let id = found else {
                    ids.removeLast(ids.count - start)
                    return
                }
                ids.append(Int(id))
                i = j
            }
        }
        if ids.count == start, let unknown = special.unknown { ids.append(unknown) }
    }

    /// The CJK ideograph blocks BERT splits one character at a time.
    static func isIdeograph(_ value: UInt32) -> Bool {
        switch value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}
