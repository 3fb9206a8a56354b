import Foundation
import Testing
@testable import InferKit

/// llama.cpp's tokenizer suite (../shared/vocab): every test string encodes, without BOS, to
/// exactly the ids of its `.out` line. Llama 3 and Qwen 2, whose GGUFs are too large to ship,
/// run the same strings through their Hugging Face `tokenizer.json`.
@Suite(.enabled(if: SharedData.available, SharedData.missingMessage))
struct LlamaCppVocabTests {
    /// Where a shipped file itself says something else than the model llama.cpp's vectors come
    /// from. The Llama 3 `tokenizer.json` in ../shared has `"ignore_merges": false` (Meta's has
    /// true), so Hugging Face `tokenizers` merges " Việt" from bytes instead of finding it whole;
    /// these are the ids `tokenizers` 0.23 gives for that file, which infer follows.
    static let fileDifferences: [String: [String: [Int]]] = [
        "llama-bpe": ["Cửa Việt": [34, 91163, 11655, 26298, 83]],
    ]

    @Test(arguments: TokenizerFixtures.vocabularies)
    func encodesLikeLlamaCpp(_ name: String, _ file: String) throws {
        let tokenizer = try TokenizerFixtures.load(file)
        let cases = TokenizerFixtures.vocabCases(name)
        #expect(cases.count == 46)
        var matches = 0
        for (text, llamaCppIDs) in cases {
            let ids = tokenizer.encode(text, options: EncodeOptions(addBOS: false, addEOS: false))
            if ids == llamaCppIDs { matches += 1 }
            #expect(ids == (Self.fileDifferences[name]?[text] ?? llamaCppIDs), "\(name): \(text.debugDescription)")
        }
        print("\(name): \(matches)/\(cases.count) strings give llama.cpp's ids")
    }

    /// With the flag Meta's file has, the shipped Llama 3 vocabulary gives all 46 `.out` lines.
    @Test func llama3WithIgnoreMergesGivesEveryOutLine() throws {
        let path = SharedData.path("tokenizers/llama3/tokenizer.json")
        var json = try String(contentsOfFile: path, encoding: .utf8)
        #expect(json.contains(#""ignore_merges": false"#))
        json = json.replacingOccurrences(of: #""ignore_merges": false"#, with: #""ignore_merges": true"#)
        let tokenizer = try Array(json.utf8).withUnsafeBytes { try HFTokenizerJSON.load(json: $0, config: nil, path: path) }
        for (text, expected) in TokenizerFixtures.vocabCases("llama-bpe") {
            #expect(tokenizer.encode(text, options: EncodeOptions(addBOS: false)) == expected, "\(text.debugDescription)")
        }
    }
}
