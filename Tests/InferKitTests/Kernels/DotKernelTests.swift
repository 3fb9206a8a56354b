import CKernels
import Foundation
import Testing
@testable import InferKit

/// Dot kernels: the scalar reference against plain f32 arithmetic on the decoded row, and
/// every optimized kernel against the scalar reference.
struct DotKernelTests {
    /// Row lengths: one block, an odd number of blocks (the vector loops take two at a
    /// time), and a long row; float types also take lengths that fill no vector.
    static func lengths(_ t: KernelType) -> [Int] {
        t.isFloat ? [1, 7, 33, 1000, 4099] : [1, 3, 17].map { $0 * t.type.blockSize } + [4096 + t.type.blockSize]
    }

    /// llama.cpp's test-quantize-fns bound on |error| / n: 0.04 for the 2- and 3-bit types.
    static func normalizedBound(_ t: KernelType) -> Double { [.q2_K, .q3_K].contains(t.type) ? 0.04 : 0.02 }

    /// An activation that correlates with the row (x = w + noise), so the dot product is large
    /// and a kernel that mixes up elements or scales misses by far more than the bounds.
    static func activation(for w: [Float], _ random: inout TestRandom) -> [Float] {
        w.indices.map { i in w[i] + 0.1 + 0.5 * cos(Float(i)) + random.uniform(-0.1, 0.1) }
    }

    @Test(arguments: KernelType.all)
    func scalarMatchesFloatArithmetic(_ t: KernelType) {
        var random = TestRandom(seed: 7 + UInt64(t.type.rawValue))
        for n in Self.lengths(t) {
            let row = t.randomRow(n, &random)
            let x = Self.activation(for: t.dequantize(row, n), &random)
            Self.checkScalar(t, row: row, n: n, x: x)
        }
    }

    @Test(arguments: KernelType.all)
    func optimizedMatchesScalar(_ t: KernelType) {
        var random = TestRandom(seed: 99 + UInt64(t.type.rawValue))
        for n in Self.lengths(t) {
            let row = t.randomRow(n, &random)
            let x = Self.activation(for: t.dequantize(row, n), &random)
            Self.checkOptimized(t, row: row, n: n, x: x)
        }
    }

    /// Each ISA's dot kernel for a type is its own or one it borrows (AVX-512 from AVX2), and
    /// `infer_dot_kernel_isa` names whose: f16 takes the AVX2 kernel even where AVX-512 runs.
    @Test(arguments: KernelType.all)
    func kernelISANamesTheKernelThatRuns(_ t: KernelType) {
        var random = TestRandom(seed: 5 + UInt64(t.type.rawValue))
        let n = 4 * t.type.blockSize + (t.isFloat ? 3 : 0)
        let row = t.randomRow(n, &random)
        let act = t.prepare(Self.activation(for: t.dequantize(row, n), &random), isa: INFER_ISA_SCALAR)
        for isa in [INFER_ISA_SCALAR] + optimizedISAs {
            let owner = infer_dot_kernel_isa(isa, t.cType)
            #expect(owner == isa || (isa == INFER_ISA_AVX512 && owner == INFER_ISA_AVX2))
            #expect(t.dot(row, act, n, isa: isa).bitPattern == t.dot(row, act, n, isa: owner).bitPattern)
        }
        if infer_isa_supported(INFER_ISA_AVX512) != 0 && t.type == .f16 {
            #expect(infer_dot_kernel_isa(INFER_ISA_AVX512, t.cType) == INFER_ISA_AVX2)
        }
    }

    /// The scalar dot of `row` (n elements of type t) with x against plain f32 arithmetic on
    /// the decoded row.
    static func checkScalar(_ t: KernelType, row: [UInt8], n: Int, x: [Float],
                            sourceLocation: SourceLocation = #_sourceLocation) {
        let w = t.dequantize(row, n)
        let exact = zip(w, x).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let got = Double(t.dot(row, t.prepare(x, isa: INFER_ISA_SCALAR), n, isa: INFER_ISA_SCALAR))
        // Quantizing x to int8 moves each element by at most half its block's step
        // (max|x| / 127 / 2), rounding it to f16 (for f16 weights) by at most 2⁻¹¹ of it;
        // float rounding adds a little.
        let step = t.isFloat ? 0 : (t.type.blockSize == 32 ? 32 : 256)
        let magnitude = zip(w, x).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
        var bound = (t.type == .f16 ? 1.0 / 2048 : 1e-5) * magnitude + 1e-6
        if step > 0 {
            for start in stride(from: 0, to: n, by: step) {
                let block = start..<(start + step)
                let halfStep = Double(x[block].map(abs).max()!) / 254
                bound += w[block].reduce(0.0) { $0 + abs(Double($1)) } * halfStep
            }
        }
        #expect(abs(got - exact) <= bound, "n=\(n): scalar \(got), f32 \(exact)", sourceLocation: sourceLocation)
        #expect(abs(got - exact) / Double(n) <= normalizedBound(t), "n=\(n)", sourceLocation: sourceLocation)
    }

    /// Every optimized kernel's dot of `row` with x against the scalar reference's.
    static func checkOptimized(_ t: KernelType, row: [UInt8], n: Int, x: [Float],
                               sourceLocation: SourceLocation = #_sourceLocation) {
        let w = t.dequantize(row, n)
        for isa in optimizedISAs {
            let act = t.prepare(x, isa: INFER_ISA_SCALAR)
            #expect(t.prepare(x, isa: isa) == act, "n=\(n): activations prepared by ISA \(isa.rawValue) differ",
                    sourceLocation: sourceLocation)
            let reference = Double(t.dot(row, act, n, isa: INFER_ISA_SCALAR))
            let got = Double(t.dot(row, act, n, isa: isa))
            // Both sum the same integer products; only the order of float additions differs.
            let magnitude = zip(w, x).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
            #expect(abs(got - reference) <= 1e-5 * magnitude + 1e-6, "ISA \(isa.rawValue) n=\(n): \(got) vs \(reference)",
                    sourceLocation: sourceLocation)
            #expect(abs(got - reference) / Double(n) <= normalizedBound(t), sourceLocation: sourceLocation)
        }
    }
}
