import CKernels
import Foundation
import Testing
@testable import InferKit

/// q4_K, q4_0, q6_K and q8_0 matrices interleaved by 8 rows (Kernels/q4_K_x8.c, q4_0_x8.c, q6_K_x8.c,
/// q8_0_x8.c): the copy
/// holds exactly the file's blocks, and every path that reads it (the 8-row kernels, the
/// batched path's packing and widening) computes what the in-place paths compute.
struct InterleavedWeightsTests {
    static func kernelType(_ type: GGMLType) -> KernelType { KernelType.all.first { $0.type == type }! }

    /// `rows` random rows of `cols` elements, one after the other.
    static func randomMatrix(_ type: GGMLType, rows: Int, cols: Int, seed: UInt64) -> [UInt8] {
        var random = TestRandom(seed: seed)
        return (0..<rows).flatMap { _ in kernelType(type).randomRow(cols, &random) }
    }

    static func interleavedType(_ type: GGMLType) -> infer_type {
        switch type {
        case .q4_K: return INFER_TYPE_Q4_K_X8
        case .q6_K: return INFER_TYPE_Q6_K_X8
        case .q8_0: return INFER_TYPE_Q8_0_X8
        default: return INFER_TYPE_Q4_0_X8
        }
    }

    static func interleaved(_ type: GGMLType, _ matrix: [UInt8], rows: Int, cols: Int) -> [UInt8] {
        let x8 = interleavedType(type)
        var copy = [UInt8](repeating: 0, count: infer_interleaved_bytes(x8, Int32(rows), Int32(cols)))
        matrix.withUnsafeBytes { infer_interleave(x8, $0.baseAddress!, type.rowBytes(cols)!, Int32(rows), Int32(cols), &copy) }
        return copy
    }

    @Test(arguments: [GGMLType.q4_K, .q4_0, .q6_K, .q8_0])
    func everyBlockComesBackAsInTheFile(_ type: GGMLType) {
        let rows = 16, cols = 768, blocks = cols / type.blockSize, blockBytes = type.blockBytes
        let matrix = Self.randomMatrix(type, rows: rows, cols: cols, seed: 1)
        let copy = Self.interleaved(type, matrix, rows: rows, cols: cols)
        // q4_K's copy holds the scales unpacked (148 bytes a block), the others' the same bytes.
        #expect(copy.count == rows * blocks * (type == .q4_K ? 148 : blockBytes))
        var block = [UInt8](repeating: 0, count: blockBytes)
        for r in 0..<rows {
            for i in 0..<blocks {
                copy.withUnsafeBytes {
                    infer_interleaved_block(Self.interleavedType(type), $0.baseAddress!, Int32(cols), Int32(r), Int32(i), &block)
                }
                let start = (r * blocks + i) * blockBytes
                #expect(block == Array(matrix[start..<start + blockBytes]), "row \(r) block \(i)")
            }
        }
    }

    /// y = W x through the pool (the 8-row kernel where the CPU has it) and through the scalar
    /// reference, for the matrix in place and interleaved.
    @Test(arguments: [GGMLType.q4_K, .q4_0, .q6_K, .q8_0], [256, 1024])
    func productsMatchTheInPlaceKernels(_ type: GGMLType, cols: Int) throws {
        let rows = 40
        let matrix = Self.randomMatrix(type, rows: rows, cols: cols, seed: 2)
        var random = TestRandom(seed: 3)
        let x = (0..<cols).map { _ in random.uniform(-1, 1) }
        try matrix.withUnsafeBytes { bytes in
            let inPlace = WeightMatrix(rows: rows, cols: cols, storage: .ggml(type, bytes.baseAddress!, rowBytes: type.rowBytes(cols)!))
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
            var part = [Float](repeating: 0, count: 26 * cols)  // rows 3..<29: groups of 8 cut
            copy.dequantizeRows(3..<29, into: &part)
            #expect(part == Array(reference[3 * cols..<29 * cols]))
        }
    }

    /// The batched path's integer panels packed from the copy (q8_0's straight from its groups of
    /// 8 rows, the others from rebuilt blocks) are the panels of the rows in place, byte for
    /// byte: whole panels of 16 rows, a last panel of 8, and ranges starting mid-panel.
    @Test(arguments: [GGMLType.q4_K, .q4_0, .q8_0])
    func packedPanelsMatchTheInPlaceRows(_ type: GGMLType) {
        let rows = 40, cols = 512
        let matrix = Self.randomMatrix(type, rows: rows, cols: cols, seed: 4)
        let copy = Self.interleaved(type, matrix, rows: rows, cols: cols)
        let fileType = infer_type(type.rawValue), rowBytes = type.rowBytes(cols)!
        for (begin, end) in [(0, 40), (16, 40), (8, 24), (32, 40)] {
            let bytes = infer_qgemm_panel_bytes(Int32(end - begin), Int32(cols))
            var fromCopy = [UInt8](repeating: 0xAA, count: bytes), inPlace = [UInt8](repeating: 0x55, count: bytes)
            copy.withUnsafeBytes {
                infer_qgemm_pack(Self.interleavedType(type), $0.baseAddress!, 0, Int32(begin), Int32(end), Int32(cols), &fromCopy)
            }
            matrix.withUnsafeBytes {
                infer_qgemm_pack(fileType, $0.baseAddress!, rowBytes, Int32(begin), Int32(end), Int32(cols), &inPlace)
            }
            #expect(fromCopy == inPlace, "rows \(begin)..<\(end)")
        }
    }

