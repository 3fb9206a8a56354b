import CKernels
import Foundation
import Testing
@testable import InferKit

/// q4_K matrices interleaved by 8 rows (Kernels/q4_K_x8.c): the copy holds exactly the file's
/// blocks, and every path that reads it (the 8-row kernel, the batched path's packing and
/// widening) computes what the in-place q4_K paths compute.
struct InterleavedQ4KTests {
    static let q4K = KernelType.all.first { $0.type == .q4_K }!

    /// `rows` random q4_K rows of `cols` elements, one after the other.
    static func randomMatrix(rows: Int, cols: Int, seed: UInt64) -> [UInt8] {
        var random = TestRandom(seed: seed)
        return (0..<rows).flatMap { _ in q4K.randomRow(cols, &random) }
    }

    static func interleaved(_ matrix: [UInt8], rows: Int, cols: Int) -> [UInt8] {
        var copy = [UInt8](repeating: 0, count: infer_q4_K_x8_bytes(Int32(rows), Int32(cols)))
        matrix.withUnsafeBytes { infer_q4_K_x8_repack($0.baseAddress!, cols / 256 * 144, Int32(rows), Int32(cols), &copy) }
        return copy
    }

    @Test func everyBlockComesBackAsInTheFile() {
        let rows = 16, cols = 768
        let matrix = Self.randomMatrix(rows: rows, cols: cols, seed: 1)
        let copy = Self.interleaved(matrix, rows: rows, cols: cols)
        #expect(copy.count == rows * cols / 256 * 148)
        var block = [UInt8](repeating: 0, count: 144)
        for r in 0..<rows {
            for i in 0..<(cols / 256) {
                copy.withUnsafeBytes { infer_q4_K_x8_block($0.baseAddress!, Int32(cols), Int32(r), Int32(i), &block) }
                let start = (r * cols / 256 + i) * 144
                #expect(block == Array(matrix[start..<start + 144]), "row \(r) block \(i)")
            }
        }
    }

    /// y = W x through the pool (the 8-row kernel where the CPU has it) and through the scalar
    /// reference, for the matrix in place and interleaved.
    @Test func productsMatchTheInPlaceKernels() throws {
        let rows = 40, cols = 1024
        let matrix = Self.randomMatrix(rows: rows, cols: cols, seed: 2)
        var random = TestRandom(seed: 3)
        let x = (0..<cols).map { _ in random.uniform(-1, 1) }
        try matrix.withUnsafeBytes { bytes in
            let inPlace = WeightMatrix(rows: rows, cols: cols, storage: .ggml(.q4_K, bytes.baseAddress!, rowBytes: cols / 256 * 144))
            let copy = inPlace.interleaving()
            if infer_isa_active() == INFER_ISA_AVX512 {
                #expect(copy.interleaved != nil)
            } else {
                #expect(copy.interleaved == nil, "interleaved only for the AVX-512 kernels")
                print("InterleavedQ4KTests: no AVX-512 VNNI here; only the layout is tested")
                return
            }
            func product(_ m: WeightMatrix) -> [Float] {
                var y = [Float](repeating: 0, count: rows)
                y.withUnsafeMutableBufferPointer { out in ThreadPool(threads: 2).multiply(x, by: [m], into: [out.baseAddress!]) }
                return y
            }
            func reference(_ m: WeightMatrix) -> [Float] {
                var y = [Float](repeating: 0, count: rows)
                var d = m.descriptor
                infer_matvec_reference(&d, x, &y, 0, Int32(rows))
                return y
            }
            let expected = reference(inPlace)
            #expect(reference(copy) == expected, "the rebuilt rows are the file's")
            let scale = max(1, expected.map(abs).max()!)
            for (a, b) in [(product(copy), expected), (product(inPlace), expected)] {
                let d = zip(a, b).map { abs($0 - $1) }.max()!
                #expect(d <= 1e-5 * scale, "max difference \(d)")
            }
            // The batched path packs and widens rows rebuilt from the copy.
            var widened = [Float](repeating: 0, count: rows * cols), reference = widened
            copy.dequantizeRows(0..<rows, into: &widened)
            inPlace.dequantizeRows(0..<rows, into: &reference)
            #expect(widened == reference)
        }
    }

    /// A model of random q4_K matrices whose dimensions all allow interleaving.
    static func q4KModel() throws -> String {
        var builder = TinyModel(dim: 256, hidden: 512, layers: 2, heads: 4, kvHeads: 2, seed: 5).builder()
        var random = TestRandom(seed: 6)
        for i in builder.tensors.indices where builder.tensors[i].shape.count == 2 {
            let (cols, rows) = (builder.tensors[i].shape[0], builder.tensors[i].shape[1])
            builder.tensors[i].type = .q4_K
            builder.tensors[i].data = (0..<rows).flatMap { _ in q4K.randomRow(cols, &random) }
        }
        return try builder.write()
    }

    @Test func modelGivesTheSameLogitsInterleavedOrNot() throws {
        let path = try Self.q4KModel()
        let copied = try Model(file: MappedFile(path: path), tokenizerPath: nil, interleave: true)
        let inPlace = try Model(file: MappedFile(path: path), tokenizerPath: nil, interleave: false)
        let interleaves = infer_isa_active() == INFER_ISA_AVX512
        #expect(copied.transformer.weights.layers[0].wq.interleaved != nil || !interleaves)
        #expect(copied.transformer.weights.tokenEmbedding.interleaved == nil)
        #expect(copied.weightBytesByType.map(\.type) == ["Q4_K"])
        let tokens = BatchedPrefillTests.randomTokens(24, vocabulary: copied.config.vocabularySize, seed: 7)
        for batchSize in [1, 12] {  // token by token (8-row kernel), and batched (packing)
            let a = try BatchedPrefillTests.allLogits(copied, tokens, batchSize: batchSize)
            let b = try BatchedPrefillTests.allLogits(inPlace, tokens, batchSize: batchSize)
            for (i, (x, y)) in zip(a, b).enumerated() {
                let d = BatchedPrefillTests.difference(x, y)
                #expect(d <= 1e-4, "batch size \(batchSize), token \(i): logits differ by \(d)")
            }
        }
    }
}
