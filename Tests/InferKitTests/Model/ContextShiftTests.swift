import Foundation
import Testing
@testable import InferKit

/// Context shift (llama.cpp's): when the context fills, the tokens after the kept ones lose half
/// of their number, the rest move down with their keys rotated to their new positions.
struct ContextShiftTests {
    static func stories() throws -> Model { try Model(path: SharedData.path("models/stories260K.gguf")) }

    /// Layer 0's keys and values depend only on a token and its position: after a shift, every
    /// moved row equals the row computed afresh for that token at its new position (keys within
    /// the rounding of the rotation, values exactly); rows before the dropped range are untouched.
    @Test(.enabled(if: SharedData.available, SharedData.missingMessage), arguments: [KVCacheType.f32, .f16])
    func shiftedKeysAreTheKeysOfTheNewPositions(_ type: KVCacheType) throws {
        let model = try Self.stories()
        let tokens = BatchedPrefillTests.randomTokens(60, vocabulary: model.config.vocabularySize, seed: 41)
        let shifted = try Session(model: model, contextLength: 64, cacheType: type)
        try shifted.append(tokens)
        let before = (0..<4).map { shifted.kvCache.row(layer: 0, head: 1, position: $0) }
        try shifted.shiftContext(keep: 4, discard: 20)
        #expect(shifted.tokens == Array(tokens[..<4] + tokens[24...]))
        let fresh = try Session(model: model, contextLength: 64, cacheType: type)
        try fresh.append(shifted.tokens)
        for p in 0..<shifted.tokens.count {
            for head in 0..<model.config.kvHeadCount {
                let a = shifted.kvCache.row(layer: 0, head: head, position: p), b = fresh.kvCache.row(layer: 0, head: head, position: p)
                // f16 keys are rounded twice (stored, then rotated and stored again): within two
                // of their ulps (2⁻¹⁰ of the largest).
                let keyError = zip(a.key, b.key).map { abs($0 - $1) }.max()!, largest = b.key.map(abs).max()!
                #expect(keyError <= (type == .f32 ? 1e-5 : largest / 512), "position \(p), head \(head): keys differ by \(keyError)")
                #expect(a.value == b.value, "position \(p), head \(head)")
            }
        }
        #expect((0..<4).allSatisfy { shifted.kvCache.row(layer: 0, head: 1, position: $0) == before[$0] })
    }

    /// Greedy generation of three contexts' worth goes on past every shift, and the text after
    /// the shifts is as likely under a fresh session as the text before them (fluent, not noise).
    @Test(.enabled(if: SharedData.available, SharedData.missingMessage))
    func generationGoesOnPastEveryShift() throws {
        let model = try Self.stories()
        let session = try Session(model: model, contextLength: 64)
        let prompt = model.tokenizer.encode("Once upon a time", options: EncodeOptions(addBOS: true))
        var generator = try Generator(session: session, prompt: prompt, parameters: GenerateParameters(maxTokens: 192, temperature: 0))
        var generated: [Int] = [], shifts = 0, reason: FinishReason?
        while let event = try generator.next() {
            switch event {
            case .text(_, let tokens): generated += tokens
            case .finished(let r, let stats): reason = r; shifts = stats.contextShifts
            }
        }
        #expect(reason == .length && generated.count == 192)
        #expect(shifts >= 3, "\(shifts) shifts")
        // The mean negative log-likelihood of the last 32 tokens given the 32 before them, from a
        // fresh session, against that of the first 32 after the prompt.
        func nll(_ text: [Int]) throws -> Double {
            let fresh = try Session(model: model, contextLength: 64)
            var total = 0.0
            try fresh.append(text, scoring: 31..<63) { index, logits in
                total += PerplexityEvaluation.negativeLogLikelihood(logits, of: text[index + 1])
            }
            return total / 32
        }
        let early = try nll(Array(generated[..<64])), late = try nll(Array(generated[(generated.count - 64)...]))
        #expect(late < early + 1.0 && late < 2.0, "after the shifts \(late) nats a token, before \(early)")
    }

    /// With context shift off, a full context ends generation.
    @Test(.enabled(if: SharedData.available, SharedData.missingMessage))
    func withoutShiftAFullContextEndsGeneration() throws {
        let model = try Self.stories()
        let session = try Session(model: model, contextLength: 32)
        var parameters = GenerateParameters(maxTokens: 100, temperature: 0)
        parameters.contextShift = false
        var generator = try Generator(session: session, prompt: [1], parameters: parameters)
        var reason: FinishReason?
        while let event = try generator.next() { if case .finished(let r, _) = event { reason = r } }
        #expect(reason == .contextFull && session.tokens.count == 32)
    }

    /// A sliding-window model (gemma3's reference: window 16) shifts in place: the windowed
    /// layers move the window the next token needs; the logits of what follows stay close to a
    /// session that computes the kept tokens afresh.
    @Test func slidingWindowLayersShiftTheirWindow() throws {
        let model = try SlidingWindowCacheTests.model()
        let tokens = BatchedPrefillTests.randomTokens(500, vocabulary: model.config.vocabularySize, seed: 42)
        let next = BatchedPrefillTests.randomTokens(8, vocabulary: model.config.vocabularySize, seed: 43)
        let shifted = try Session(model: model, contextLength: 1000, cacheType: .f32)
        try shifted.append(tokens)
        try shifted.shiftContext(keep: 1, discard: 250)
        #expect(shifted.tokens.count == 250)
        // The global layer still holds every kept position; windowed ones, their last window.
        let fresh = try Session(model: model, contextLength: 1000, cacheType: .f32)
        try fresh.append(shifted.tokens)
        for p in 235..<250 {  // the 15 positions before 250 that its window sees
            let a = shifted.kvCache.row(layer: 0, head: 0, position: p), b = fresh.kvCache.row(layer: 0, head: 0, position: p)
            #expect(zip(a.key, b.key).allSatisfy { abs($0 - $1) <= 1e-4 } && a.value == b.value, "position \(p)")
        }
        #expect(!shifted.kvCache.canRewind(to: 200), "a shift leaves no ring behind the shifted end")
        try shifted.append(next)
        #expect(shifted.tokens.count == 258)
    }
}
