import CKernels
import Foundation
import Testing
@testable import InferKit

/// The products of batched decoding (`infer_matvec_rows_batch`: one weight matrix, several
/// inputs, each matrix read once): every input's result is the one-input kernel's, bit for bit
/// (the interleaved copies' 8-row kernels over 2, 3 and 4 inputs at a time, the in-place kernels
/// row by row), and within the bounds of the scalar reference.
struct BatchedRowsKernelTests {
    /// Input counts: one, each of the 8-row kernels' widths, and counts they take in pieces.
    static let counts = [1, 2, 3, 4, 5, 7, 8, 9]

    /// Rows of y[v] = W x[v] for each input: (batched, one input at a time, the scalar reference).
    static func products(_ m: WeightMatrix, inputs: [[Float]], rows range: Range<Int>) -> (batched: [[Float]], alone: [[Float]], reference: [[Float]]) {
        var d = m.descriptor
        let rows = m.rows
        func empty() -> [[Float]] { inputs.map { _ in [Float](repeating: .nan, count: rows) } }
        var batched = empty(), alone = empty(), reference = empty()
        let actBytes = max(64, infer_matvec_activation_bytes(&d))
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: inputs.count * actBytes, alignment: 64)
        defer { scratch.deallocate() }
        let xs = inputs.map { x in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: x.count)
            p.initialize(from: x, count: x.count)
            return p
        }
        defer { xs.forEach { $0.deallocate() } }
        let acts = xs.enumerated().map { v, x in infer_matvec_activation(&d, x, scratch + v * actBytes) }
        let ys = inputs.map { _ in UnsafeMutablePointer<Float>.allocate(capacity: rows) }
        defer { ys.forEach { $0.deallocate() } }
        for y in ys { y.initialize(repeating: .nan, count: rows) }
        let constXs = xs.map { Optional(UnsafePointer($0)) }
        let optionalYs = ys.map { Optional($0) }
        acts.withUnsafeBufferPointer { a in
            constXs.withUnsafeBufferPointer { x in
                optionalYs.withUnsafeBufferPointer { y in
                    infer_matvec_rows_batch(&d, a.baseAddress, x.baseAddress, y.baseAddress, Int32(inputs.count),
                                            Int32(range.lowerBound), Int32(range.upperBound))
                }
            }
        }
        for v in inputs.indices {
            batched[v] = Array(UnsafeBufferPointer(start: ys[v], count: rows))
            alone[v].withUnsafeMutableBufferPointer {
                infer_matvec_rows(&d, acts[v], xs[v], $0.baseAddress, Int32(range.lowerBound), Int32(range.upperBound))
            }
            reference[v].withUnsafeMutableBufferPointer {
                infer_matvec_reference(&d, xs[v], $0.baseAddress, Int32(range.lowerBound), Int32(range.upperBound))
            }
        }
        return (batched, alone, reference)
    }

    static func inputs(_ count: Int, cols: Int, seed: UInt64) -> [[Float]] {
        var random = TestRandom(seed: seed)
        return (0..<count).map { _ in (0..<cols).map { _ in random.uniform(-1, 1) } }
    }

    static func check(_ m: WeightMatrix, name: String, rows range: Range<Int>) {
        for count in counts {
            let (batched, alone, reference) = products(m, inputs: inputs(count, cols: m.cols, seed: UInt64(count)), rows: range)
            for v in 0..<count {
                let same = batched[v][range].elementsEqual(alone[v][range]) { $0.bitPattern == $1.bitPattern }
                #expect(same, "\(name): input \(v) of \(count): the batched rows differ from the one-input kernel's")
                let scale = max(1, reference[v][range].map(abs).max()!)
                let d = zip(batched[v][range], reference[v][range]).map { abs($0 - $1) }.max()!
                #expect(d <= 1e-5 * scale, "\(name): input \(v) of \(count): \(d) from the scalar reference")
                // Rows outside the range are left alone.
                #expect(batched[v][..<range.lowerBound].allSatisfy(\.isNaN) && batched[v][range.upperBound...].allSatisfy(\.isNaN))
            }
        }
    }

    /// The interleaved copies' 8-row kernels (AVX-512 VNNI) and their rebuilt rows' reference.
    @Test(arguments: [GGMLType.q4_K, .q4_0, .q6_K, .q8_0], [256, 1024])
    func interleavedCopies(_ type: GGMLType, cols: Int) throws {
        let rows = 40
        let matrix = InterleavedWeightsTests.randomMatrix(type, rows: rows, cols: cols, seed: 31)
        matrix.withUnsafeBytes { bytes in
            let inPlace = WeightMatrix(rows: rows, cols: cols, storage: .ggml(type, bytes.baseAddress!, rowBytes: type.rowBytes(cols)!))
            let copy = inPlace.interleaving()
            if copy.interleaved == nil { print("BatchedRowsKernelTests: no AVX-512 VNNI here; the rows in place only") }
            Self.check(copy, name: "\(type.name) interleaved, \(cols) columns", rows: 0..<rows)
            Self.check(copy, name: "\(type.name) interleaved, rows 8..<32", rows: 8..<32)
            Self.check(inPlace, name: "\(type.name) in place", rows: 3..<rows)
        }
    }

    /// Every type's rows in place: each row multiplied by every input while in the cache.
    @Test(arguments: KernelType.all)
    func rowsInPlace(_ t: KernelType) {
        let rows = 12, cols = 2 * max(t.type.blockSize, 32)
        var random = TestRandom(seed: 41 + UInt64(t.type.rawValue))
        let matrix = (0..<rows).flatMap { _ in t.randomRow(cols, &random) }
        matrix.withUnsafeBytes { bytes in
            let m = WeightMatrix(rows: rows, cols: cols, storage: .ggml(t.type, bytes.baseAddress!, rowBytes: t.type.rowBytes(cols)!))
            Self.check(m, name: t.type.name, rows: 0..<rows)
        }
    }
}
