/// Byte-level BPE (GPT-2, Llama 3, Qwen, DeepSeek, Falcon, StarCoder, MPT, ...; GGUF
/// `tokenizer.ggml.model = gpt2` and `tokenizer.json` BPE models): special tokens are split
/// out, a pre-tokenizer cuts the text into words, each word's UTF-8 bytes start as one token
/// each (named by GPT-2's byte-to-character mapping), and adjacent tokens merge by rank.
/// No text is unknown: every byte has a token.
public struct ByteLevelBPETokenizer: Tokenizer {
    let vocabulary: Vocabulary
    /// The token of each single byte (-1 when the vocabulary lacks it).
    let byteTokens: [Int32]
    let merges: BPEMerges
    let preTokenizer: PreTokenizer
    let normalizer: Normalizer?
    let splitter: SpecialTokenSplitter
    /// Look each word up whole before merging (Llama 3's `ignore_merges`).
    let ignoresMerges: Bool
    /// Prefix every text fragment with a space (`ByteLevel` `add_prefix_space`).
    let addsPrefixSpace: Bool
    public let special: SpecialTokens
    public let addsBOSByDefault: Bool
    public let addsEOSByDefault: Bool

    public var vocabularySize: Int { vocabulary.count }
    public var stripsLeadingSpace: Bool { false }

    /// - Parameter specialTokens: the control and user-defined tokens to find in text.
    init(vocabulary: Vocabulary, merges: BPEMerges, preTokenizer: PreTokenizer,
         normalizer: Normalizer? = nil, specialTokens: [SpecialTokenSplitter.Token], special: SpecialTokens,
         addBOS: Bool, addEOS: Bool, ignoresMerges: Bool = false, addsPrefixSpace: Bool = false) {
        self.vocabulary = vocabulary
        self.byteTokens = ByteLevel.utf8OfByte.map { vocabulary.index.id(of: $0) ?? -1 }
        self.merges = merges
        self.preTokenizer = preTokenizer
        self.normalizer = normalizer
        self.splitter = SpecialTokenSplitter(specialTokens)
        self.special = special
        self.addsBOSByDefault = addBOS
        self.addsEOSByDefault = addEOS
        self.ignoresMerges = ignoresMerges
        self.addsPrefixSpace = addsPrefixSpace
    }

    public func piece(of id: Int) -> String {
        vocabulary.pieces.indices.contains(id) ? vocabulary.pieces[id] : ""
    }

    public func bytes(of id: Int) -> [UInt8] {
        guard vocabulary.pieces.indices.contains(id) else { return [] }
        let pieces = vocabulary.pieces
        switch vocabulary.types[id] {
        case .control, .unknown, .unused: return []
        case .userDefined: return Array(pieces[id].utf8)
        case .byte: return SentencePieceTokenizer.byteValue(Array(pieces[id].utf8)).map { [$0] } ?? Array(pieces[id].utf8)
        case .normal: return ByteLevel.decode(pieces[id]) ?? Array(pieces[id].utf8)
        }
    }

    public func encode(_ text: String, options: EncodeOptions) -> [Int] {
        var workspace = Workspace()
        return splitter.encode(text, options: options, special: special, addsBOS: addsBOSByDefault, addsEOS: addsEOSByDefault) {
            utf8, _, ids in encodeFragment(utf8, into: &ids, &workspace)
        }
    }

    // MARK: encoding

    /// Buffers reused across the words of one `encode` call.
    private struct Workspace {
        var symbols: [Int32] = []
        var key: [UInt8] = []
        var merges = BPEMerges.Workspace()
    }

    private func encodeFragment(_ utf8: UnsafeBufferPointer<UInt8>, into ids: inout [Int], _ w: inout Workspace) {
        if normalizer != nil || (addsPrefixSpace && utf8.first != 0x20) {
            var bytes = normalizer?.apply(utf8) ?? Array(utf8)
            if addsPrefixSpace && bytes.first != 0x20 { bytes.insert(0x20, at: 0) }
            bytes.withUnsafeBufferPointer { encodeWords($0, into: &ids, &w) }
        } else {
            encodeWords(utf8, into: &ids, &w)
        }
    }

    private func encodeWords(_ utf8: UnsafeBufferPointer<UInt8>, into ids: inout [Int], _ w: inout Workspace) {
        let text = ScalarText(utf8: utf8)
        var start = 0
        for end in preTokenizer.split(text) {
            let word = UnsafeBufferPointer(rebasing: utf8[text.offsets[start]..<text.offsets[end]])
            encodeWord(word, into: &ids, &w)
            start = end
        }
    }

    private func encodeWord(_ word: UnsafeBufferPointer<UInt8>, into ids: inout [Int], _ w: inout Workspace) {
        if ignoresMerges {
            w.key.removeAll(keepingCapacity: true)
            ByteLevel.encode(word, into: &w.key)
            if let id = vocabulary.index.id(of: w.key) {
                ids.append(Int(id))
                return
            }
        }
        w.symbols.removeAll(keepingCapacity: true)
        for byte in word where byteTokens[Int(byte)] >= 0 { w.symbols.append(byteTokens[Int(byte)]) }
        merges.apply(to: &w.symbols, workspace: &w.merges)
        for id in w.symbols { ids.append(Int(id)) }
    }
}
