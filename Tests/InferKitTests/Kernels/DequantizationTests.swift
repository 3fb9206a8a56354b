import CKernels
import Foundation
import Testing
@testable import InferKit

/// infer's scalar decoders against the `gguf` package's (Fixtures/quants.gguf, made by
/// make_quant_fixtures.py), bit for bit.
struct DequantizationTests {
    static let fixtures = Result { try GGUFFile(path: Fixtures.path("quants.gguf")) }

    static let types: [GGMLType] = [.f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K]

    @Test(arguments: types)
    func matchesGGUFPackage(_ type: GGMLType) throws {
        let gguf = try Self.fixtures.get()
        let tensor = try #require(gguf.tensor(named: type.name))
        let expected = try #require(gguf.tensor(named: type.name + ".expected"))
        #expect(tensor.type == type)
        #expect(type.isSupported)
        let cols = tensor.shape[0], rows = tensor.shape[1]
        let rowBytes = try #require(type.rowBytes(cols))
        let reference = gguf.data(of: expected).assumingMemoryBound(to: Float.self)
        var out = [Float](repeating: 0, count: cols)
        var mismatches = 0
        for r in 0..<rows {
            infer_dequantize_row(infer_type(type.rawValue), gguf.data(of: tensor) + r * rowBytes, &out, Int32(cols))
            for c in 0..<cols where out[c].bitPattern != reference[r * cols + c].bitPattern { mismatches += 1 }
        }
        #expect(mismatches == 0, "\(mismatches) of \(rows * cols) values differ from gguf.quants.dequantize")
    }

    @Test func unsupportedTypesAreNamed() {
        let supported = Set(GGMLType.allCases.filter(\.isSupported))
        #expect(supported == Set([.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K]))
    }
}
