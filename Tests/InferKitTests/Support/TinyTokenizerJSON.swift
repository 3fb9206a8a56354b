import Foundation
@testable import InferKit

/// A small byte-level BPE `tokenizer.json` for tests that need to vary or break one: the 256
/// byte tokens (ids 0–255), a few merged tokens, and added tokens after them.
struct TinyTokenizerJSON {
    /// Merged tokens and the merges that make them, in rank order.
    var merges = ["h e", "l l", "he ll", "Ġ w", "o r", "Ġw or"]
    var extraVocabulary = ["he", "ll", "hell", "Ġw", "or", "Ġwor"]
    /// JSON objects of `added_tokens`, without their ids (ids follow the vocabulary).
    var addedTokens = [
        #"{"content": "<|bos|>", "special": true}"#,
        #"{"content": "<|end|>", "special": true, "rstrip": true}"#,
        #"{"content": "<tool>", "special": false}"#,
        #"{"content": "<left>", "special": true, "lstrip": true}"#,
        #"{"content": "word", "special": false, "single_word": true}"#,
    ]
    var preTokenizer = #"{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}"#
    var normalizer = "null"
    var postProcessor = #"{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|bos|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "pair": [], "special_tokens": {"<|bos|>": {"id": "<|bos|>", "ids": [262], "tokens": ["<|bos|>"]}}}"#
    var modelType = "BPE"

    static let byteTokens: [String] = ByteLevel.scalarOfByte.map { String(Unicode.Scalar($0)!) }

    var vocabulary: [String] { Self.byteTokens + extraVocabulary }

    /// The id of a vocabulary entry or added token.
    func id(_ text: String) -> Int {
        if let id = vocabulary.firstIndex(of: text) { return id }
        return vocabulary.count + addedTokens.firstIndex { $0.contains("\"\(text)\"") }!
    }

    func json() -> String {
        func quoted(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        let vocab = vocabulary.enumerated().map { "\(quoted($1)): \($0)" }.joined(separator: ", ")
        let added = addedTokens.enumerated().map { index, token in
            "{\"id\": \(vocabulary.count + index), " + token.dropFirst()
        }.joined(separator: ", ")
        return """
            {"version": "1.0", "added_tokens": [\(added)], "normalizer": \(normalizer),
             "pre_tokenizer": \(preTokenizer), "post_processor": \(postProcessor),
             "decoder": {"type": "ByteLevel"},
             "model": {"type": "\(modelType)", "dropout": null, "unk_token": null, "ignore_merges": false,
                       "vocab": {\(vocab)}, "merges": [\(merges.map(quoted).joined(separator: ", "))]}}
            """
    }

    /// Writes tokenizer.json (and tokenizer_config.json when given) into a fresh directory.
    func writeDirectory(config: String? = nil) throws -> String {
        let directory = TemporaryFile.directory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(json().utf8).write(to: directory.appendingPathComponent("tokenizer.json"))
        if let config { try Data(config.utf8).write(to: directory.appendingPathComponent("tokenizer_config.json")) }
        return directory.path
    }

    func load(config: String? = nil) throws -> any Tokenizer {
        try TokenizerLoader.load(path: try writeDirectory(config: config))
    }
}
