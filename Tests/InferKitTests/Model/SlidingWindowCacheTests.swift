import Foundation
import Testing
@testable import InferKit

/// Sliding-window layers keep only their window (and a batch) of positions, in a ring written
/// twice over: against a session whose context is short enough that every layer keeps every
/// position, the logits are the same, bit for bit (the same positions attended in the same
/// order), on both paths, and a conversation that steps back within the ring's slack keeps its
/// cache while one that steps back further starts again.
struct SlidingWindowCacheTests {
    /// gemma3's reference model: window 16 on 5 of its 6 layers.
    static func model() throws -> Model {
        try Model(path: ArchitectureReferenceTests.folder.appendingPathComponent("gemma3.gguf").path)
    }

    /// Logits after each of `tokens`, in batches of `batchSize` (1: token by token).
    static func logits(_ session: Session, _ tokens: [Int], batchSize: Int) throws -> [[Float]] {
        session.batchSize = batchSize
        session.smallestBatch = 2
        var rows: [[Float]] = []
        try session.append(tokens, scoring: 0..<tokens.count) { _, logits in rows.append(Array(logits)) }
        return rows
    }

    @Test func ringGivesTheLogitsOfTheWholeCache() throws {
        let model = try Self.model()
        let tokens = BatchedPrefillTests.randomTokens(530, vocabulary: model.config.vocabularySize, seed: 21)
        // 540 positions: a ring (16 + 256) is not below half of them, so every layer keeps all.
        let whole = try Session(model: model, contextLength: 540)
        let ringed = try Session(model: model, contextLength: 4096)
        // Five windowed layers keep 2 × (16 + 256) rows, the global one 4096 (f16: 2 bytes a value).
        let row = 2 * model.config.kvDim * 2
        #expect(ringed.cacheBytes == row * (5 * 2 * (16 + Session.defaultBatchSize) + 4096))
        #expect(whole.cacheBytes == row * 6 * 540)
        for batchSize in [1, 64, 256] {
            whole.reset()
            ringed.reset()
            let a = try Self.logits(whole, tokens, batchSize: batchSize)
            let b = try Self.logits(ringed, tokens, batchSize: batchSize)
            #expect(a == b, "batches of \(batchSize)")
        }
    }

    @Test func steppingBackWithinTheRingKeepsTheCache() throws {
        let model = try Self.model()
        let tokens = BatchedPrefillTests.randomTokens(500, vocabulary: model.config.vocabularySize, seed: 22)
        let other = BatchedPrefillTests.randomTokens(40, vocabulary: model.config.vocabularySize, seed: 23)
        let whole = try Session(model: model, contextLength: 540)
        let ringed = try Session(model: model, contextLength: 4096)
        for session in [whole, ringed] { _ = try Self.logits(session, tokens, batchSize: 64) }
        // 200 back: within the 256 positions the ring keeps beyond the window.
        let prompt = Array(tokens[..<300]) + other
        #expect(ringed.reuse(prefixOf: prompt) == 300)
        #expect(whole.reuse(prefixOf: prompt) == 300)
        #expect(try Self.logits(ringed, other, batchSize: 1) == Self.logits(whole, other, batchSize: 1))
        // 300 back from 340: the window of position 40 left the ring long ago.
        let again = Array(tokens[..<40]) + other
        #expect(ringed.reuse(prefixOf: again) == 0)
        #expect(whole.reuse(prefixOf: again) == 40)
    }
}
