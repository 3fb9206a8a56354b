import CKernels
import Foundation
import Testing
@testable import InferKit

/// The kernels on real trained weights: rows of the default model in every type, as the
/// project's exporter writes them (Fixtures/default-model-rows.gguf, made by
/// make_default_model_rows.py).
struct DefaultModelRowsTests {
    static let fixtures = Result { try GGUFFile(path: Fixtures.path("default-model-rows.gguf")) }

    /// The fixture's rows of type t: (raw row bytes, gguf's decoding), for every tensor.
    static func rows(_ t: KernelType) throws -> [(row: [UInt8], expected: [Float])] {
        let gguf = try fixtures.get()
        let tensors = gguf.tensors.filter { $0.name.hasPrefix(t.type.name + ".") && !$0.name.hasSuffix(".expected") }
        #expect(tensors.count == 2, "\(t.type.name): tensors in the fixture")
        return try tensors.flatMap { tensor -> [([UInt8], [Float])] in
            #expect(tensor.type == t.type)
            let expected = try #require(gguf.tensor(named: tensor.name + ".expected"))
            let n = tensor.shape[0], rowBytes = try #require(t.type.rowBytes(n))
            let reference = gguf.data(of: expected).assumingMemoryBound(to: Float.self)
            return (0..<tensor.shape[1]).map { r in
                (Array(UnsafeRawBufferPointer(start: gguf.data(of: tensor) + r * rowBytes, count: rowBytes)),
                 Array(UnsafeBufferPointer(start: reference + r * n, count: n)))
            }
        }
    }

    @Test(arguments: KernelType.all)
    func decodesLikeTheGGUFPackage(_ t: KernelType) throws {
        for (row, expected) in try Self.rows(t) {
            let decoded = t.dequantize(row, expected.count)
            #expect(decoded.map(\.bitPattern) == expected.map(\.bitPattern))
        }
    }

    @Test(arguments: KernelType.all)
    func dotKernelsAgreeOnRealRows(_ t: KernelType) throws {
        var random = TestRandom(seed: 5 + UInt64(t.type.rawValue))
        for (row, expected) in try Self.rows(t) {
            let x = DotKernelTests.activation(for: expected, &random)
            DotKernelTests.checkScalar(t, row: row, n: expected.count, x: x)
            DotKernelTests.checkOptimized(t, row: row, n: expected.count, x: x)
        }
    }
}
