import CKernels
import Foundation
import Testing
@testable import InferKit

/// Generation's tensor-parallel pass (TokenDecoder, Kernels/decode.c) against the forward pass
/// of jobs over the same column parts of O and down, and the parts against the whole matrices.
struct TokenDecoderTests {
    static let cores = ProcessInfo.processInfo.activeProcessorCount
    static let interleaves = infer_isa_active() == INFER_ISA_AVX512

    /// A model of random `type` matrices whose O and down split into two column parts of whole
    /// blocks of every type (256-element K-quant blocks): dim 512, hidden 1024, 2 KV heads.
    static func model(_ type: GGMLType) throws -> String {
        var builder = TinyModel(dim: 512, hidden: 1024, layers: 2, heads: 8, kvHeads: 2, seed: 11).builder()
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

    @Test(arguments: [GGMLType.q4_K, .q4_0, .q6_K, .q8_0])
    func sameLogitsAsTheJobs(_ type: GGMLType) throws {
        let model = try Model(file: MappedFile(path: try Self.model(type)), tokenizerPath: nil, columnParts: 2)
        let parts = model.transformer.weights.layers.map { [$0.wo.columnParts.count, $0.down.columnParts.count] }
        #expect(parts.allSatisfy { $0 == (Self.interleaves ? [2, 2] : [0, 0]) })
        #expect(try !Session(model: model, contextLength: 16, threads: 1).decodesOnAllThreads)
        #expect(try Session(model: model, contextLength: 16, threads: 2).decodesOnAllThreads == (Self.interleaves && Self.cores >= 2))
        let tokens = BatchedPrefillTests.randomTokens(20, vocabulary: model.config.vocabularySize, seed: 3)
        let jobs = try BatchedPrefillTests.allLogits(model, tokens, batchSize: 1, threads: 1)
        let together = try BatchedPrefillTests.allLogits(model, tokens, batchSize: 1, threads: 2)
        for (i, (a, b)) in zip(jobs, together).enumerated() {
            let same = a == b  // (not in the expectation, which would print every logit)
            #expect(same, "\(type.name), token \(i): logits differ by \(BatchedPrefillTests.difference(a, b))")
        }
    }

    /// O and down in column parts sum their products in another order than whole: the same
    /// logits within what that moves (see InterleavedWeightsTests.modelTolerance), token by
    /// token and batched.
    @Test(arguments: [GGMLType.q4_K, .q6_K])
    func columnPartsGiveTheLogitsOfTheWholeMatrices(_ type: GGMLType) throws {
        let path = try Self.model(type)
        let parted = try Model(file: MappedFile(path: path), tokenizerPath: nil, columnParts: 2)
        let whole = try Model(file: MappedFile(path: path), tokenizerPath: nil, columnParts: 1)
        #expect(whole.transformer.weights.layers.allSatisfy { $0.wo.columnParts.isEmpty && $0.down.columnParts.isEmpty })
        if Self.interleaves { try InterleavedWeightsTests.expectOneBlockWithoutOverlaps(parted.transformer.weights) }
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

    /// Parts only where every layer's O and down split into whole blocks and the KV heads
    /// share evenly; tokens run as jobs where the threads are not the parts or not all on cores.
    @Test func partsAndThreadsMustMatch() throws {
        let path = try Self.model(.q4_K)
        #expect(try Model(file: MappedFile(path: path), tokenizerPath: nil, columnParts: 4)
            .transformer.weights.layers[0].wo.columnParts.isEmpty, "2 KV heads do not share among 4")
        let model = try Model(file: MappedFile(path: path), tokenizerPath: nil, columnParts: 2)
        #expect(try !Session(model: model, contextLength: 16, threads: 3).decodesOnAllThreads)
        #expect(try !Session(model: model, contextLength: 16, threads: Self.cores + 1).decodesOnAllThreads)
    }
}
