import CKernels
import Foundation
import Testing
@testable import InferKit

/// Generation's forward pass (TokenForward, Kernels/decode.c) on any number of threads against
/// one thread, and O and down in column parts against whole matrices.
struct TokenForwardTests {
    static let interleaves = infer_isa_active() == INFER_ISA_AVX512

    /// A model of random `type` matrices whose O and down split into two column parts of whole
    /// blocks of every type (256-element K-quant blocks): dim 512, hidden 1024.
    static func model(_ type: GGMLType, heads: Int = 8, kvHeads: Int = 2) throws -> String {
        var builder = TinyModel(dim: 512, hidden: 1024, layers: 2, heads: heads, kvHeads: kvHeads, seed: 11).builder()
        var random = TestRandom(seed: 12)
        let kind = type == .q4_0 ? KernelType(type: .q4_0, scaleOffsets: [0], scaleRange: 0.004...0.012)
            : InterleavedWeightsTests.kernelType(type)
        for i in builder.tensors.indices where builder.tensors[i].shape.count == 2 {
            let (cols, rows) = (builder.tensors[i].shape[0], builder.tensors[i].shape[1])
            builder.tensors[i].type = type
            builder.tensors[i].data = (0..<rows).flatMap { _ in kind.randomRow(cols, &random) }
        }
        return try builder.write()
    }

    /// Every thread count gives the logits of one thread, bit for bit: two threads multiply one
    /// column part each; three share every part's rows and take K's and V's rows in groups of 8
    /// (2 KV heads do not share among 3).
    @Test(arguments: [GGMLType.q4_K, .q4_0, .q6_K, .q8_0])
    func sameLogitsOnEveryThreadCount(_ type: GGMLType) throws {
        let model = try Model(file: MappedFile(path: try Self.model(type)), tokenizerPath: nil, columnParts: 2)
        let parts = model.transformer.weights.layers.map { [$0.wo.columnParts.count, $0.down.columnParts.count] }
        #expect(parts.allSatisfy { $0 == [2, 2] })
        let tokens = BatchedPrefillTests.randomTokens(20, vocabulary: model.config.vocabularySize, seed: 3)
        let one = try BatchedPrefillTests.allLogits(model, tokens, batchSize: 1, threads: 1)
        for threads in [2, 3] {
            let many = try BatchedPrefillTests.allLogits(model, tokens, batchSize: 1, threads: threads)
            for (i, (a, b)) in zip(one, many).enumerated() {
                let same = a == b  // (not in the expectation, which would print every logit)
                #expect(same, "\(type.name), \(threads) threads, token \(i): logits differ by \(BatchedPrefillTests.difference(a, b))")
            }
        }
    }

    /// One KV head for two threads: each attends with its own query heads over the shared head,
    /// whose keys and values the threads compute in shares of rows.
    @Test func oneKVHeadSharedByTwoThreads() throws {
        let model = try Model(file: MappedFile(path: try Self.model(.q8_0, heads: 4, kvHeads: 1)), tokenizerPath: nil, columnParts: 2)
        let tokens = BatchedPrefillTests.randomTokens(12, vocabulary: model.config.vocabularySize, seed: 4)
        let one = try BatchedPrefillTests.allLogits(model, tokens, batchSize: 1, threads: 1)
        let two = try BatchedPrefillTests.allLogits(model, tokens, batchSize: 1, threads: 2)
        #expect(one == two)
    }

    /// O and down in column parts sum their products in another order than whole: the same
    /// logits within what that moves (see InterleavedWeightsTests.modelTolerance), token by
    /// token and batched.
    @Test(arguments: [GGMLType.q4_K, .q6_K, .q5_0])
    func columnPartsGiveTheLogitsOfTheWholeMatrices(_ type: GGMLType) throws {
        let path = try Self.model(type)
        let parted = try Model(file: MappedFile(path: path), tokenizerPath: nil, columnParts: 2)
        let whole = try Model(file: MappedFile(path: path), tokenizerPath: nil, columnParts: 1)
        #expect(whole.transformer.weights.layers.allSatisfy { $0.wo.columnParts.isEmpty && $0.down.columnParts.isEmpty })
        #expect(parted.transformer.weights.layers.allSatisfy { $0.wo.columnParts.count == 2 && $0.down.columnParts.count == 2 })
        if Self.interleaves && type != .q5_0 { try InterleavedWeightsTests.expectOneBlockWithoutOverlaps(parted.transformer.weights) }
        let tokens = BatchedPrefillTests.randomTokens(24, vocabulary: parted.config.vocabularySize, seed: 5)
        for batchSize in [1, 12] {
            let a = try BatchedPrefillTests.allLogits(parted, tokens, batchSize: batchSize, threads: 2)
            let b = try BatchedPrefillTests.allLogits(whole, tokens, batchSize: batchSize, threads: 2)
            for (i, (x, y)) in zip(a, b).enumerated() {
                let d = BatchedPrefillTests.difference(x, y)
                #expect(d <= InterleavedWeightsTests.modelTolerance, "batch size \(batchSize), token \(i): logits differ by \(d)")
            }
        }
    }

    /// Parts only where every part is whole blocks along head and 8-row boundaries: 8 heads and
    /// 1024 hidden rows do not share among 3; 256-element blocks fit 1024 / 4 columns of down but
    /// not 512 / 4 of O.
    @Test func partsOnlyWhereTheySplit() throws {
        let path = try Self.model(.q4_K)
        let three = try Model(file: MappedFile(path: path), tokenizerPath: nil, columnParts: 3).transformer.weights.layers[0]
        #expect(three.wo.columnParts.isEmpty && three.down.columnParts.isEmpty)
        let four = try Model(file: MappedFile(path: path), tokenizerPath: nil, columnParts: 4).transformer.weights.layers[0]
        #expect(four.wo.columnParts.isEmpty && four.down.columnParts.count == 4)
    }
}
