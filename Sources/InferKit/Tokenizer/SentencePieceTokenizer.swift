/// SentencePiece-style BPE (GGUF `tokenizer.ggml.model = llama`, llama2.c `tokenizer.bin`):
/// the text is split into characters, then the adjacent pair whose concatenation is the
/// highest-scoring vocabulary entry is merged, again and again (leftmost first on ties).
/// Characters that never form a token fall back to `<0xNN>` byte tokens (or, in a vocabulary
/// without them, the unknown token). Control and user-defined tokens are split out of the text
/// first; every stretch of text after one gets the dummy space prefix again, as in llama.cpp.
public struct SentencePieceTokenizer: Tokenizer {
    /// The word-boundary marker SentencePiece uses in place of spaces (U+2581).
    static let spaceMarker: [UInt8] = [0xE2, 0x96, 0x81]

    let pieces: [[UInt8]]
    let scores: [Float]
    let types: [TokenType]
    let index: ByteIndex
    let byteTokens: [Int?]
    let addSpacePrefix: Bool
    /// No entry has `▁` after another character, so no merge can cross the start of a word:
    /// each word merges on its own (same result, and a small queue instead of one as long as
    /// the text).
    let mergesWithinWords: Bool
    let splitter: SpecialTokenSplitter
    public let special: SpecialTokens
    public let addsBOSByDefault: Bool
    public let addsEOSByDefault: Bool

    public var vocabularySize: Int { pieces.count }
    public var stripsLeadingSpace: Bool { addSpacePrefix }

    /// - Parameters:
    ///   - pieces: vocabulary entries as stored, with `▁` for spaces.
    ///   - specialTokens: the tokens to find in text; nil takes every control, user-defined
    ///     and unknown token of `types`.
    public init(pieces: [[UInt8]], scores: [Float], types: [TokenType], special: SpecialTokens,
                addBOS: Bool = true, addEOS: Bool = false, addSpacePrefix: Bool = true) {
        self.init(pieces: pieces, scores: scores, types: types, special: special, addBOS: addBOS, addEOS: addEOS,
                  addSpacePrefix: addSpacePrefix, specialTokens: nil)
    }

    init(pieces: [[UInt8]], scores: [Float], types: [TokenType], special: SpecialTokens,
         addBOS: Bool, addEOS: Bool, addSpacePrefix: Bool, specialTokens: [SpecialTokenSplitter.Token]?) {
        self.splitter = SpecialTokenSplitter(specialTokens ?? SpecialTokenSplitter.Token.all(in: pieces, types: types))
        self.pieces = pieces
        self.scores = scores
        self.types = types
        self.special = special
        self.addsBOSByDefault = addBOS
        self.addsEOSByDefault = addEOS
        self.addSpacePrefix = addSpacePrefix
        let index = ByteIndex(pieces)
        self.index = index
        var byteTokens = [Int?](repeating: nil, count: 256)
        for byte in 0..<256 {
            let name = SentencePieceTokenizer.bytePiece(UInt8(byte))
            byteTokens[byte] = (index.id(of: name) ?? index.id(of: [UInt8(byte)])).map(Int.init)
        }
        self.byteTokens = byteTokens
        self.mergesWithinWords = !pieces.contains { piece in
            func marker(at i: Int) -> Bool { i >= 0 && i + 3 <= piece.count && piece[i..<(i + 3)].elementsEqual(Self.spaceMarker) }
            return piece.indices.dropFirst().contains { marker(at: $0) && !marker(at: $0 - 3) }
        }
    }

    public func piece(of id: Int) -> String {
        guard pieces.indices.contains(id) else { return "" }
        return String(decoding: pieces[id], as: UTF8.self)
    }

    public func bytes(of id: Int) -> [UInt8] {
        guard pieces.indices.contains(id) else { return [] }
        switch types[id] {
        case .control, .unknown, .unused: return []
        case .byte:
            if let byte = SentencePieceTokenizer.byteValue(pieces[id]) { return [byte] }
            return pieces[id]
        case .normal, .userDefined:
            return SentencePieceTokenizer.replacingSpaceMarkers(pieces[id])
        }
    }

    public func encode(_ text: String, options: EncodeOptions) -> [Int] {
        splitter.encode(text, options: options, special: special, addsBOS: addsBOSByDefault, addsEOS: addsEOSByDefault) {
            utf8, afterSpecial, ids in encodeText(utf8, spacePrefix: addSpacePrefix && afterSpecial, into: &ids)
        }
    }

    // MARK: the merge loop

    private struct Symbol {
        var start: Int
        var length: Int
        var prev: Int
        var next: Int
    }

    private struct Bigram: Comparable {
        let left: Int
        let right: Int
        let score: Float
        let length: Int
        // Max-heap order: higher score first, then the leftmost pair.
        static func < (a: Bigram, b: Bigram) -> Bool {
            a.score < b.score || (a.score == b.score && a.left > b.left)
        }
    }