    /// A model of random `type` matrices whose dimensions all allow interleaving. Weights of
    /// magnitude ~0.05 (q4_0's scales made small), so that activations do not grow from layer
    /// to layer and amplify the last bits in which two kernels may differ.
    static func model(_ type: GGMLType) throws -> String {
        var builder = TinyModel(dim: 256, hidden: 512, layers: 2, heads: 4, kvHeads: 2, seed: 5).builder()
        var random = TestRandom(seed: 6)
        let kind = type == .q4_0 ? KernelType(type: .q4_0, scaleOffsets: [0], scaleRange: 0.004...0.012) : kernelType(type)
        for i in builder.tensors.indices where builder.tensors[i].shape.count == 2 {
            let (cols, rows) = (builder.tensors[i].shape[0], builder.tensors[i].shape[1])
            builder.tensors[i].type = type
            builder.tensors[i].data = (0..<rows).flatMap { _ in kind.randomRow(cols, &random) }
        }
        return try builder.write()
    }

    /// The kernels sum in different orders, so an activation can come out one f32 ulp apart
    /// and round to the neighbouring int8 when the next product quantizes it: a step of 1/254
    /// of its block's largest value, which later layers carry on (measured: up to 1.1e-2 for
    /// q4_0, below 1e-4 for q4_K; a wrong scale in a kernel gives differences above 1).
    static let modelTolerance: Float = 3e-2

    @Test(arguments: [GGMLType.q4_K, .q4_0, .q6_K, .q8_0])
    func modelGivesTheSameLogitsInterleavedOrNot(_ type: GGMLType) throws {
        let path = try Self.model(type)
        let copied = try Model(file: MappedFile(path: path), tokenizerPath: nil, interleave: true)
        let inPlace = try Model(file: MappedFile(path: path), tokenizerPath: nil, interleave: false)
        let interleaves = infer_isa_active() == INFER_ISA_AVX512
        #expect(copied.transformer.weights.layers[0].wq.interleaved != nil || !interleaves)
        #expect(copied.transformer.weights.tokenEmbedding.interleaved == nil)
        if interleaves { try Self.expectOneBlockWithoutOverlaps(copied.transformer.weights) }
        #expect(copied.weightBytesByType.map(\.type) == [type.name])
        // Short appends skip the batched pass where it pays off only for longer ones: against
        // the fast one-token kernels of the q4 copies.
        let smallest = !interleaves ? 4 : type == .q4_K ? 16 : type == .q4_0 ? 12 : 4
        #expect(try Session(model: copied).smallestBatch == smallest)
        #expect(try Session(model: inPlace).smallestBatch == 4)
        let tokens = BatchedPrefillTests.randomTokens(24, vocabulary: copied.config.vocabularySize, seed: 7)
        for batchSize in [1, 12] {  // token by token (8-row kernel), and batched (packing)
            let a = try BatchedPrefillTests.allLogits(copied, tokens, batchSize: batchSize)
            let b = try BatchedPrefillTests.allLogits(inPlace, tokens, batchSize: batchSize)
            for (i, (x, y)) in zip(a, b).enumerated() {
                let d = BatchedPrefillTests.difference(x, y)
                #expect(d <= Self.modelTolerance, "batch size \(batchSize), token \(i): logits differ by \(d)")
            }
        }
    }

    /// The model's copies (column parts each) lie in one block of memory, 2 MiB-aligned (for
    /// huge pages), each on a cache line of its own and none overlapping another.
    static func expectOneBlockWithoutOverlaps(_ weights: ModelWeights) throws {
        let matrices = weights.matrices.flatMap { name, m in
            m.columnParts.isEmpty ? [(name, m)] : m.columnParts.enumerated().map { ("\(name) part \($0)", $1) }
        }
        let copies = matrices.compactMap { name, m in m.interleaved.map { (name, m, $0) } }
        let memory = try #require(copies.first?.2.memory)
        #expect(Int(bitPattern: memory.start) % (2 << 20) == 0)
        var ranges: [(String, Range<Int>)] = []
        for (name, m, copy) in copies {
            #expect(copy.memory === memory, "\(name) has memory of its own")
            let start = copy.bytes - UnsafeRawPointer(memory.start)
            #expect(start % 64 == 0 && start + m.interleavedByteCount() <= memory.byteCount, "\(name) at \(start)")
            ranges.append((name, start..<start + m.interleavedByteCount()))
        }
        for (i, (a, ra)) in ranges.enumerated() {
            for (b, rb) in ranges[(i + 1)...] where ra.overlaps(rb) { Issue.record("\(a) overlaps \(b)") }
        }
    }

    @Test func hugePageMemoryIsAlignedZeroedAndWritable() throws {
        let bytes = 3 << 20 + 1
        let memory = try #require(InterleavedMemory(byteCount: bytes))
        #expect(Int(bitPattern: memory.start) % (2 << 20) == 0)
        let view = memory.start.bindMemory(to: UInt8.self, capacity: bytes)
        #expect((0..<bytes).allSatisfy { view[$0] == 0 })
        for i in stride(from: 0, to: bytes, by: 4096) { view[i] = 7 }
        view[bytes - 1] = 9
        #expect(view[bytes - 1] == 9 && view[4096] == 7)
    }
}
