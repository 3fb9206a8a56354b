import Foundation
import Testing
@testable import InferKit

/// Tokenizers from GGUF metadata and llama2.c files: the right kind for each vocabulary, and a
/// clear error for every way the data can be broken.
struct GGUFTokenizerTests {
    /// A byte-level (gpt2) vocabulary: 256 byte tokens, `<|endoftext|>`, and merged tokens.
    static func gpt2Vocabulary(tokens extra: [String] = ["he", "ll", "hell", "Ġw", "or", "Ġwor", "ld"],
                               merges: [String] = ["h e", "l l", "he ll", "Ġ w", "o r", "Ġw or", "l d"],
                               pre: String? = "llama-bpe") -> GGUFBuilder {
        let tokens = TinyTokenizerJSON.byteTokens + ["<|endoftext|>"] + extra
        var b = GGUFBuilder()
        b.add("general.architecture", .string("llama"))
        b.add("tokenizer.ggml.model", .string("gpt2"))
        if let pre { b.add("tokenizer.ggml.pre", .string(pre)) }
        b.add("tokenizer.ggml.tokens", .array(elementType: .string, tokens.map { .string($0) }))
        b.add("tokenizer.ggml.token_type", .array(elementType: .int32, tokens.indices.map { .int32($0 == 256 ? 3 : 1) }))
        b.add("tokenizer.ggml.merges", .array(elementType: .string, merges.map { .string($0) }))
        b.add("tokenizer.ggml.bos_token_id", .uint32(256))
        b.add("tokenizer.ggml.eos_token_id", .uint32(256))
        return b
    }

    static func load(_ builder: GGUFBuilder) throws -> any Tokenizer {
        try TokenizerLoader.load(path: try builder.write(name: "vocab.gguf"))
    }

    @Test func gpt2VocabularyIsByteLevelBPE() throws {
        let tokenizer = try Self.load(Self.gpt2Vocabulary())
        let bpe = try #require(tokenizer as? ByteLevelBPETokenizer)
        // llama-bpe: Llama 3's pre-tokenizer, BOS by default, whole words looked up first.
        #expect(bpe.addsBOSByDefault && bpe.ignoresMerges)
        #expect(bpe.encode("hello world") == [256, 259, Int(bpe.byteTokens[Int(UInt8(ascii: "o"))]), 262, 263])
        #expect(bpe.decode(bpe.encode("hello world")) == "hello world")
        // An end-of-turn token found by its text.
        #expect(bpe.special.eot == 256)
    }

    @Test func modelGetsTheTokenizerOfItsVocabulary() throws {
        var builder = TinyModel().builder()
        let vocabularyKeys = Self.gpt2Vocabulary(tokens: ["he", "ll", "hell", "Ġw", "or", "Ġwor", "ld"])
        builder.metadata.removeAll { $0.0.hasPrefix("tokenizer.") }
        builder.metadata += vocabularyKeys.metadata.filter { $0.0.hasPrefix("tokenizer.") }
        let model = try Model(path: try builder.write())
        #expect(model.tokenizer is ByteLevelBPETokenizer)
        #expect(model.tokenizer.decode(model.tokenizer.encode("hello world")) == "hello world")
    }

    @Test func refusesBrokenGPT2Vocabularies() throws {
        var noMerges = Self.gpt2Vocabulary()
        noMerges.metadata.removeAll { $0.0 == "tokenizer.ggml.merges" }
        #expect(ModelLoadingTests.errorMessage { _ = try Self.load(noMerges) }.contains("tokenizer.ggml.merges is missing"))

        let badMerge = Self.gpt2Vocabulary(merges: ["h e", "q zz"])
        #expect(ModelLoadingTests.errorMessage { _ = try Self.load(badMerge) }
            .contains("tokenizer.ggml.merges[1] 'q zz' needs 'zz', which is not in the vocabulary"))

        let unknownPre = Self.gpt2Vocabulary(pre: "no-such-model")
        #expect(ModelLoadingTests.errorMessage { _ = try Self.load(unknownPre) }.contains("unsupported: pre-tokenizer 'no-such-model'"))

