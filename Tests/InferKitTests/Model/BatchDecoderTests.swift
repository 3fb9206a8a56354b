import Foundation
import Testing
@testable import InferKit

/// A step of several sessions in one forward pass (`BatchDecoder`, `infer_decode` over several
/// sequences) gives each session what it gets alone: the same logits, bit for bit, and the same
/// cache, on every family (sliding windows in rings, soft-caps, biases, Q/K norms, partial RoPE),
/// cache type, weight type (the interleaved copies' batched kernels, the others row by row),
/// thread count and context length, with the sessions at different positions.
struct BatchDecoderTests {
    /// Sessions at different depths: `lengths[i]` prompt tokens each (all of the first `ring`
    /// windowed layers' ring wraps while stepping), `steps` tokens appended to all together and
    /// alone; every step's logits compared.
    static func expectSameAsAlone(_ model: Model, lengths: [Int], steps: Int, contexts: [Int]? = nil,
                                  cacheType: KVCacheType = .f32, threads: Int = 2, sessionThreads: Int = 1,
                                  _ what: String) throws {
        let vocabulary = model.config.vocabularySize
        func sessions() throws -> [Session] {
            try lengths.indices.map { i in
                let s = try Session(model: model, contextLength: contexts?[i] ?? 640, threads: sessionThreads, cacheType: cacheType)
                try s.append(BatchedPrefillTests.randomTokens(lengths[i], vocabulary: vocabulary, seed: UInt64(100 + i)))
                return s
            }
        }
        let together = try sessions(), alone = try sessions()
        let decoder = try BatchDecoder(model: model, threads: threads)
        var random = SplitMix64(seed: 7)
        for step in 0..<steps {
            let tokens = lengths.map { _ in Int(random.nextUnitDouble() * Double(vocabulary)) }
            try decoder.append(tokens, to: together)
            for (session, token) in zip(alone, tokens) { try session.append([token]) }
            for (i, (a, b)) in zip(together, alone).enumerated() {
                let same = Array(a.logits).elementsEqual(Array(b.logits)) { $0.bitPattern == $1.bitPattern }
                #expect(same, "\(what): session \(i), step \(step): logits differ by \(BatchedPrefillTests.difference(Array(a.logits), Array(b.logits)))")
                #expect(a.tokens == b.tokens)
            }
        }
        // The caches hold the same keys and values: a batched prompt over them scores the same.
        let more = BatchedPrefillTests.randomTokens(20, vocabulary: vocabulary, seed: 9)
        for (a, b) in zip(together, alone) {
            try a.append(more)
            try b.append(more)
            #expect(Array(a.logits) == Array(b.logits), "\(what): a prompt after the steps")
        }
    }

    /// The interleaved copies' batched kernels (AVX-512 VNNI; elsewhere the rows in place), O and
    /// down in two column parts: each thread its own part (2 threads), or shared rows (1, 3).
    @Test(arguments: [GGMLType.q4_K, .q4_0, .q6_K, .q8_0], [1, 2, 3])
    func quantizedWeights(_ type: GGMLType, threads: Int) throws {
        let model = try Model(file: MappedFile(path: try TokenForwardTests.model(type)), tokenizerPath: nil, columnParts: 2)
        try Self.expectSameAsAlone(model, lengths: [3, 17, 1, 40, 8], steps: 6, cacheType: .q8_0, threads: threads,
                                   sessionThreads: threads, "\(type.name), \(threads) threads")
    }

    /// Each family's reference model (f32 weights: the rows in place), in each cache type its
    /// heads allow (q8_0 needs head sizes in blocks of 32, which these have not).
    @Test(arguments: ArchitectureReferenceTests.families, [KVCacheType.f32, .f16])
    func everyFamily(_ family: String, cacheType: KVCacheType) throws {
        let model = try Model(path: ArchitectureReferenceTests.folder.appendingPathComponent("\(family).gguf").path)
        try Self.expectSameAsAlone(model, lengths: [5, 30, 12], steps: 8, cacheType: cacheType, "\(family), \(cacheType)")
    }

    /// gemma3's windowed layers keep their window in a ring (window 16 + a batch of 256) when the
    /// context is long: sessions deep enough that their rings wrap while they step, beside a short
    /// one and one whose context is short enough to keep every position.
    @Test func slidingWindowRings() throws {
        let model = try Model(path: ArchitectureReferenceTests.folder.appendingPathComponent("gemma3.gguf").path)
        try Self.expectSameAsAlone(model, lengths: [268, 4, 300, 200], steps: 12, contexts: [4096, 4096, 4096, 600],
                                   cacheType: .f16, "gemma3 rings")
    }

    /// More sessions than one pass takes run in several passes.
    @Test func moreSessionsThanOnePass() throws {
        let model = try BatchedPrefillTests.tinyModel(.q8_0)
        let count = TokenForward.maxCapacity + 3
        try Self.expectSameAsAlone(model, lengths: (0..<count).map { 1 + $0 % 7 }, steps: 3, contexts: Array(repeating: 64, count: count),
                                   "\(count) sessions")
    }

    @Test func refusesWhatItCannotStep() throws {
        let model = try BatchedPrefillTests.tinyModel(.q8_0)
        let other = try BatchedPrefillTests.tinyModel(.f16)
        let decoder = try BatchDecoder(model: model, threads: 1)
        let a = try Session(model: model, contextLength: 8), b = try Session(model: model, contextLength: 8)
        try a.append([1, 2])
        func refused(_ tokens: [Int], _ sessions: [Session], _ what: String) {
            #expect(throws: InferError.self, "\(what)") { try decoder.append(tokens, to: sessions) }
        }
        refused([1], [a, b], "counts that differ")
        refused([1, 2], [a, a], "a session twice")
        refused([1, 2], [a, try Session(model: other, contextLength: 8)], "another model")
        refused([1, model.config.vocabularySize], [a, b], "a token outside the vocabulary")
        try a.append([3, 4, 5, 6, 7, 8])
        #expect(a.remaining == 0)
        refused([1, 2], [a, b], "a full context")
        // Nothing was computed: b is as it was.
        #expect(b.tokens.isEmpty)
        try decoder.append([], to: [])
        #expect(throws: InferError.self) { try BatchDecoder(model: model, threads: 0) }
    }
}
