import Foundation
import Testing
@testable import InferKit

/// Perplexity as llama-perplexity computes it.
struct PerplexityTests {
    static let fixtures = TestPaths.target.appendingPathComponent("Fixtures")

    @Test func negativeLogLikelihoodIsMinusLogSoftmax() {
        let logits: [Float] = [1, 2, 3, -1]
        let total = logits.reduce(0.0) { $0 + exp(Double($1)) }
        logits.withUnsafeBufferPointer { l in
            for token in logits.indices {
                let expected = -log(exp(Double(logits[token])) / total)
                #expect(abs(PerplexityEvaluation.negativeLogLikelihood(l, of: token) - expected) < 1e-6)
            }
        }
    }

    /// A model whose every prediction is uniform has perplexity = vocabulary size, and
    /// (nearly) identical scores have (nearly) no spread.
    @Test func uniformPredictionsScoreTheVocabularySize() throws {
        var builder = TinyModel().builder()
        let i = builder.tensors.firstIndex { $0.name == "output_norm.weight" }!
        builder.tensors[i].data = [UInt8](repeating: 0, count: builder.tensors[i].data.count)
        let model = try Model(path: try builder.write())
        let session = try Session(model: model, contextLength: 16)
        var evaluation = PerplexityEvaluation(context: 16)
        let tokens = (0..<40).map { 3 + $0 * 5 }
        #expect(PerplexityEvaluation.chunkCount(tokens: tokens.count, context: 16) == 2)
        for chunk in 0..<2 { try evaluation.evaluate(chunk: chunk, of: tokens, session: session) }
        #expect(evaluation.count == 2 * 7)  // tokens 9 ..< 16 of each chunk
        #expect(abs(evaluation.perplexity - Double(model.config.vocabularySize)) < 1e-3)
        #expect((evaluation.error ?? 0) < 1e-3)
    }

    struct Reference: Decodable {
        struct Value: Decodable { let ppl: Double, error: Double, chunks: Int }
        let text: String, model: String, ctx: Int, llama_perplexity: Value
    }

    /// stories260K (F32) over a committed text agrees with llama-perplexity's value
    /// (Fixtures/perplexity-story.json records it and the command that produced it).
    @Test(.enabled(if: SharedData.available, SharedData.missingMessage))
    func stories260KMatchesLlamaPerplexity() throws {
        let reference = try JSONDecoder().decode(
            Reference.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("perplexity-story.json")))
        let model = try Model(path: SharedData.path(reference.model))
        let text = try String(contentsOf: Self.fixtures.appendingPathComponent(reference.text), encoding: .utf8)
        let tokens = model.tokenizer.encode(text)
        #expect(tokens.first == model.tokenizer.special.bos)
        let chunks = PerplexityEvaluation.chunkCount(tokens: tokens.count, context: reference.ctx)
        #expect(chunks == reference.llama_perplexity.chunks)

        let session = try Session(model: model, contextLength: reference.ctx, threads: 2)
        var evaluation = PerplexityEvaluation(context: reference.ctx)
        for chunk in 0..<chunks { try evaluation.evaluate(chunk: chunk, of: tokens, session: session) }
        let expected = reference.llama_perplexity
        #expect(abs(evaluation.perplexity / expected.ppl - 1) < 2e-4, "infer \(evaluation.perplexity), llama.cpp \(expected.ppl)")
        #expect(abs(evaluation.error! / expected.error - 1) < 2e-3, "infer ± \(evaluation.error!), llama.cpp ± \(expected.error)")
    }
}
