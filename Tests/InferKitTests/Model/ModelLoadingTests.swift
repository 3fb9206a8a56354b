import Foundation
import Testing
@testable import InferKit

/// Loading whole models, and every way a model file can be wrong.
struct ModelLoadingTests {
    /// The message of the error `body` throws (recording an issue if it does not throw).
    static func errorMessage(_ body: () throws -> Void) -> String {
        do {
            try body()
            Issue.record("expected an error")
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test func loadsTinyGGUF() throws {
        let model = try Model(path: try TinyModel().builder().write())
        #expect(model.config.dim == 32 && model.config.layerCount == 2 && model.config.kvHeadCount == 2)
        #expect(model.format == .gguf(version: 3))
        #expect(model.tokenizer.vocabularySize == TinyModel().vocabulary.count)
        #expect(model.config.block.rope.style == .normal)
    }

    @Test func refusesShapeThatDoesNotMatchHyperparameters() throws {
        var b = TinyModel().builder()
        let i = b.tensors.firstIndex { $0.name == "blk.1.attn_k.weight" }!
        b.tensors[i].shape = [32, 8]
        b.tensors[i].data.removeLast(b.tensors[i].data.count - 32 * 8 * 4)
        let path = try b.write()
        let message = Self.errorMessage { _ = try Model(path: path) }
        #expect(message.contains(path))
        #expect(message.contains("'blk.1.attn_k.weight' has shape [32, 8] but the hyperparameters need [32, 16]"))
    }

    @Test func refusesMissingTensorAndUnknownArchitecture() throws {
        var missing = TinyModel().builder()
        missing.tensors.removeAll { $0.name == "blk.0.ffn_up.weight" }
        let path = try missing.write()
        #expect(Self.errorMessage { _ = try Model(path: path) }.contains("'blk.0.ffn_up.weight' is missing"))

        var arch = TinyModel().builder()
        arch.metadata[0] = ("general.architecture", .string("mamba"))
        let archPath = try arch.write()
        #expect(Self.errorMessage { _ = try Model(path: archPath) }.contains("architecture 'mamba'"))

        var noHeads = TinyModel().builder()
        noHeads.metadata.removeAll { $0.0 == "llama.attention.head_count" }
        let noHeadsPath = try noHeads.write()
        #expect(Self.errorMessage { _ = try Model(path: noHeadsPath) }.contains("llama.attention.head_count is missing"))
    }

    @Test func refusesUncomputableTensorType() throws {
        var b = TinyModel().builder()
        let i = b.tensors.firstIndex { $0.name == "blk.0.attn_q.weight" }!
        b.tensors[i].type = .iq2_xxs
        b.tensors[i].shape = [256, 4]  // a whole IQ2_XXS block per row; the shape check comes later
        b.tensors[i].data = [UInt8](repeating: 0, count: 4 * 66)
        let path = try b.write()
        let message = Self.errorMessage { _ = try Model(path: path) }
        #expect(message.contains("blk.0.attn_q.weight"))
    }

    @Test func refusesTokenizerSmallerThanVocabulary() throws {
        let model = TinyModel().builder()
        var tokens = GGUFBuilder()
        tokens.add("tokenizer.ggml.model", .string("llama"))
        tokens.add("tokenizer.ggml.tokens", .array(elementType: .string, [.string("<unk>"), .string("a")]))
        let path = try model.write(), tokenizerPath = try tokens.write(name: "vocab.gguf")
        let message = Self.errorMessage { _ = try Model(path: path, tokenizerPath: tokenizerPath) }
        #expect(message.contains("the tokenizer has 2 tokens"))
    }
}

/// Loading maps the file instead of reading it: memory grows only as weights are used,
/// and never beyond the file's size plus the KV cache.
struct ZeroCopyLoadingTests {
    static func residentBytes() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }

    // Under a sanitizer (make sanitize sets INFER_SANITIZER) shadow memory and quarantine make
    // the resident size say nothing about the loader.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/status")),
          .disabled(if: ProcessInfo.processInfo.environment["INFER_SANITIZER"] != nil, "resident memory is the sanitizer's"))
    func residentMemoryStaysNearFileSize() throws {
        var big = TinyModel()
        big.dim = 512
        big.hidden = 1536
        big.heads = 8
        big.kvHeads = 8
        big.layers = 4
        let path = try big.builder().write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fileSize = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        #expect(fileSize > 50 << 20)

        let before = Self.residentBytes()
        let model = try Model(path: path)
        let afterLoad = Self.residentBytes()
        // A copying loader would hold the whole file now. (The kernel maps file pages in
        // chunks of up to 2 MiB, so each small norm vector read maps more than it needs.)
        #expect(afterLoad - before < fileSize / 2, "loading made \(afterLoad - before) bytes resident for a \(fileSize)-byte file")

        let session = try Session(model: model, contextLength: 64)
        try session.append([1, 260])
        let afterUse = Self.residentBytes()
        #expect(afterUse - before < fileSize + fileSize / 5, "generating made \(afterUse - before) bytes resident for a \(fileSize)-byte file")
    }
}

