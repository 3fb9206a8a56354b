import Foundation
import CKernels
import Testing
@testable import InferKit

/// A session saved to disk and restored: the same tokens, the same logits bit for bit, the same
/// logits for what follows; a file of another model, another cache type, truncated or corrupt,
/// is refused by name and the session left as it was.
struct SessionFileTests {
    static func path(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("infer-\(UUID().uuidString)-\(name)").path
    }

    static func model(_ family: String) throws -> Model {
        try Model(path: ArchitectureReferenceTests.folder.appendingPathComponent("\(family).gguf").path)
    }

    /// gemma3's reference model has sliding-window layers (kept in a ring at this context).
    @Test(arguments: [("llama", KVCacheType.f32), ("llama", .f16), ("gemma3", .f16), ("gemma3", .f32)])
    func restoredSessionGivesTheSameLogits(_ family: String, _ type: KVCacheType) throws {
        let model = try Self.model(family)
        let tokens = BatchedPrefillTests.randomTokens(300, vocabulary: model.config.vocabularySize, seed: 51)
        let next = BatchedPrefillTests.randomTokens(5, vocabulary: model.config.vocabularySize, seed: 52)
        let original = try Session(model: model, contextLength: 1024, cacheType: type)
        try original.append(tokens)
        let file = Self.path("state.kv")
        defer { try? FileManager.default.removeItem(atPath: file) }
        try original.save(to: file, conversation: Data("hello".utf8))
        let restored = try Session(restoring: file, model: model, contextLength: 1024)
        #expect(restored.cacheType == type && restored.tokens == tokens)
        #expect(Array(restored.logits) == Array(original.logits))
        #expect(restored.reuse(prefixOf: tokens) == tokens.count, "the whole prompt is reused: its logits are at hand")
        for token in next {
            try original.append([token])
            try restored.append([token])
            #expect(Array(restored.logits) == Array(original.logits))
        }
        #expect(try Session(model: model, contextLength: 1024, cacheType: type).restore(from: file) == Data("hello".utf8))
    }

    @Test func refusesWhatItCannotTrust() throws {
        let model = try Self.model("llama")
        let session = try Session(model: model, contextLength: 64)
        try session.append([1, 5, 9, 13])
        let file = Self.path("state.kv")
        defer { try? FileManager.default.removeItem(atPath: file) }
        try session.save(to: file)
        let good = try Data(contentsOf: URL(fileURLWithPath: file))
        func refusal(_ bytes: Data? = nil, model: Model? = nil, type: KVCacheType = .f16, context: Int = 64) throws -> String {
            if let bytes { try bytes.write(to: URL(fileURLWithPath: file)) }
            let target = try Session(model: model ?? Self.model("llama"), contextLength: context, cacheType: type)
            try target.append([2, 3])
            let message = ModelLoadingTests.errorMessage { try target.restore(from: file) }
            #expect(target.tokens == [2, 3], "a refused file leaves the session as it was")
            return message
        }
        #expect(try refusal(good.prefix(good.count - 9)).contains("checksum"))
        var flipped = good
        flipped[flipped.count / 2] ^= 0x40
        #expect(try refusal(flipped).contains("checksum"))
        #expect(try refusal(Data(String(repeating: "not a prompt cache at all, only text. ", count: 4).utf8)).contains("wrong magic"))
        #expect(try refusal(Data("short".utf8)).contains("truncated"))
        try good.write(to: URL(fileURLWithPath: file))
        #expect(try refusal(model: Self.model("qwen2")).contains("another model"))
        #expect(try refusal(type: .f32).contains("its KV cache is f16, this session's is f32"))
        #expect(try refusal(context: 3).contains("more than this session's context"))
    }

    /// The identity is the weights', not the path's: a copy of the file has the same.
    @Test func identityFollowsTheWeights() throws {
        let source = ArchitectureReferenceTests.folder.appendingPathComponent("llama.gguf").path
        let copy = Self.path("copy.gguf")
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try FileManager.default.copyItem(atPath: source, toPath: copy)
        #expect(try Model(path: copy).identity == Self.model("llama").identity)
        #expect(try Self.model("llama").identity != Self.model("llama3").identity)
    }

    @Test func hashIsXXH64() {
        func hash(_ text: String) -> UInt64 { Array(text.utf8).withUnsafeBytes { infer_hash64($0.baseAddress, $0.count, 0) } }
        #expect(hash("") == 0xEF46_DB37_51D8_E999)
        #expect(hash("a") == 0xD24E_C4F1_A98C_6E5B)
        #expect(hash("abc") == 0x44BC_2CF5_AD77_0999)
        #expect(hash("Nobody inspects the spammish repetition") == 0xFBCE_A83C_8A37_8BF1)
    }
}
