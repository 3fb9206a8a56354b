import Foundation
import Testing
import CKernels
@testable import InferKit

/// The transformer's building blocks against naive double-precision references.
struct TransformerPieceTests {
    static func randomVector(_ n: Int, seed: UInt64) -> [Float] {
        var random = SplitMix64(seed: seed)
        return (0..<n).map { _ in Float(random.nextUnitDouble() * 2 - 1) }
    }

    @Test func rmsNormMatchesDefinition() {
        let x = Self.randomVector(100, seed: 1), w = Self.randomVector(100, seed: 2)
        var out = [Float](repeating: 0, count: 100)
        infer_rmsnorm(&out, x, w, 100, 1e-5)
        let rms = (x.reduce(0.0) { $0 + Double($1) * Double($1) } / 100 + 1e-5).squareRoot()
        for i in 0..<100 {
            #expect(abs(Double(out[i]) - Double(w[i]) * Double(x[i]) / rms) < 1e-6)
        }
    }

    static func naiveRope(_ x: [Float], rotDim: Int, pos: Int, theta: Double, neox: Bool) -> [Double] {
        var out = x.map(Double.init)
        for i in 0..<rotDim / 2 {
            let angle = Double(pos) * pow(theta, -Double(2 * i) / Double(rotDim))
            let (a, b) = neox ? (i, i + rotDim / 2) : (2 * i, 2 * i + 1)
            out[a] = Double(x[a]) * cos(angle) - Double(x[b]) * sin(angle)
            out[b] = Double(x[a]) * sin(angle) + Double(x[b]) * cos(angle)
        }
        return out
    }

