import Foundation
@testable import InferKit

/// Tokenizers from ../shared, each loaded once for the whole test run (the large ones take
/// seconds in a debug build) and shared by every suite that needs it.
enum TokenizerFixtures {
    private final class Cache: @unchecked Sendable {
        let lock = NSLock()
        var loaded: [String: any Tokenizer] = [:]
    }
    private static let cache = Cache()

    /// The tokenizer of a file under ../shared (`vocab/ggml-vocab-gpt-2.gguf`, `tokenizers/llama3`).
    static func load(_ relative: String) throws -> any Tokenizer {
        cache.lock.lock()
        defer { cache.lock.unlock() }
        if let tokenizer = cache.loaded[relative] { return tokenizer }
        let tokenizer = try TokenizerLoader.load(path: SharedData.path(relative))
        cache.loaded[relative] = tokenizer
        return tokenizer
    }

    /// The vocabularies of llama.cpp's test suite that infer can load: (name of the .inp/.out
    /// files, tokenizer under ../shared). Llama 3 and Qwen 2 use their tokenizer.json.
    static let vocabularies: [(String, String)] = [
        ("llama-spm", "vocab/ggml-vocab-llama-spm.gguf"),
        ("phi-3", "vocab/ggml-vocab-phi-3.gguf"),
        ("gpt-2", "vocab/ggml-vocab-gpt-2.gguf"),
        ("deepseek-llm", "vocab/ggml-vocab-deepseek-llm.gguf"),
        ("deepseek-coder", "vocab/ggml-vocab-deepseek-coder.gguf"),
        ("falcon", "vocab/ggml-vocab-falcon.gguf"),
        ("mpt", "vocab/ggml-vocab-mpt.gguf"),
        ("starcoder", "vocab/ggml-vocab-starcoder.gguf"),
        ("refact", "vocab/ggml-vocab-refact.gguf"),
        ("bert-bge", "vocab/ggml-vocab-bert-bge.gguf"),
        ("qwen2", "tokenizers/qwen3"),
        ("llama-bpe", "tokenizers/llama3"),
    ]

    /// Vocabularies whose decoding gives back exactly the encoded text (WordPiece lowercases
    /// and drops accents and spacing).
    static let lossless = vocabularies.filter { $0.0 != "bert-bge" }

    /// llama.cpp's test vectors for a vocabulary: the strings of `<name>.inp` (separated by
    /// `__ggml_vocab_test__` lines) and the ids of the matching lines of `<name>.out`.
    static func vocabCases(_ name: String) -> [(text: String, ids: [Int])] {
        let base = SharedData.path("vocab/ggml-vocab-\(name).gguf")
        guard let input = try? String(contentsOfFile: base + ".inp", encoding: .utf8),
              let output = try? String(contentsOfFile: base + ".out", encoding: .utf8)
        else { return [] }
        let texts = input.components(separatedBy: "\n__ggml_vocab_test__\n").dropLast()
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        return zip(texts, lines).map { text, line in (text, line.split(separator: " ").map { Int($0)! }) }
    }
}
