import Foundation
import Testing
import CKernels
@testable import InferKit

/// The integer matrix–matrix kernel of batched prompts (Kernels/qgemm.c).
@Suite(.enabled(if: infer_qgemm_supported(INFER_TYPE_Q8_0) != 0, "this CPU has no AVX-512 VNNI"))
struct QuantizedGEMMTests {
    /// Quantized activations of `x` (n, k) and their values as f32.
    struct Activations {
        var q: [Int8], scale: [Float], sum: [Float]
        let n: Int, k: Int

        init(_ x: [Float], n: Int, k: Int) {
            self.n = n
            self.k = k
            q = [Int8](repeating: 0, count: n * k)
            scale = [Float](repeating: 0, count: n * k / 32)
            sum = scale
            infer_quantize_batch(x, k, Int32(n), Int32(k), &q, &scale, &sum)
        }

        var values: [Float] { q.indices.map { Float(q[$0]) * scale[$0 / 32] } }

        func withBatch<R>(_ body: (UnsafePointer<infer_q8_batch>) -> R) -> R {
            q.withUnsafeBufferPointer { q in
                scale.withUnsafeBufferPointer { s in
                    sum.withUnsafeBufferPointer { sum in
                        var batch = infer_q8_batch(q: q.baseAddress, scale: s.baseAddress, sum: sum.baseAddress,
                                                   n: Int32(n), k: Int32(k))
                        return body(&batch)
                    }
                }
            }
        }
    }

    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in Float(random.nextUnitDouble() * 2 - 1) }
    }

    @Test func quantizesLikeLlamaCppQ8_0() {
        var x = Self.random(64, seed: 1)
        x[3] = 2.54  // the largest of the first block: its scale is 2.54 / 127
        let a = Activations(x, n: 1, k: 64)
        #expect(a.scale[0] == Float(2.54) / 127 && a.q[3] == 127)
        for i in 0..<64 {
            #expect(Int(a.q[i]) == Int((x[i] / a.scale[i / 32]).rounded()))
        }
        #expect(abs(a.sum[1] - a.scale[1] * Float(a.q[32..<64].reduce(0) { $0 + Int($1) })) < 1e-6)
    }

    /// Kernel and reference against f32 products of the dequantized weights and the
    /// quantized activations: only rounding differs. 37 rows (a partial panel) and 13
    /// tokens (a group of 8 and a remainder of 5).
    @Test(arguments: [(37, 13, 96), (16, 8, 32), (5, 1, 64)])
    func matchesDequantizedProduct(rows: Int, n: Int, k: Int) {
        let w = Self.random(rows * k, seed: 2)
        let bytes = BatchedPrefillTests.encodeQ8_0(w)
        let a = Activations(Self.random(n * k, seed: 3), n: n, k: k)
        let rowBytes = k / 32 * 34

        var dequantized = [Float](repeating: 0, count: rows * k)
        bytes.withUnsafeBytes { raw in
            for r in 0..<rows {
                dequantized.withUnsafeMutableBufferPointer { out in
                    infer_dequantize_row(INFER_TYPE_Q8_0, raw.baseAddress! + r * rowBytes, out.baseAddress! + r * k, Int32(k))
                }
            }
        }
        let x = a.values
        bytes.withUnsafeBytes { raw in
            Self.expectProducts(type: INFER_TYPE_Q8_0, bytes: raw.baseAddress!, rowBytes: rowBytes, rows: rows, k: k,
                                activations: a, tolerance: 1e-4) { t, r in
                (0..<k).reduce(0.0) { $0 + Double(dequantized[r * k + $1]) * Double(x[t * k + $1]) }
            }
        }
    }

    /// Packs `rows` rows of `bytes` (`type`, k values each) and multiplies them by `a` with
    /// the kernel and with the reference, checking both against `expected(token, row)`.
    static func expectProducts(type: infer_type, bytes: UnsafeRawPointer, rowBytes: Int, rows: Int, k: Int,
                               activations a: Activations, tolerance: Double, expected: (Int, Int) -> Double) {
        let panel = UnsafeMutableRawPointer.allocate(byteCount: infer_qgemm_panel_bytes(Int32(rows), Int32(k)), alignment: 64)
        defer { panel.deallocate() }
        infer_qgemm_pack(type, bytes, rowBytes, 0, Int32(rows), Int32(k), panel)
        let n = a.n
        var kernel = [Float](repeating: .nan, count: n * (rows + 3)), reference = kernel
        a.withBatch { batch in
            infer_qgemm(panel, Int32(rows), batch, &kernel, rows + 3)
            infer_qgemm_reference(panel, Int32(rows), batch, &reference, rows + 3)
        }
        for t in 0..<n {
            for r in 0..<rows {
                let exact = expected(t, r)
                #expect(abs(Double(kernel[t * (rows + 3) + r]) - exact) < tolerance, "token \(t) row \(r)")
                #expect(abs(Double(reference[t * (rows + 3) + r]) - exact) < tolerance, "token \(t) row \(r)")
            }
            #expect(kernel[t * (rows + 3) + rows].isNaN)  // the padding columns of y are not written
        }
    }

    /// Q4_0 and Q4_K rows packed for the kernel against the `gguf` package's dequantization
    /// of the same blocks (Fixtures/qgemm-weights.gguf, made by make_qgemm_fixture.py).
    @Test(arguments: ["q4_0", "q4_k"])
    func packsLikeGGUFDequantizes(name: String) throws {
        let path = TestPaths.target
            .appendingPathComponent("Fixtures/qgemm-weights.gguf").path
        let gguf = try GGUFFile(path: path)
        let weights = try #require(gguf.tensor(named: name)), reference = try #require(gguf.tensor(named: name + ".f32"))
        let (k, rows) = (weights.shape[0], weights.shape[1])
        let w = gguf.data(of: reference).assumingMemoryBound(to: Float.self)
        let a = Activations(Self.random(9 * k, seed: 5), n: 9, k: k)
        let x = a.values
        Self.expectProducts(type: infer_type(weights.type.rawValue), bytes: gguf.data(of: weights),
                            rowBytes: weights.byteCount / rows, rows: rows, k: k, activations: a, tolerance: 1e-3) { t, r in
            (0..<k).reduce(0.0) { $0 + Double(w[r * k + $1]) * Double(x[t * k + $1]) }
        }
        #expect(infer_qgemm_supported(infer_type(weights.type.rawValue)) != 0)
    }

    /// The other types with a packing (five-bit and offset blocks, q5_K's sub-blocks) against the
    /// scalar dequantization of the same random rows (DequantizationTests holds it to `gguf`'s).
    @Test(arguments: [GGMLType.q4_1, .q5_0, .q5_1, .q5_K])
    func packsEveryTypeLikeItsDequantization(_ type: GGMLType) throws {
        let kind = KernelType.all.first { $0.type == type }!
        let rows = 21, k = 512, n = 9
        var random = TestRandom(seed: 17)
        let bytes = (0..<rows).flatMap { _ in kind.randomRow(k, &random) }
        let rowBytes = type.rowBytes(k)!
        var w = [Float](repeating: 0, count: rows * k)
        bytes.withUnsafeBytes { raw in
            w.withUnsafeMutableBufferPointer { out in
                for r in 0..<rows {
                    infer_dequantize_row(kind.cType, raw.baseAddress! + r * rowBytes, out.baseAddress! + r * k, Int32(k))
                }
            }
        }
        #expect(infer_qgemm_supported(kind.cType) != 0)
        let a = Activations(Self.random(n * k, seed: 6), n: n, k: k)
        let x = a.values
        bytes.withUnsafeBytes { raw in
            Self.expectProducts(type: kind.cType, bytes: raw.baseAddress!, rowBytes: rowBytes, rows: rows, k: k,
                                activations: a, tolerance: 1e-3) { t, r in
                (0..<k).reduce(0.0) { $0 + Double(w[r * k + $1]) * Double(x[t * k + $1]) }
            }
        }
    }
}
