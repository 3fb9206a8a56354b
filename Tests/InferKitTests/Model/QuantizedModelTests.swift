import Foundation
import Testing
@testable import InferKit

/// stories260K quantized by the `gguf` package (Fixtures/make_quantized_stories.py) runs in
/// place: Q8_0 keeps the F32 model's greedy text, Q4_0 stays fluent.
@Suite(.enabled(if: SharedData.available, SharedData.missingMessage))
struct QuantizedModelTests {
    /// Greedy token ids after BOS.
    static func greedyTokens(_ model: Model, count: Int, threads: Int = 1) throws -> [Int] {
        let session = try Session(model: model, threads: threads)
        try session.append([model.tokenizer.special.bos!])
        var tokens: [Int] = []
        for _ in 0..<count {
            let logits = session.logits
            let next = logits.indices.max { logits[$0] < logits[$1] }!
            tokens.append(next)
            try session.append([next])
        }
        return tokens
    }

    @Test func q8_0MatchesF32() throws {
        let f32 = try Model(path: SharedData.path("models/stories260K.gguf"))
        let q8 = try Model(path: Fixtures.path("stories260K-q8_0.gguf"))
        #expect(q8.weightBytesByType.map(\.type) == ["F32", "Q8_0"])
        let expected = try Self.greedyTokens(f32, count: 30)
        #expect(try Self.greedyTokens(q8, count: 30) == expected)
    }

    @Test func q4_0IsFluent() throws {
        let model = try Model(path: Fixtures.path("stories260K-q4_0.gguf"))
        #expect(model.weightBytesByType.map(\.type) == ["F32", "Q4_0"])
        let text = try GoldenGenerationTests.greedy(model: model, prompt: "", maxTokens: 60)
        #expect(text.hasPrefix("Once upon a time, there was a little girl named Lily. She loved to play outside"))
        // Fluent: made of words the story model knows, not byte soup.
        let words = text.split { !$0.isLetter }
        #expect(words.count >= 30 && words.allSatisfy { $0.count <= 12 }, "\(text)")
    }

    @Test func threadCountDoesNotChangeOutput() throws {
        let model = try Model(path: Fixtures.path("stories260K-q4_0.gguf"))
        let one = try Self.greedyTokens(model, count: 40, threads: 1)
        #expect(try Self.greedyTokens(model, count: 40, threads: 3) == one)
        #expect(try Session(model: model, threads: 3).threadCount == 3)
        #expect(throws: InferError.self) { try Session(model: model, threads: 0) }
    }

    /// A copy of the Q8_0 file with one tensor's type id changed to `typeID`.
    static func withTensorType(_ name: String, typeID: UInt32) throws -> String {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("stories260K-q8_0.gguf"))))
        let needle = Array(name.utf8)
        let start = try #require((0...(bytes.count - needle.count)).first { bytes[$0..<$0 + needle.count].elementsEqual(needle) })
        // name, then n_dims (u32), dims (u64 each), type (u32)
        let nDims = Int(bytes[start + needle.count])
        let typeOffset = start + needle.count + 4 + 8 * nDims
        withUnsafeBytes(of: typeID.littleEndian) { for i in 0..<4 { bytes[typeOffset + i] = $0[i] } }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("infer-\(UUID().uuidString).gguf").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func unsupportedTypeIsRefusedAtLoad() throws {
        let path = try Self.withTensorType("blk.0.attn_q.weight", typeID: GGMLType.iq4_nl.rawValue)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect { try Model(path: path) } throws: { error in
            "\(error)".contains("tensor 'blk.0.attn_q.weight' has type IQ4_NL")
        }
    }

    @Test func rowsThatDoNotFillBlocksAreRefusedAtLoad() throws {
        // ffn_down has rows of 172 (F32 in the file); as Q8_0 they would not fill 32-element blocks.
        let path = try Self.withTensorType("blk.0.ffn_down.weight", typeID: GGMLType.q8_0.rawValue)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect { try Model(path: path) } throws: { error in
            "\(error)".contains("tensor 'blk.0.ffn_down.weight' has rows of 172 elements, not a multiple of the Q8_0 block size 32")
        }
    }
}