        var badBOS = Self.gpt2Vocabulary()
        badBOS.metadata.removeAll { $0.0 == "tokenizer.ggml.bos_token_id" }
        badBOS.add("tokenizer.ggml.bos_token_id", .uint32(70_000))
        #expect(ModelLoadingTests.errorMessage { _ = try Self.load(badBOS) }
            .contains("tokenizer.ggml.bos_token_id 70000 is outside the vocabulary of 264 tokens"))

        var badTypes = Self.gpt2Vocabulary()
        badTypes.metadata.removeAll { $0.0 == "tokenizer.ggml.token_type" }
        badTypes.add("tokenizer.ggml.token_type", .array(elementType: .int32, [.int32(1)]))
        #expect(ModelLoadingTests.errorMessage { _ = try Self.load(badTypes) }.contains("tokenizer.ggml.token_type has 1 entries for 264 tokens"))
    }

    @Test func missingPreTokenizerIsLlamaCppDefault() throws {
        // Without tokenizer.ggml.pre llama.cpp uses its "default" regexes: digits stay together
        // up to three, punctuation runs apart from words.
        let tokenizer = try Self.load(Self.gpt2Vocabulary(pre: nil))
        let bpe = try #require(tokenizer as? ByteLevelBPETokenizer)
        #expect(!bpe.addsBOSByDefault && !bpe.ignoresMerges)
        #expect(bpe.preTokenizer.rules.count == 4)
    }

    /// Without byte tokens, a character no entry spells is the unknown token, once.
    @Test func sentencePieceFallsBackToUnknown() {
        let pieces = ["<unk>", "<s>", "</s>", "▁", "a", "b", "▁a"].map { Array($0.utf8) }
        let tokenizer = SentencePieceTokenizer(
            pieces: pieces, scores: [0, 0, 0, -3, -2, -2, -1], types: [.unknown, .control, .control, .normal, .normal, .normal, .normal],
            special: SpecialTokens(bos: 1, eos: 2, unknown: 0))
        #expect(tokenizer.encode("a€€b", options: EncodeOptions(addBOS: false)) == [6, 0, 0, 5])
        #expect(tokenizer.encode("a", options: EncodeOptions(addBOS: true, addEOS: true)) == [1, 6, 2])
        // The text of control tokens is parsed only when asked.
        #expect(tokenizer.encode("<s>a", options: EncodeOptions(addBOS: false, parseSpecial: true)) == [1, 6])
        #expect(!tokenizer.encode("<s>a", options: EncodeOptions(addBOS: false)).contains(1))
    }

    // MARK: llama2.c tokenizer.bin

    static func tokenizerBin(_ pieces: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        withUnsafeBytes(of: Int32(16).littleEndian) { out += $0 }
        for (i, piece) in pieces.enumerated() {
            withUnsafeBytes(of: Float(-Float(i)).bitPattern.littleEndian) { out += $0 }
            withUnsafeBytes(of: Int32(piece.count).littleEndian) { out += $0 }
            out += piece
        }
        return out
    }

    @Test(.enabled(if: SharedData.available, SharedData.missingMessage))
    func truncatedTokenizerBinIsAnError() throws {
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: SharedData.path("models/tok512.bin"))))
        // Cuts inside a record (the format has no token count, so a cut between records leaves
        // a shorter vocabulary, which the model's vocabulary size then rejects).
        for length in [1, 5, 9, 13, 101, bytes.count / 2 + 1, bytes.count - 1] {
            let path = try TemporaryFile.write(Array(bytes.prefix(length)), name: "tokenizer.bin")
            let message = ModelLoadingTests.errorMessage { _ = try TokenizerLoader.load(path: path) }
            #expect(message.contains(path) && message.contains("truncated"), "\(length) bytes: \(message)")
        }
    }

    @Test func tokenizerBinPiecesMustBeUTF8() throws {
        let valid = Self.tokenizerBin([Array("<unk>".utf8), Array("<s>".utf8), Array("</s>".utf8), Array("a".utf8)])
        #expect(try TokenizerLoader.load(path: try TemporaryFile.write(valid, name: "tokenizer.bin")).vocabularySize == 4)
        let invalid = Self.tokenizerBin([Array("<unk>".utf8), Array("<s>".utf8), Array("</s>".utf8), [0x61, 0xFF]])
        let path = try TemporaryFile.write(invalid, name: "tokenizer.bin")
        #expect(ModelLoadingTests.errorMessage { _ = try TokenizerLoader.load(path: path) }.contains("\(path): token 3 is not valid UTF-8"))
    }
}