    private func encodeText(_ text: UnsafeBufferPointer<UInt8>, spacePrefix: Bool, into ids: inout [Int]) {
        var bytes: [UInt8] = spacePrefix ? SentencePieceTokenizer.spaceMarker : []
        for byte in text {
            if byte == 0x20 { bytes += SentencePieceTokenizer.spaceMarker } else { bytes.append(byte) }
        }
        var symbols: [Symbol] = []
        var offset = 0
        while offset < bytes.count {
            let length = min(SentencePieceTokenizer.utf8Length(lead: bytes[offset]), bytes.count - offset)
            symbols.append(Symbol(start: offset, length: length, prev: -1, next: -1))
            offset += length
        }
        guard !symbols.isEmpty else { return }
        bytes.withUnsafeBufferPointer { bytes in
            func isMarker(_ i: Int) -> Bool {
                symbols[i].length == 3 && bytes[symbols[i].start] == 0xE2 && bytes[symbols[i].start + 1] == 0x96
                    && bytes[symbols[i].start + 2] == 0x81
            }
            var queue = Heap<Bigram>()
            var start = 0
            for end in 1...symbols.count where end == symbols.count || (mergesWithinWords && isMarker(end) && !isMarker(end - 1)) {
                merge(start..<end, &symbols, bytes, &queue, into: &ids)
                start = end
            }
        }
    }

    /// Merges the symbols of `range` and appends their tokens.
    private func merge(_ range: Range<Int>, _ symbols: inout [Symbol], _ bytes: UnsafeBufferPointer<UInt8>,
                       _ queue: inout Heap<Bigram>, into ids: inout [Int]) {
        func id(_ start: Int, _ end: Int) -> Int? {
            index.id(of: UnsafeBufferPointer(rebasing: bytes[start..<end])).map(Int.init)
        }
        func tryAddBigram(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let a = symbols[left], b = symbols[right]
            guard let id = id(a.start, b.start + b.length) else { return }
            queue.push(Bigram(left: left, right: right, score: scores[id], length: a.length + b.length))
        }
        for i in range {
            symbols[i].prev = i > range.lowerBound ? i - 1 : -1
            symbols[i].next = i + 1 < range.upperBound ? i + 1 : -1
        }
        queue.removeAll()
        for i in range.dropFirst() { tryAddBigram(i - 1, i) }

        while let bigram = queue.pop() {
            let left = symbols[bigram.left], right = symbols[bigram.right]
            // Skip pairs made stale by an earlier merge.
            if left.length == 0 || right.length == 0 || left.length + right.length != bigram.length { continue }
            symbols[bigram.left].length += right.length
            symbols[bigram.right].length = 0
            symbols[bigram.left].next = right.next
            if right.next >= 0 { symbols[right.next].prev = bigram.left }
            tryAddBigram(symbols[bigram.left].prev, bigram.left)
            tryAddBigram(bigram.left, symbols[bigram.left].next)
        }

        var i = range.isEmpty ? -1 : range.lowerBound
        while i != -1 {
            let symbol = symbols[i]
            let span = symbol.start..<(symbol.start + symbol.length)
            if let id = id(span.lowerBound, span.upperBound) {
                ids.append(id)
            } else if bytes[span].allSatisfy({ byteTokens[Int($0)] != nil }) {
                // Merged symbols are always tokens: what is left is one character.
                for byte in bytes[span] { ids.append(byteTokens[Int(byte)]!) }
            } else if let unknown = special.unknown {
                ids.append(unknown)
            }
            i = symbol.next
        }
    }

    // MARK: helpers

    static func utf8Length(lead: UInt8) -> Int {
        switch lead {
        case 0xF0...0xF7: return 4
        case 0xE0...0xEF: return 3
        case 0xC0...0xDF: return 2
        default: return 1
        }
    }

    /// `<0xNN>`, the name of a byte-fallback token.
    static func bytePiece(_ byte: UInt8) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        return Array("<0x".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 15)], UInt8(ascii: ">")]
    }

    /// The byte of a `<0xNN>` piece.
    static func byteValue(_ piece: [UInt8]) -> UInt8? {
        guard piece.count == 6, piece[0] == UInt8(ascii: "<"), piece[1] == UInt8(ascii: "0"),
              piece[2] == UInt8(ascii: "x"), piece[5] == UInt8(ascii: ">")
        else { return nil }
        return UInt8(String(decoding: piece[3...4], as: UTF8.self), radix: 16)
    }

    static func replacingSpaceMarkers(_ piece: [UInt8]) -> [UInt8] {
        guard piece.count >= 3 else { return piece }
        var out: [UInt8] = []
        out.reserveCapacity(piece.count)
        var i = 0
        while i < piece.count {
            if i + 2 < piece.count, piece[i] == 0xE2, piece[i + 1] == 0x96, piece[i + 2] == 0x81 {
                out.append(0x20)
                i += 3
            } else {
                out.append(piece[i])
                i += 1
            }
        }
        return out
    }
}
