import CKernels
import Foundation
import Testing
@testable import InferKit

/// Files committed beside the tests (Tests/InferKitTests/Fixtures), made by the scripts there.
enum Fixtures {
    static let root = TestPaths.target.appendingPathComponent("Fixtures").path
    static func path(_ name: String) -> String { root + "/" + name }
}

/// A small deterministic generator (SplitMix64), so failures reproduce.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    mutating func uniform(_ lo: Float, _ hi: Float) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }
}

/// The weight types the kernels compute, with what the tests need to make rows of them.
struct KernelType: CustomTestStringConvertible, Sendable {
    let type: GGMLType
    /// Byte offsets of the fp16 scales in a block, and the range of scales that gives
    /// weights of magnitude ~1.
    let scaleOffsets: [Int]
    let scaleRange: ClosedRange<Float>
    var testDescription: String { type.name }

    var cType: infer_type { infer_type(type.rawValue) }

    static let all: [KernelType] = [
        KernelType(type: .f32, scaleOffsets: [], scaleRange: 0...0),
        KernelType(type: .f16, scaleOffsets: [], scaleRange: 0...0),
        KernelType(type: .bf16, scaleOffsets: [], scaleRange: 0...0),
        KernelType(type: .q4_0, scaleOffsets: [0], scaleRange: 0.05...0.2),
        KernelType(type: .q4_1, scaleOffsets: [0, 2], scaleRange: 0.05...0.15),
        KernelType(type: .q5_0, scaleOffsets: [0], scaleRange: 0.02...0.1),
        KernelType(type: .q5_1, scaleOffsets: [0, 2], scaleRange: 0.02...0.05),
        KernelType(type: .q8_0, scaleOffsets: [0], scaleRange: 0.002...0.01),
        KernelType(type: .q2_K, scaleOffsets: [80, 82], scaleRange: 0.01...0.05),
        KernelType(type: .q3_K, scaleOffsets: [108], scaleRange: 0.005...0.02),
        KernelType(type: .q4_K, scaleOffsets: [0, 2], scaleRange: 0.001...0.003),
        KernelType(type: .q5_K, scaleOffsets: [0, 2], scaleRange: 0.0005...0.0015),
        KernelType(type: .q6_K, scaleOffsets: [208], scaleRange: 0.0005...0.001),
    ]

    var isFloat: Bool { type.blockSize == 1 }

    /// A row of n elements: random floats for float types, random bytes with sane scales
    /// for quantized ones (every bit pattern of the quants occurs).
    func randomRow(_ n: Int, _ random: inout TestRandom) -> [UInt8] {
        let bytes = type.rowBytes(n)!
        var row = (0..<bytes).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        func put(_ bits: UInt16, at offset: Int) {
            row[offset] = UInt8(bits & 0xFF)
            row[offset + 1] = UInt8(bits >> 8)
        }
        switch type {
        case .f32:
            for i in 0..<n { withUnsafeBytes(of: random.uniform(-1, 1).bitPattern.littleEndian) { for b in 0..<4 { row[4 * i + b] = $0[b] } } }
        case .f16:
            for i in 0..<n { put(infer_fp32_to_fp16(random.uniform(-1, 1)), at: 2 * i) }
        case .bf16:
            for i in 0..<n { put(UInt16(random.uniform(-1, 1).bitPattern >> 16), at: 2 * i) }
        default:
            for block in 0..<(n / type.blockSize) {
                for offset in scaleOffsets {
                    let scale = random.uniform(scaleRange.lowerBound, scaleRange.upperBound)
                    put(infer_fp32_to_fp16(random.next() & 1 == 0 ? scale : -scale), at: block * type.blockBytes + offset)
                }
            }
        }
        return row
    }

    /// The scalar reference decoding of a row.
    func dequantize(_ row: [UInt8], _ n: Int) -> [Float] {
        var out = [Float](repeating: 0, count: n)
        row.withUnsafeBytes { infer_dequantize_row(cType, $0.baseAddress!, &out, Int32(n)) }
        return out
    }

    /// The activation form of x for this type, prepared with `isa`'s code.
    func prepare(_ x: [Float], isa: infer_isa) -> [UInt8] {
        var act = [UInt8](repeating: 0, count: infer_activation_bytes(cType, Int32(x.count)))
        act.withUnsafeMutableBytes { infer_prepare_activation(isa, cType, x, $0.baseAddress!, Int32(x.count)) }
        return act
    }

    func dot(_ row: [UInt8], _ act: [UInt8], _ n: Int, isa: infer_isa) -> Float {
        row.withUnsafeBytes { r in act.withUnsafeBytes { a in infer_dot(isa, cType, r.baseAddress!, a.baseAddress!, Int32(n)) } }
    }
}

/// The instruction sets with their own kernels that this machine runs, besides the scalar one.
let optimizedISAs: [infer_isa] = [INFER_ISA_AVX2, INFER_ISA_AVX512, INFER_ISA_NEON].filter { infer_isa_supported($0) != 0 }
