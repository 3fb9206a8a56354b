import Foundation
import Testing
@testable import InferKit

/// Decoding gives back the text, and streaming never tears a character apart.
@Suite(.enabled(if: SharedData.available, SharedData.missingMessage))
struct DetokenizerTests {
    /// Streams `ids` one token at a time; returns the pieces emitted (the flush last).
    static func stream(_ ids: [Int], _ tokenizer: any Tokenizer) -> [String] {
        var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        var pieces = ids.map { detokenizer.append($0) }
        pieces.append(detokenizer.flush())
        return pieces
    }

    @Test(arguments: TokenizerFixtures.lossless)
    func decodeInvertsEncode(_ name: String, _ file: String) throws {
        let tokenizer = try TokenizerFixtures.load(file)
        for (text, _) in TokenizerFixtures.vocabCases(name) {
            let ids = tokenizer.encode(text, options: EncodeOptions(addBOS: true))
            #expect(tokenizer.decode(ids) == text, "\(name): \(text.debugDescription)")
        }
    }

    @Test(arguments: TokenizerFixtures.vocabularies)
    func streamingMatchesDecodeAndNeverSplitsACharacter(_ name: String, _ file: String) throws {
        let tokenizer = try TokenizerFixtures.load(file)
        for (text, _) in TokenizerFixtures.vocabCases(name) {
            let ids = tokenizer.encode(text, options: EncodeOptions(addBOS: true))
            let pieces = Self.stream(ids, tokenizer)
            #expect(pieces.joined() == tokenizer.decode(ids), "\(name): \(text.debugDescription)")
            // A torn character would come out as U+FFFD; none of the test strings has one.
            #expect(!pieces.contains { $0.unicodeScalars.contains("\u{FFFD}") }, "\(name): \(text.debugDescription)")
        }
    }

    /// Byte-level vocabularies spell most emoji with several tokens: the detokenizer holds the
    /// bytes back until the character is whole.
    @Test func holdsBackPartialCharacters() throws {
        let tokenizer = try TokenizerFixtures.load("vocab/ggml-vocab-gpt-2.gguf")
        let ids = tokenizer.encode("🦙")
        #expect(ids.count > 1)
        let pieces = Self.stream(ids, tokenizer)
        #expect(pieces.dropLast().last == "🦙")
        #expect(pieces.dropLast().dropLast().allSatisfy { $0.isEmpty })
    }

    /// SentencePiece's dummy prefix is dropped from the first token only, even after BOS.
    @Test func dropsTheDummySpaceOnce() throws {
        let tokenizer = try TokenizerFixtures.load("vocab/ggml-vocab-llama-spm.gguf")
        let ids = tokenizer.encode("Hello world", options: EncodeOptions(addBOS: true))
        #expect(ids.first == tokenizer.special.bos)
        #expect(Self.stream(ids, tokenizer).joined() == "Hello world")
        var continuation = StreamingDetokenizer(tokenizer: tokenizer)
        continuation.markContinuation()
        #expect(ids.dropFirst().map { continuation.append($0) }.joined() == " Hello world")
    }
}