    @Test(arguments: [false, true])
    func ropeRotatesTheRightPairs(neox: Bool) {
        let x = Self.randomVector(16, seed: 3)
        for pos in [0, 1, 7, 300] {
            for rotDim in [16, 8] {
                var head = x
                infer_rope(&head, Int32(rotDim), Int32(pos), 10000, neox ? 1 : 0)
                let expected = Self.naiveRope(x, rotDim: rotDim, pos: pos, theta: 10000, neox: neox)
                for i in 0..<16 { #expect(abs(Double(head[i]) - expected[i]) < 2e-4, "pos \(pos) i \(i)") }
            }
        }
    }

    @Test func ropeLayoutsDiffer() {
        let x = Self.randomVector(8, seed: 4)
        var normal = x, neox = x
        infer_rope(&normal, 8, 5, 10000, 0)
        infer_rope(&neox, 8, 5, 10000, 1)
        #expect(normal != neox)
    }

    @Test func attentionHeadMatchesNaiveSoftmax() {
        let headDim = 8, positions = 13, stride = 24
        let q = Self.randomVector(headDim, seed: 5)
        let k = Self.randomVector(positions * stride, seed: 6)
        let v = Self.randomVector(positions * stride, seed: 7)
        var scores = [Float](repeating: 0, count: positions)
        var out = [Float](repeating: 0, count: headDim)
        let scale = 1 / Float(headDim).squareRoot()
        infer_attention_head(q, k, v, stride, Int32(positions), Int32(headDim), scale, &scores, &out)

        let logits = (0..<positions).map { t in
            (0..<headDim).reduce(0.0) { $0 + Double(q[$1]) * Double(k[t * stride + $1]) } * Double(scale)
        }
        let m = logits.max()!
        let weights = logits.map { exp($0 - m) }
        let total = weights.reduce(0, +)
        for d in 0..<headDim {
            let expected = (0..<positions).reduce(0.0) { $0 + weights[$1] / total * Double(v[$1 * stride + d]) }
            #expect(abs(Double(out[d]) - expected) < 1e-5)
        }
    }

    /// The active ISA's attention (AVX2 on x86-64) agrees with the scalar path: the same
    /// attention weights and output within 1e-6 of the largest (it fuses multiply-adds and
    /// has its own exp): head sizes that fill one, two and part of a
    /// 64-wide chunk, position counts with and without a partial group of 8, a stride wider
    /// than the head.
    @Test(arguments: [(64, 13), (64, 128), (128, 40), (40, 7), (8, 1)])
    func attentionHeadIsTheSameOnEveryISA(headDim: Int, positions: Int) {
        let stride = headDim + 16
        let q = Self.randomVector(headDim, seed: 8)
        let k = Self.randomVector(positions * stride, seed: 9)
        let v = Self.randomVector(positions * stride, seed: 10)
        let scale = 1 / Float(headDim).squareRoot()
        func run(_ isa: infer_isa) -> ([Float], [Float]) {
            var scores = [Float](repeating: 0, count: positions)
            var out = [Float](repeating: 0, count: headDim)
            infer_attention_head_isa(isa, q, k, v, stride, Int32(positions), Int32(headDim), scale, &scores, &out)
            return (scores, out)
        }
        func difference(_ a: [Float], _ b: [Float]) -> Float {
            zip(a, b).map { abs($0 - $1) }.max()! / max(1e-30, b.map(abs).max()!)
        }
        let (scalarWeights, scalarOut) = run(INFER_ISA_SCALAR)
        let (weights, out) = run(infer_isa_active())
        #expect(difference(weights, scalarWeights) <= 1e-6)
        #expect(difference(out, scalarOut) <= 1e-6)
        #expect(abs(weights.reduce(0, +) - 1) < 1e-5 && out.contains { $0 != 0 })
    }

    /// The heads of a group computed together (the cache read once for all) give each head's
    /// result bit for bit as it is alone, on every ISA: group sizes 1-8, positions below one
    /// block of 8, across several blocks of values (16) and with partial blocks.
    @Test(arguments: [(64, 8, 37), (64, 4, 16), (128, 3, 5), (40, 8, 70), (64, 1, 9)])
    func attentionHeadsOfAGroupMatchEachHeadAlone(headDim: Int, heads: Int, positions: Int) {
        let stride = headDim * 2 + 8
        let q = Self.randomVector(heads * headDim, seed: 11)
        let k = Self.randomVector(positions * stride, seed: 12)
        let v = Self.randomVector(positions * stride, seed: 13)
        let scale = 1 / Float(headDim).squareRoot()
        for isa in [INFER_ISA_SCALAR, infer_isa_active()] {
            let scoresStride = positions + 3
            var scores = [Float](repeating: 0, count: heads * scoresStride)
            var out = [Float](repeating: .nan, count: heads * headDim)
            infer_attention_heads_isa(isa, q, Int32(heads), k, v, INFER_TYPE_F32, stride * 4, Int32(positions),
                                      Int32(headDim), scale, 0, &scores, scoresStride, &out)
            for h in 0..<heads {
                var alone = [Float](repeating: 0, count: headDim)
                var aloneScores = [Float](repeating: 0, count: positions)
                infer_attention_head_isa(isa, Array(q[h * headDim..<(h + 1) * headDim]), k, v, stride, Int32(positions),
                                         Int32(headDim), scale, &aloneScores, &alone)
                #expect(Array(out[h * headDim..<(h + 1) * headDim]) == alone, "head \(h) of \(heads), isa \(isa.rawValue)")
                #expect(Array(scores[h * scoresStride..<h * scoresStride + positions]) == aloneScores)
            }
        }
    }

    /// Caches of f16 and q8_0 rows: every ISA's kernel (which widens rows as it loads them) within
    /// a few ulps of the scalar path over the same rows, and the rows within their type's rounding
    /// of the values stored; soft-capping caps every score before the softmax.
    @Test(arguments: [KVCacheType.f32, .f16, .q8_0])
    func attentionReadsEveryCacheType(_ type: KVCacheType) {
        let headDim = 64, heads = 3, positions = 29
        let rowBytes = infer_cache_row_bytes(type.kernelType, Int32(headDim))
        let q = Self.randomVector(heads * headDim, seed: 21)
        let keys = Self.randomVector(positions * headDim, seed: 22), values = Self.randomVector(positions * headDim, seed: 23)
        var k = [UInt8](repeating: 0, count: positions * rowBytes), v = k
        for p in 0..<positions {
            k.withUnsafeMutableBytes { infer_cache_row_store(type.kernelType, Array(keys[p * headDim..<(p + 1) * headDim]), $0.baseAddress! + p * rowBytes, Int32(headDim)) }
            v.withUnsafeMutableBytes { infer_cache_row_store(type.kernelType, Array(values[p * headDim..<(p + 1) * headDim]), $0.baseAddress! + p * rowBytes, Int32(headDim)) }
        }
        var widened = [Float](repeating: 0, count: headDim)
        infer_cache_row_widen(type.kernelType, k, &widened, Int32(headDim))
        let rounding: Float = type == .f32 ? 0 : type == .f16 ? 1e-3 : 1.0 / 127
        #expect(zip(widened, keys).allSatisfy { abs($0 - $1) <= rounding })
        for softCap: Float in [0, 0.5] {
            func run(_ isa: infer_isa) -> [Float] {
                var scores = [Float](repeating: 0, count: heads * positions), out = [Float](repeating: 0, count: heads * headDim)
                infer_attention_heads_isa(isa, q, Int32(heads), k, v, type.kernelType, rowBytes, Int32(positions), Int32(headDim),
                                          0.125, softCap, &scores, positions, &out)
                if softCap > 0 { #expect(scores.allSatisfy { $0 >= 0 }) }
                return out
            }
            let reference = run(INFER_ISA_SCALAR), active = run(infer_isa_active())
            #expect(BatchedPrefillTests.difference(active, reference) <= 1e-5, "\(type), soft cap \(softCap)")
        }
        // A cap this small flattens the scores: the output moves towards the mean of the values.
        var capped = [Float](repeating: 0, count: heads * headDim), plain = capped
        var scores = [Float](repeating: 0, count: heads * positions)
        infer_attention_heads_isa(INFER_ISA_SCALAR, q, Int32(heads), k, v, type.kernelType, rowBytes, Int32(positions),
                                  Int32(headDim), 0.125, 0.01, &scores, positions, &capped)
        infer_attention_heads_isa(INFER_ISA_SCALAR, q, Int32(heads), k, v, type.kernelType, rowBytes, Int32(positions),
                                  Int32(headDim), 0.125, 0, &scores, positions, &plain)
        #expect(BatchedPrefillTests.difference(capped, plain) > 1e-4)
    }

    @Test func swigluAndSoftmax() {
        var gate: [Float] = [-2, 0, 1, 3]
        let up: [Float] = [1, 2, 3, 4]
        infer_swiglu(&gate, up, 4)
        for (i, g) in [-2.0, 0, 1, 3].enumerated() {
            #expect(abs(Double(gate[i]) - g / (1 + exp(-g)) * Double(up[i])) < 1e-6)
        }
        // Large logits must not overflow: softmax is shift-invariant.
        var x: [Float] = [1000, 1000, 999]
        infer_softmax(&x, 3)
        let total = 2 + exp(-1.0)
        #expect(abs(Double(x[0]) - 1 / total) < 1e-6 && abs(Double(x[2]) - exp(-1.0) / total) < 1e-6)
    }

    @Test func halfPrecisionConversion() {
        #expect(infer_fp16_to_fp32(0x3C00) == 1)
        #expect(infer_fp16_to_fp32(0xC000) == -2)
        #expect(infer_fp16_to_fp32(0x7BFF) == 65504)
        #expect(infer_fp16_to_fp32(0x0001) == Float(sign: .plus, exponent: -24, significand: 1))
        #expect(infer_fp16_to_fp32(0x7C00) == .infinity)
        #expect(infer_fp16_to_fp32(0x7E00).isNaN)
        for bits in stride(from: UInt16(0), to: 0x7C00, by: 7) {
            #expect(infer_fp32_to_fp16(infer_fp16_to_fp32(bits)) == bits)
        }
        #expect(infer_fp32_to_fp16(1 + 1.0 / 4096) == 0x3C00)  // ties round to even
    }

    /// A whole forward pass against a step-by-step Swift reference on a random model.
    @Test func forwardPassMatchesReference() throws {
        let tiny = TinyModel()
        let model = try Model(path: try tiny.builder().write())
        let session = try Session(model: model, cacheType: .f32)
        let tokens = [1, 259 + 1, 259 + 3, 100, 7]
        var reference = NaiveLlama(model: model)
        for token in tokens {
            try session.append([token])
            let expected = reference.forward(token)
            let maxError = zip(session.logits, expected).map { abs(Double($0) - $1) }.max()!
            #expect(maxError < 1e-4, "token \(token): max error \(maxError)")
        }
    }
}
