import Foundation
import Testing
@testable import InferKit

/// KV caches of f16 and q8_0 rows: both forward passes read them alike, they stay close to the
/// f32 cache's logits, and they take half and about a quarter of its memory.
struct KVCacheTypeTests {
    /// A random f32 model with heads of 64 values (two q8_0 blocks each), whose two paths agree
    /// closely with an f32 cache.
    static func model() throws -> Model {
        try Model(path: try TinyModel(dim: 256, hidden: 512, layers: 2, heads: 4, kvHeads: 2, seed: 5).builder().write())
    }

    @Test(arguments: [KVCacheType.f16, .q8_0])
    func tokenByTokenAndBatchedAgree(_ type: KVCacheType) throws {
        let model = try Self.model()
        let tokens = BatchedPrefillTests.randomTokens(40, vocabulary: model.config.vocabularySize, seed: 31)
        let exact = try BatchedPrefillTests.allLogits(model, tokens, batchSize: 1, cacheType: .f32)
        let single = try BatchedPrefillTests.allLogits(model, tokens, batchSize: 1, cacheType: type)
        let batched = try BatchedPrefillTests.allLogits(model, tokens, batchSize: 16, threads: 2, cacheType: type)
        // The paths compute keys and values a few f32 ulps apart, which can round to neighbouring
        // f16 values (or q8_0 steps), as with f16 weights (BatchedPrefillTests.f16Tolerance).
        let paths: Float = type == .f16 ? BatchedPrefillTests.f16Tolerance : 1e-2
        // The rounding of the stored keys and values: f16 keeps 11 bits, q8_0 8 bits a block.
        let fromF32: Float = type == .f16 ? 5e-3 : 5e-2
        var largestBetweenPaths: Float = 0, largest: Float = 0
        for (i, (a, b)) in zip(single, batched).enumerated() {
            largestBetweenPaths = max(largestBetweenPaths, BatchedPrefillTests.difference(a, b))
            largest = max(largest, BatchedPrefillTests.difference(a, exact[i]))
        }
        #expect(largestBetweenPaths <= paths, "\(type): the paths differ by \(largestBetweenPaths)")
        #expect(largest <= fromF32 && largest > 0, "\(type): \(largest) from the f32 cache's logits")
    }

    @Test func memoryFollowsTheType() throws {
        let model = try Self.model()
        let bytes = try [KVCacheType.f32, .f16, .q8_0].map { try Session(model: model, contextLength: 256, cacheType: $0).cacheBytes }
        let f32 = 2 * model.config.layerCount * model.config.kvDim * 256 * 4
        #expect(bytes == [f32, f32 / 2, f32 / 4 * 34 / 32])
        #expect(Session.defaultCacheType == .f16)
    }

    @Test func q8_0NeedsHeadsOfWholeBlocks() throws {
        let model = try Model(path: ArchitectureReferenceTests.folder.appendingPathComponent("llama.gguf").path)
        let message = ModelLoadingTests.errorMessage { _ = try Session(model: model, cacheType: .q8_0) }
        #expect(message.contains("q8_0") && message.contains("heads of 8 values"), "\(message)")
    }
}
