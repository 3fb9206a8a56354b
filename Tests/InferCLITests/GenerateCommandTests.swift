import Foundation
import Testing

/// `infer generate` and `infer info` run as a user runs them.
@Suite(.enabled(if: InferBinary.sharedAvailable, "shared test data not found: set INFER_SHARED (default ../shared)"))
struct GenerateCommandTests {
    static let model = InferBinary.shared("models/stories260K.bin")
    static let tokenizer = InferBinary.shared("models/tok512.bin")

    @Test func greedyBinMatchesReferenceByteForByte() throws {
        let result = try InferBinary.run(["generate", Self.model, "-z", Self.tokenizer, "-t", "0", "-n", "200"])
        let expected = try String(contentsOfFile: InferBinary.shared("reference/stories260K-greedy.txt"), encoding: .utf8)
        #expect(result.status == 0)
        #expect(result.stdout == expected + "\n")
        #expect(result.stderr.contains("tokens/s"))
    }

    @Test func greedyGGUFMatchesReference() throws {
        let result = try InferBinary.run(["generate", InferBinary.shared("models/stories260K.gguf"), "-t", "0", "-n", "200"])
        let expected = try String(contentsOfFile: InferBinary.shared("reference/stories260K-greedy.txt"), encoding: .utf8)
        #expect(result.status == 0 && result.stdout == expected + "\n")
    }

    struct RunCCase: Decodable {
        let model: String, tokenizer: String, prompt: String, runc_steps: Int, output: String
    }

    @Test func promptsMatchRunC() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: InferBinary.shared("reference/greedy-runc.json")))
        for c in try JSONDecoder().decode([RunCCase].self, from: data) {
            let result = try InferBinary.run(["generate", InferBinary.shared("models/\(c.model)"),
                                              "--tokenizer", InferBinary.shared("models/\(c.tokenizer)"),
                                              "--prompt", c.prompt, "--temperature", "0", "--max-tokens", "60"])
            #expect(result.status == 0)
            let text = String(result.stdout.dropLast())  // the final newline infer adds
            #expect(text.count > c.prompt.count + 50)
            #expect(c.output.hasPrefix(text), "\(c.model) \"\(c.prompt)\"")
        }
    }

    @Test func seedMakesSamplingReproducible() throws {
        let args = ["generate", Self.model, "-z", Self.tokenizer, "-t", "1", "-n", "40", "-p", "Once"]
        let a = try InferBinary.run(args + ["-s", "42"]), b = try InferBinary.run(args + ["-s", "42"])
        let c = try InferBinary.run(args + ["-s", "43"])
        #expect(a.status == 0 && a.stdout == b.stdout)
        #expect(a.stdout != c.stdout)
    }

    @Test func infoDescribesTheModel() throws {
        let result = try InferBinary.run(["info", InferBinary.shared("models/stories260K.gguf")])
        #expect(result.status == 0)
        for expected in ["architecture:    llama", "layers:          5", "heads:           8 (KV heads 4, head dimension 8)",
                         "tensors:         48", "vocabulary:      512 tokens", "BOS 1 '<s>'", "chat template:   none"] {
            #expect(result.stdout.contains(expected), "\(expected)")
        }
    }

    /// The family and the features of its blocks (gemma2's reference model).
    @Test func infoNamesTheFamilyAndItsBlockFeatures() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/architectures/gemma2.gguf").path
        let result = try InferBinary.run(["info", file])
        #expect(result.status == 0)
        for expected in ["architecture:    gemma2", "block:           pre- and post-norm",
                         "attention:       scores soft-capped at 5.0, sliding window of 12 on 2 of 4 blocks",
                         "activation:      GeGLU (GELU tanh)", "RoPE:            neox, 16 dimensions, base 10000.0",
                         "embedding:       scaled by 5.656854", "output:          tied to the embedding",
                         "logits:          soft-capped at 4.0"] {
            #expect(result.stdout.contains(expected), "\(expected)\n\(result.stdout)")
        }
    }
}

