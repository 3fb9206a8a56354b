import Foundation
import Testing
@testable import InferKit

/// A file of a supported family that is missing a tensor its blocks need, has a tensor of the
/// wrong shape, or contradicts itself is refused with one message naming the problem.
struct FamilyInputTests {
    /// TinyModel's Llama file relabelled as `family` (its keys renamed), with `edit` applied.
    static func file(_ family: String, _ edit: (inout GGUFBuilder) -> Void = { _ in }) throws -> String {
        var b = TinyModel().builder()
        b.metadata = b.metadata.map { key, value in
            key == "general.architecture" ? (key, .string(family))
                : key.hasPrefix("llama.") ? (family + key.dropFirst("llama".count), value) : (key, value)
        }
        edit(&b)
        return try b.write()
    }

    static func message(_ path: String) -> String { ModelLoadingTests.errorMessage { _ = try Model(path: path) } }

    @Test func qwen2WithoutBiasesNamesTheBias() throws {
        let message = Self.message(try Self.file("qwen2"))
        #expect(message.contains("tensor 'blk.0.attn_q.bias' is missing"), "\(message)")
    }

    @Test func qwen3WithoutQKNormsNamesTheNorm() throws {
        let message = Self.message(try Self.file("qwen3"))
        #expect(message.contains("tensor 'blk.0.attn_q_norm.weight' is missing"), "\(message)")
    }

    @Test func gemmaNormOfTheWrongShapeIsNamed() throws {
        let path = try Self.file("gemma2") { b in
            for l in 0..<2 {
                for name in ["post_attention_norm", "post_ffw_norm"] {
                    b.addTensor("blk.\(l).\(name).weight", shape: [32], floats: [Float](repeating: 1, count: 32))
                }
            }
            let i = b.tensors.firstIndex { $0.name == "blk.1.post_ffw_norm.weight" }!
            b.tensors[i] = (b.tensors[i].name, [16], .f32, Array(b.tensors[i].data[..<64]))
        }
        let message = Self.message(path)
        #expect(message.contains("tensor 'blk.1.post_ffw_norm.weight' has shape [16] but the hyperparameters need [32]"), "\(message)")
    }

    @Test func contradictoryHyperparametersAreNamed() throws {
        let heads = Self.message(try Self.file("qwen2") { b in
            b.metadata = b.metadata.map { $0.0 == "qwen2.attention.head_count_kv" ? ($0.0, .uint32(3)) : $0 }
        })
        #expect(heads.contains("head count 4 is not a multiple of the KV head count 3"), "\(heads)")
        let pattern = Self.message(try Self.file("gemma3") { b in
            b.add("gemma3.attention.sliding_window", .uint32(8))
            b.add("gemma3.attention.sliding_window_pattern", .array(elementType: .bool, [.bool(true)]))
        })
        #expect(pattern.contains("sliding_window_pattern has 1 values for 2 blocks"), "\(pattern)")
        let rope = Self.message(try Self.file("llama") { $0.add("llama.rope.dimension_count", .uint32(12)) })
        #expect(rope.contains("RoPE dimension 12 does not fit head dimension 8"), "\(rope)")
        let yarn = Self.message(try Self.file("qwen2") { $0.add("qwen2.rope.scaling.type", .string("yarn")) })
        #expect(yarn.contains("unsupported: RoPE scaling 'yarn'"), "\(yarn)")
    }

    @Test func unknownFamilyListsTheSupportedOnes() throws {
        let message = Self.message(try Self.file("mamba"))
        #expect(message.contains("architecture 'mamba' (supported: llama, qwen2, qwen3, gemma2, gemma3, phi3)"), "\(message)")
    }
}