/// llama2.c checkpoints and tokenizer.bin files that are damaged.
@Suite(.enabled(if: SharedData.available, SharedData.missingMessage))
struct Llama2CFileTests {
    static let model = SharedData.path("models/stories260K.bin")
    static let q80 = SharedData.path("models/stories260K_q80.bin")
    static let tokenizer = SharedData.path("models/tok512.bin")

    static func bytes(_ path: String) -> [UInt8] { Array(FileManager.default.contents(atPath: path)!) }

    @Test func readsEveryVersionHeader() throws {
        let v0 = try Model(path: Self.model, tokenizerPath: Self.tokenizer)
        #expect(v0.format == .llama2c(version: 0))
        #expect(v0.config == ModelConfig.llama(dim: 64, hiddenDim: 172, layerCount: 5, headCount: 8,
                                               kvHeadCount: 4, headDim: 8, vocabularySize: 512, contextLength: 512,
                                               rmsEpsilon: 1e-5, ropeBase: 10000, ropeDim: 8))
        let v2 = try Model(path: Self.q80, tokenizerPath: Self.tokenizer)
        #expect(v2.format == .llama2c(version: 2))
        #expect(v2.weightBytesByType.map(\.type) == ["Q8_0(g32)"])
    }

    /// A version-1 file written from the version-0 one (same weights, reordered) generates the same text.
    @Test func version1MatchesVersion0() throws {
        let v0 = Self.bytes(Self.model)
        // stories260K: dim 64, hidden 172, 5 layers, 8 heads, 4 KV heads, vocab 512, seq 512.
        let dim = 64, hidden = 172, layers = 5, kvDim = 32, vocab = 512, ropeTable = 512 * 8
        let sizes = [vocab * dim, layers * dim, layers * dim * dim, layers * kvDim * dim, layers * kvDim * dim,
                     layers * dim * dim, layers * dim, layers * hidden * dim, layers * dim * hidden,
                     layers * hidden * dim, dim, ropeTable]
        var sections: [ArraySlice<UInt8>] = []
        var offset = 28
        for floats in sizes {
            sections.append(v0[offset..<(offset + 4 * floats)])
            offset += 4 * floats
        }
        // v0 order: emb, att, wq, wk, wv, wo, ffn, w1, w2, w3, final, rope; v1: att, ffn, final, emb, wq ... w3.
        let order = [1, 6, 10, 0, 2, 3, 4, 5, 7, 8, 9]
        var v1: [UInt8] = withUnsafeBytes(of: UInt32(0x616B_3432).littleEndian, Array.init)
        v1 += withUnsafeBytes(of: Int32(1).littleEndian, Array.init)
        v1 += Array(v0[0..<28]) + [1]
        v1 += [UInt8](repeating: 0, count: 256 - v1.count)
        for i in order { v1 += sections[i] }
        let model = try Model(path: try TemporaryFile.write(v1, name: "v1.bin"), tokenizerPath: Self.tokenizer)
        #expect(model.format == .llama2c(version: 1))
        let reference = try Model(path: Self.model, tokenizerPath: Self.tokenizer)
        let text = try GoldenGenerationTests.greedy(model: model, prompt: "", maxTokens: 60)
        #expect(text == (try GoldenGenerationTests.greedy(model: reference, prompt: "", maxTokens: 60)))
    }

    @Test(arguments: [28, 1000, 500_000, 1_056_539])
    func refusesTruncatedModel(length: Int) throws {
        let path = try TemporaryFile.write(Array(Self.bytes(Self.model)[..<length]), name: "cut.bin")
        let message = ModelLoadingTests.errorMessage { _ = try Model(path: path, tokenizerPath: Self.tokenizer) }
        #expect(message.contains(path) && message.contains("truncated"))
    }

    @Test(arguments: [3, 100, 294_000])
    func refusesTruncatedQ80(length: Int) throws {
        let path = try TemporaryFile.write(Array(Self.bytes(Self.q80)[..<length]), name: "cut.bin")
        #expect(ModelLoadingTests.errorMessage { _ = try Model(path: path, tokenizerPath: Self.tokenizer) }.contains(path))
    }

    @Test func refusesHeaderThatDoesNotMatchWeights() throws {
        var bytes = Self.bytes(Self.model)
        bytes.replaceSubrange(4..<8, with: withUnsafeBytes(of: Int32(200).littleEndian, Array.init))  // hidden_dim
        let path = try TemporaryFile.write(bytes, name: "hidden.bin")
        let message = ModelLoadingTests.errorMessage { _ = try Model(path: path, tokenizerPath: Self.tokenizer) }
        #expect(message.contains("truncated") || message.contains("do not match"))

        let junk = try TemporaryFile.write(Array("this is not a model at all, just text".utf8), name: "junk.bin")
        #expect(ModelLoadingTests.errorMessage { _ = try Model(path: junk, tokenizerPath: Self.tokenizer) }.contains(junk))

        var zeros = Self.bytes(Self.model)
        zeros.replaceSubrange(0..<28, with: [UInt8](repeating: 0, count: 28))
        let zeroPath = try TemporaryFile.write(zeros, name: "zeros.bin")
        #expect(ModelLoadingTests.errorMessage { _ = try Model(path: zeroPath, tokenizerPath: Self.tokenizer) }.contains("not a llama2.c checkpoint"))
    }

    @Test func requiresTokenizerForCheckpoint() throws {
        let message = ModelLoadingTests.errorMessage { _ = try Model(path: Self.model) }
        #expect(message.contains("no tokenizer") && message.contains("--tokenizer"))
    }

    @Test(arguments: [2, 4, 10, 3000, 6226])
    func refusesTruncatedTokenizer(length: Int) throws {
        let path = try TemporaryFile.write(Array(Self.bytes(Self.tokenizer)[..<length]), name: "tok.bin")
        let message = ModelLoadingTests.errorMessage { _ = try TokenizerLoader.load(path: path) }
        #expect(message.contains(path))
    }

    @Test func missingFileNamesThePath() {
        let message = ModelLoadingTests.errorMessage { _ = try Model(path: "/nonexistent/model.gguf") }
        #expect(message == "/nonexistent/model.gguf: cannot open: No such file or directory")
    }
}

extension ModelLoadingTests {
    /// A tensor the family does not read is a feature infer would leave out: refused by name.
    @Test func refusesATensorItDoesNotRead() throws {
        var b = TinyModel().builder()
        b.addTensor("blk.0.attn_sinks.weight", shape: [4], floats: [1, 1, 8, 8])
        let path = try b.write()
        let message = Self.errorMessage { _ = try Model(path: path) }
        #expect(message.contains("blk.0.attn_sinks.weight") && message.contains("unsupported"), "\(message)")
    }

    /// rope_freqs.weight of a Llama 3.1 file divides the rotation's frequencies.
    @Test func readsRopeFrequencyFactors() throws {
        var b = TinyModel().builder()
        b.addTensor("rope_freqs.weight", shape: [4], floats: [1, 1, 8, 8])
        let model = try Model(path: try b.write())
        #expect(model.config.block.rope.rotations[0].frequencyFactors == [1, 1, 8, 8])
    }
}
