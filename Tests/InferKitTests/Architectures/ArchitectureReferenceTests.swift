import Foundation
import Testing
@testable import InferKit

/// Every family against `transformers` (Tests/Fixtures/architectures: tiny random models of each
/// family converted by llama.cpp's converter, with transformers' logits and greedy tokens, and
/// llama-perplexity's value; `make_reference_models.py` makes them). The weights are large enough
/// that leaving out any one block feature moves the logits far beyond the tolerance (each JSON's
/// `ablations`).
struct ArchitectureReferenceTests {
    static let folder = TestPaths.tests.appendingPathComponent("Fixtures/architectures")
    static let families = ["llama", "llama3", "qwen2", "qwen3", "gemma2", "gemma3", "phi3", "phi3-longrope"]
    /// Largest logit difference allowed: float32 transformers is within 2.1e-5 of float64 on
    /// these files (`reference_f32_vs_f64_max_abs_diff`).
    static let tolerance: Float = 1e-4

    struct Reference: Decodable {
        struct Perplexity: Decodable { let text_file: String, ctx: Int, llama_cpp_ppl: Double }
        struct LongFactors: Decodable { let prompt: [Int], last_logits: [Float] }
        let gguf_architecture: String
        let prompt: [Int]
        let last_logits: [Float]
        let logits_positions: [String: [Float]]
        let greedy: [Int]
        let perplexity: Perplexity
        let long_factor_regime: LongFactors?
    }

    static func load(_ family: String) throws -> (Model, Reference) {
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: folder.appendingPathComponent("\(family).json")))
        let model = try Model(path: folder.appendingPathComponent("\(family).gguf").path)
        return (model, reference)
    }

    static func expectClose(_ got: [Float], _ want: [Float], _ what: String) {
        #expect(got.count == want.count, "\(what): \(got.count) logits for \(want.count)")
        let difference = zip(got, want).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference <= tolerance, "\(what): logits differ by \(difference)")
    }

    /// The prompt's logits at the last position and at positions around the sliding windows' edges,
    /// token by token and batched, on one thread and two.
    @Test(arguments: families)
    func logitsMatchTransformers(_ family: String) throws {
        let (model, reference) = try Self.load(family)
        #expect(model.config.architecture == reference.gguf_architecture)
        for (batchSize, threads) in [(1, 1), (1, 2), (64, 2), (7, 1)] {
            let all = try BatchedPrefillTests.allLogits(model, reference.prompt, batchSize: batchSize, threads: threads)
            let what = "\(family), batches of \(batchSize), \(threads) threads"
            Self.expectClose(all.last!, reference.last_logits, what + ", last position")
            for (position, logits) in reference.logits_positions {
                Self.expectClose(all[Int(position)!], logits, what + ", position \(position)")
            }
        }
    }

    /// 32 greedy tokens after the prompt, as transformers picks them.
    @Test(arguments: families)
    func greedyTokensMatchTransformers(_ family: String) throws {
        let (model, reference) = try Self.load(family)
        let session = try Session(model: model, contextLength: reference.prompt.count + reference.greedy.count, cacheType: .f32)
        try session.append(reference.prompt)
        var tokens: [Int] = []
        for _ in reference.greedy {
            let logits = session.logits
            let next = logits.indices.max { logits[$0] < logits[$1] }!
            tokens.append(next)
            try session.append([next])
        }
        #expect(tokens == reference.greedy, "\(family)")
    }

    /// Perplexity over the committed story within 0.1% of llama-perplexity's on the same file.
    @Test(arguments: families)
    func perplexityMatchesLlamaCpp(_ family: String) throws {
        let (model, reference) = try Self.load(family)
        let root = Self.folder.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent(reference.perplexity.text_file), encoding: .utf8)
        let tokens = model.tokenizer.encode(text)
        let ctx = reference.perplexity.ctx
        let session = try Session(model: model, contextLength: ctx, cacheType: .f32)
        var evaluation = PerplexityEvaluation(context: ctx)
        for chunk in 0..<PerplexityEvaluation.chunkCount(tokens: tokens.count, context: ctx) {
            try evaluation.evaluate(chunk: chunk, of: tokens, session: session)
        }
        let relative = abs(evaluation.perplexity / reference.perplexity.llama_cpp_ppl - 1)
        #expect(relative < 1e-3, "\(family): \(evaluation.perplexity) against llama-perplexity's \(reference.perplexity.llama_cpp_ppl)")
    }

    /// Phi-3's long-context factors: a session longer than the trained original context rotates by
    /// the long factors (transformers does past 256 positions; llama.cpp by the context size).
    @Test func phi3LongFactorsApplyToLongSessions() throws {
        let (model, reference) = try Self.load("phi3-longrope")
        let long = try #require(reference.long_factor_regime)
        let session = try Session(model: model, contextLength: 512, cacheType: .f32)
        try session.append(long.prompt)
        Self.expectClose(Array(session.logits), long.last_logits, "phi3-longrope, 300 tokens, long factors")
    }
}