/// Every kind of bad input ends with one clear line on stderr and a non-zero status.
@Suite(.enabled(if: InferBinary.sharedAvailable, "shared test data not found: set INFER_SHARED (default ../shared)"))
struct BadInputTests {
    static func scratch(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = InferBinary.scratchDirectory.appendingPathComponent(UUID().uuidString + "-" + name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func expectOneErrorLine(_ result: InferBinary.Result, naming path: String, _ problem: String,
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status != 0, sourceLocation: sourceLocation)
        #expect(result.status < 128, "killed by a signal", sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(path) && result.stderr.contains(problem), "\(result.stderr)", sourceLocation: sourceLocation)
    }

    static let stories = Array(FileManager.default.contents(atPath: InferBinary.shared("models/stories260K.gguf")) ?? Data())

    @Test func truncatedGGUF() throws {
        let path = try Self.scratch("cut.gguf", Array(Self.stories[..<600_000]))
        Self.expectOneErrorLine(try InferBinary.run(["generate", path, "-n", "5"]), naming: path, "truncated")
    }

    @Test func wrongMagic() throws {
        var bytes = Self.stories
        bytes[0] = UInt8(ascii: "X")
        let path = try Self.scratch("magic.gguf", bytes)
        // Without the GGUF magic the file is read as a llama2.c checkpoint, and refused as one.
        Self.expectOneErrorLine(try InferBinary.run(["info", path]), naming: path, "llama2.c")
    }

    @Test func tensorOffsetPastTheEnd() throws {
        // Make the last tensor's offset (the final u64 of the tensor infos) point far away.
        var bytes = Self.stories
        let marker = Array("blk.4.ffn_norm.weight".utf8)
        let start = (0..<(bytes.count - marker.count)).first { Array(bytes[$0..<($0 + marker.count)]) == marker }!
        let offsetField = start + marker.count + 4 + 8 + 4
        bytes.replaceSubrange(offsetField..<(offsetField + 8), with: withUnsafeBytes(of: UInt64(1 << 40).littleEndian, Array.init))
        let path = try Self.scratch("offset.gguf", bytes)
        Self.expectOneErrorLine(try InferBinary.run(["generate", path]), naming: path, "past the end")
    }

    @Test func absurdMetadataCount() throws {
        var bytes = Self.stories
        bytes.replaceSubrange(16..<24, with: withUnsafeBytes(of: UInt64(1 << 62).littleEndian, Array.init))
        let path = try Self.scratch("count.gguf", bytes)
        Self.expectOneErrorLine(try InferBinary.run(["info", path]), naming: path, "impossible")
    }

    @Test func shapeThatDoesNotMatchHyperparameters() throws {
        var bytes = Array(FileManager.default.contents(atPath: InferBinary.shared("models/stories260K.bin"))!)
        bytes.replaceSubrange(4..<8, with: withUnsafeBytes(of: Int32(180).littleEndian, Array.init))  // hidden_dim
        let path = try Self.scratch("shape.bin", bytes)
        let result = try InferBinary.run(["generate", path, "-z", InferBinary.shared("models/tok512.bin")])
        Self.expectOneErrorLine(result, naming: path, "bytes")
    }

    @Test func missingTokenizer() throws {
        let path = InferBinary.shared("models/stories260K.bin")
        Self.expectOneErrorLine(try InferBinary.run(["generate", path, "-n", "5"]), naming: path, "--tokenizer")
    }

    @Test func missingFile() throws {
        Self.expectOneErrorLine(try InferBinary.run(["generate", "/no/such/model.gguf"]), naming: "/no/such/model.gguf", "No such file")
    }

    @Test func wrongFlag() throws {
        let result = try InferBinary.run(["generate", InferBinary.shared("models/stories260K.gguf"), "--temprature", "0"])
        #expect(result.status != 0 && result.status < 128)
        #expect(result.stderr.contains("--temprature"))
    }

    @Test func promptLongerThanContext() throws {
        let result = try InferBinary.run(["generate", InferBinary.shared("models/stories260K.gguf"), "-c", "8",
                                          "-p", "Once upon a time there was a very long prompt"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("context"))
    }
}
