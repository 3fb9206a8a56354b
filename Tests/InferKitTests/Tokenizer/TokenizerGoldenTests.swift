import Foundation
import Testing
@testable import InferKit

/// infer's tokenizers against Hugging Face `tokenizers` and `sentencepiece` on a broad corpus
/// (scripts, code, whitespace runs, emoji sequences, long repeats, special-token text), and its
/// Unicode classes against the `regex` module. Tests/Fixtures/tokenizers/make_golden.py wrote
/// the expected values.
@Suite(.enabled(if: SharedData.available, SharedData.missingMessage))
struct TokenizerGoldenTests {
    struct Golden: Decodable {
        let corpus: [String]
        let tokenizers: [Entry]
        let unicodeClasses: UnicodeClasses
    }

    struct Entry: Decodable, Sendable, CustomTestStringConvertible {
        let name: String
        let file: String
        let reference: String
        let parseSpecial: Bool
        let ids: [[Int]]
        var testDescription: String { "\(name) (\(file))" }
    }

    struct UnicodeClasses: Decodable {
        let reference: String
        let scalarsAndBits: [[UInt32]]
    }

    static let golden: Golden = {
        let path = TestPaths.tests
            .appendingPathComponent("Fixtures/tokenizers/golden.json")
        let data = (try? Data(contentsOf: path)) ?? Data()
        return (try? JSONDecoder().decode(Golden.self, from: data))
            ?? Golden(corpus: [], tokenizers: [], unicodeClasses: UnicodeClasses(reference: "", scalarsAndBits: []))
    }()

    @Test func goldenFileIsPresent() {
        #expect(Self.golden.corpus.count >= 40)
        #expect(Self.golden.tokenizers.count >= 10)
    }

    @Test(arguments: golden.tokenizers)
    func encodesLikeReference(_ entry: Entry) throws {
        let tokenizer = try TokenizerFixtures.load(entry.file)
        var matches = 0
        for (text, expected) in zip(Self.golden.corpus, entry.ids) {
            let ids = tokenizer.encode(text, options: EncodeOptions(addBOS: false, addEOS: false, parseSpecial: entry.parseSpecial))
            if ids == expected { matches += 1 }
            #expect(ids == expected, "\(entry.name): \(text.debugDescription)")
        }
        print("\(entry.testDescription): \(matches)/\(entry.ids.count) strings give the ids of \(entry.reference)")
    }

    /// Without special-token parsing every tokenizer here gives its text back (Qwen's in NFC),
    /// but for the bytes a byte-level vocabulary has no token for (Falcon lacks 0x0B), which
    /// `tokenizers` and llama.cpp drop too.
    @Test(arguments: golden.tokenizers)
    func decodeInvertsEncode(_ entry: Entry) throws {
        let tokenizer = try TokenizerFixtures.load(entry.file)
        let missingBytes = Set((tokenizer as? ByteLevelBPETokenizer).map { t in (0..<256).filter { t.byteTokens[$0] < 0 } } ?? [])
        for text in Self.golden.corpus {
            let ids = tokenizer.encode(text, options: EncodeOptions(addBOS: true, parseSpecial: false))
            let normalized = entry.name == "qwen3" ? text.precomposedStringWithCanonicalMapping : text
            let expected = normalized.utf8.filter { !missingBytes.contains(Int($0)) }
            #expect(Array(tokenizer.decode(ids).utf8) == expected, "\(entry.name): \(text.debugDescription)")
            var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
            let streamed = ids.map { detokenizer.append($0) }.joined() + detokenizer.flush()
            #expect(Array(streamed.utf8) == expected, "\(entry.name) streaming: \(text.debugDescription)")
        }
    }

    @Test func unicodeClassesMatchRegexModule() {
        var mismatches: [String] = []
        for pair in Self.golden.unicodeClasses.scalarsAndBits {
            let ours = CharacterClass.of(pair[0]).rawValue & 0x3F
            if UInt32(ours) != pair[1] { mismatches.append("U+\(String(pair[0], radix: 16, uppercase: true)): \(ours) vs \(pair[1])") }
        }
        #expect(Self.golden.unicodeClasses.scalarsAndBits.count > 4000)
        #expect(mismatches.isEmpty, "\(mismatches.count) differ from \(Self.golden.unicodeClasses.reference): \(mismatches.prefix(20))")
    }
}
