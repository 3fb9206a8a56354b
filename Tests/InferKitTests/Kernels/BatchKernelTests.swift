import Foundation
import Testing
import CKernels
@testable import InferKit

/// The pieces of batched prompt processing (Kernels/batch.c) against the single-token
/// kernels they stand in for.
struct BatchKernelTests {
    static func random(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var random = SplitMix64(seed: seed)
        return (0..<n).map { _ in Float(random.nextUnitDouble() * 2 - 1) * scale }
    }

    @Test(arguments: [1, 7, 8, 9, 40, 333])
    func softmaxPrefixMatchesSoftmax(valid: Int) {
        var x = Self.random(valid + 5, seed: UInt64(valid), scale: 30)
        x[0] = -200  // an exponential that underflows
        var expected = Array(x[..<valid])
        infer_softmax(&expected, Int32(valid))
        infer_softmax_prefix(&x, Int32(valid), Int32(valid + 5))
        for i in 0..<valid { #expect(abs(x[i] - expected[i]) <= 1e-6 * max(1, expected[i])) }
        #expect(x[valid...].allSatisfy { $0 == 0 })
    }

    @Test func swigluBatchMatchesSwiglu() {
        var gate = Self.random(45, seed: 1, scale: 12) + [-100, 100, 0]
        let up = Self.random(48, seed: 2, scale: 3)
        var expected = gate
        infer_swiglu(&expected, up, 48)
        infer_swiglu_batch(&gate, up, 48)
        for i in 0..<48 { #expect(abs(gate[i] - expected[i]) <= 1e-5 * max(1, abs(expected[i])), "\(i)") }
    }

    @Test(arguments: [false, true])
    func ropeTableIsBitExact(neox: Bool) {
        let head = Self.random(64, seed: 3)
        for pos in [0, 1, 17, 2047] {
            var expected = head, rotated = head
            infer_rope(&expected, 48, Int32(pos), 10000, neox ? 1 : 0)
            var cosines = [Float](repeating: 0, count: 24), sines = cosines
            infer_rope_angles(Int32(pos), 48, 10000, &cosines, &sines)
            infer_rope_rotate(&rotated, 48, cosines, sines, neox ? 1 : 0)
            #expect(rotated == expected)
        }
    }

    @Test(arguments: [GGMLType.f16, .q8_0])
    func dequantizeRowsMatchesRows(type: GGMLType) {
        let cols = 96, rows = 5
        let floats = Self.random(rows * cols, seed: 4, scale: 2)
        let bytes = type == .f16 ? BatchedPrefillTests.encodeF16(floats) : BatchedPrefillTests.encodeQ8_0(floats)
        let rowBytes = bytes.count / rows
        var expected = [Float](repeating: 0, count: 3 * cols), widened = expected
        bytes.withUnsafeBytes { raw in
            for r in 1..<4 {
                expected.withUnsafeMutableBufferPointer { out in
                    infer_dequantize_row(infer_type(type.rawValue), raw.baseAddress! + r * rowBytes,
                                         out.baseAddress! + (r - 1) * cols, Int32(cols))
                }
            }
            infer_dequantize_rows(infer_type(type.rawValue), raw.baseAddress!, rowBytes, 1, 4, Int32(cols), &widened, cols)
        }
        #expect(widened == expected)
    }

    /// The float kernel against a double-precision product: a partial group of rows (29 =
    /// 2 · 12 + 5), a partial block of tokens (21 = 16 + 5) and a partial column chunk
    /// (300 = 256 + 44), weights read with a stride wider than a row.
    @Test(.enabled(if: infer_fgemm_supported() != 0, "this CPU has no AVX-512"))
    func floatKernelMatchesProduct() {
        let rows = 29, n = 21, k = 300, wStride = 310, yStride = 33
        let w = Self.random(rows * wStride, seed: 5), x = Self.random(n * k, seed: 6)
        var xt = [Float](repeating: .nan, count: k * Int(infer_fgemm_padded_tokens(Int32(n))))
        infer_fgemm_transpose(x, k, Int32(n), Int32(k), &xt)
        var partial = [Float](repeating: 0, count: infer_fgemm_partial_floats(Int32(rows), Int32(n)))
        var y = [Float](repeating: .nan, count: n * yStride)
        infer_fgemm(w, wStride, Int32(rows), Int32(k), xt, Int32(n), &y, yStride, &partial)
        for t in 0..<n {
            for r in 0..<rows {
                let exact = (0..<k).reduce(0.0) { $0 + Double(w[r * wStride + $1]) * Double(x[t * k + $1]) }
                #expect(abs(Double(y[t * yStride + r]) - exact) < 1e-4, "token \(t) row \(r)")
            }
            let rest = y[t * yStride + rows..<(t + 1) * yStride]
            #expect(rest.allSatisfy { $0.isNaN })  // nothing else written
        }
    }
}
