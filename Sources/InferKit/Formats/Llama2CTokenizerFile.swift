/// llama2.c's `tokenizer.bin`: an int32 maximum piece length, then for every token an
/// f32 score, an int32 byte length and the piece bytes (spaces as plain spaces), until
/// the end of the file. Ids 0, 1, 2 are `<unk>`, BOS and EOS by llama2.c's convention.
enum Llama2CTokenizerFile {
    static func load(path: String) throws -> SentencePieceTokenizer {
        let file = try MappedFile(path: path)
        var reader = ByteReader(file)
        let maxLength = try reader.read(Int32.self, "maximum token length")
        guard maxLength > 0, maxLength <= 1 << 16 else {
            throw InferError.invalidFile(path: path, problem: "not a llama2.c tokenizer (maximum token length \(maxLength))")
        }
        var pieces: [[UInt8]] = []
        var scores: [Float] = []
        var types: [TokenType] = []
        while reader.remaining > 0 {
            let id = pieces.count
            let score = try reader.readFloat("score of token \(id)")
            let length = try reader.read(Int32.self, "length of token \(id)")
            guard length >= 0, length <= maxLength else {
                throw InferError.invalidFile(path: path, problem: "token \(id) has length \(length), outside 0...\(maxLength)")
            }
            let bytes = try reader.readBytes(Int(length), "bytes of token \(id)")
            guard UTF8Validation.isValid(bytes.bindMemory(to: UInt8.self)) else {
                throw InferError.invalidFile(path: path, problem: "token \(id) is not valid UTF-8")
            }
            let raw = Array(bytes)
            let piece = raw.flatMap { $0 == 0x20 ? SentencePieceTokenizer.spaceMarker : [$0] }
            pieces.append(piece)
            scores.append(score)
            types.append(tokenType(id: id, piece: piece))
        }
        guard pieces.count >= 3 else {
            throw InferError.invalidFile(path: path, problem: "holds \(pieces.count) tokens, too few for a vocabulary")
        }
        return SentencePieceTokenizer(
            pieces: pieces, scores: scores, types: types,
            special: SpecialTokens(bos: 1, eos: 2, unknown: 0))
    }

    private static func tokenType(id: Int, piece: [UInt8]) -> TokenType {
        switch id {
        case 0: return .unknown
        case 1, 2: return .control
        default: return SentencePieceTokenizer.byteValue(piece) != nil ? .byte : .normal
        }
    }
}
