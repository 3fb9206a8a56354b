/// Finds special and added tokens (`<|im_start|>`, `<|eot_id|>`, a vocabulary's user-defined
/// tokens) in text before the tokenizer model sees it, so each becomes its own id instead of
/// being spelled out piece by piece.
///
/// Control tokens are found only when the caller asks to parse special tokens, so text from a
/// user cannot smuggle them in; user-defined tokens (Hugging Face's non-special added tokens)
/// are always found, as both Hugging Face `tokenizers` and llama.cpp do. Matching is
/// leftmost-longest, like Hugging Face's added vocabulary. (llama.cpp instead claims the
/// longest token text first across the whole input; the two differ only where two special
/// tokens overlap in the text.)
struct SpecialTokenSplitter: Sendable {
    struct Token: Sendable {
        let id: Int
        let text: [UInt8]
        /// Found even when special tokens are not parsed.
        let alwaysSplit: Bool
        /// Swallows the whitespace before / after it (`lstrip` / `rstrip`).
        var stripsLeft = false
        var stripsRight = false
        /// Only matches when not inside a word.
        var singleWord = false
    }

    enum Fragment: Equatable {
        case text(Range<Int>)
        case token(Int)
    }

    private let tokens: [Token]
    /// For each first byte, the indices of the tokens starting with it, longest first.
    private let candidates: [[Int]]

    init(_ tokens: [Token]) {
        let tokens = tokens.filter { !$0.text.isEmpty }
        var candidates = [[Int]](repeating: [], count: 256)
        for index in tokens.indices.sorted(by: { tokens[$0].text.count > tokens[$1].text.count }) {
            candidates[Int(tokens[index].text[0])].append(index)
        }
        self.tokens = tokens
        self.candidates = candidates
    }

    /// What every tokenizer's `encode` does around its own algorithm: special tokens become
    /// their ids, each stretch of text between them goes to `encodeText` (told whether a
    /// special token came just before it), and BOS/EOS are added as asked.
    func encode(_ text: String, options: EncodeOptions, special: SpecialTokens, addsBOS: Bool, addsEOS: Bool,
                _ encodeText: (_ utf8: UnsafeBufferPointer<UInt8>, _ afterSpecial: Bool, _ ids: inout [Int]) -> Void) -> [Int] {
        var text = text
        var ids: [Int] = []
        text.withUTF8 { utf8 in
            var afterSpecial = true
            for fragment in split(utf8, parseSpecial: options.parseSpecial) {
                switch fragment {
                case .token(let id):
                    ids.append(id)
                    afterSpecial = true
                case .text(let range):
                    encodeText(UnsafeBufferPointer(rebasing: utf8[range]), afterSpecial, &ids)
                    afterSpecial = false
                }
            }
        }
        return special.wrap(ids, addBOS: options.addBOS ?? addsBOS, addEOS: options.addEOS ?? addsEOS)
    }

    /// The text cut into stretches of plain text and special tokens, in order.
    func split(_ text: UnsafeBufferPointer<UInt8>, parseSpecial: Bool) -> [Fragment] {
        var fragments: [Fragment] = []
        var textStart = 0
        var i = 0
        while i < text.count {
            guard let token = match(in: text, at: i, parseSpecial: parseSpecial) else {
                i += 1
                continue
            }
            var textEnd = i
            if token.stripsLeft {
                while textEnd > textStart, let (scalar, length) = Self.scalar(endingAt: textEnd, in: text),
                      scalar.properties.isWhitespace {
                    textEnd -= length
                }
            }
            if textStart < textEnd { fragments.append(.text(textStart..<textEnd)) }
            fragments.append(.token(token.id))
            i += token.text.count
            if token.stripsRight {
                while let (scalar, length) = Self.scalar(startingAt: i, in: text), scalar.properties.isWhitespace {
                    i += length
                }
            }
            textStart = i
        }
        if textStart < text.count { fragments.append(.text(textStart..<text.count)) }
        return fragments
    }

    private func match(in text: UnsafeBufferPointer<UInt8>, at i: Int, parseSpecial: Bool) -> Token? {
        for index in candidates[Int(text[i])] {
            let token = tokens[index]
            guard token.alwaysSplit || parseSpecial, i + token.text.count <= text.count else { continue }
            var equal = true
            for k in 1..<token.text.count where text[i + k] != token.text[k] {
                equal = false
                break
            }
            guard equal else { continue }
            if token.singleWord {
                let before = Self.scalar(endingAt: i, in: text)?.0
                let after = Self.scalar(startingAt: i + token.text.count, in: text)?.0
                if before.map(Self.isWordCharacter) == true || after.map(Self.isWordCharacter) == true { continue }
            }
            return token
        }
        return nil
    }

    private static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || !CharacterClass.of(scalar.value).isDisjoint(with: .letterOrNumber)
    }

    private static func scalar(startingAt i: Int, in text: UnsafeBufferPointer<UInt8>) -> (Unicode.Scalar, Int)? {
        guard i < text.count else { return nil }
        let length = min(SentencePieceTokenizer.utf8Length(lead: text[i]), text.count - i)
        return String(decoding: UnsafeBufferPointer(rebasing: text[i..<(i + length)]), as: UTF8.self)
            .unicodeScalars.first.map { ($0, length) }
    }

    private static func scalar(endingAt end: Int, in text: UnsafeBufferPointer<UInt8>) -> (Unicode.Scalar, Int)? {
        guard end > 0 else { return nil }
        var start = end - 1
        while start > 0 && end - start < 4 && text[start] & 0xC0 == 0x80 { start -= 1 }
        return scalar(startingAt: start, in: text).map { ($0.0, end - start) }
    }
}

extension SpecialTokenSplitter.Token {
    /// The tokens of a vocabulary that are found in text before the model runs: control and
    /// unknown tokens (only when special tokens are parsed) and user-defined tokens (always).
    static func all(in pieces: [[UInt8]], types: [TokenType]) -> [Self] {
        zip(pieces, types).enumerated().compactMap { id, entry in
            switch entry.1 {
            case .control, .unknown: return Self(id: id, text: entry.0, alwaysSplit: false)
            case .userDefined: return Self(id: id, text: entry.0, alwaysSplit: true)
            case .normal, .byte, .unused: return nil
            }
        }
    }
}
