import Foundation
import Testing

/// `infer tokenize` run as a user runs it.
@Suite(.enabled(if: InferBinary.sharedAvailable, "shared test data not found: set INFER_SHARED (default ../shared)"))
struct TokenizeCommandTests {
    static let llamaSPM = InferBinary.shared("vocab/ggml-vocab-llama-spm.gguf")

    @Test func printsIdAndPiecePerLine() throws {
        let result = try InferBinary.run(["tokenize", Self.llamaSPM, "Hello world\n"])
        #expect(result.status == 0)
        #expect(result.stdout == "1\t<s>\n15043\t▁Hello\n3186\t▁world\n13\t<0x0A>\n")
    }

    @Test func idsOnOneLineWithBOSOverride() throws {
        let withBOS = try InferBinary.run(["tokenize", "--ids", Self.llamaSPM, "Hello world"])
        #expect(withBOS.status == 0 && withBOS.stdout == "1 15043 3186\n")
        let withoutBOS = try InferBinary.run(["tokenize", "--ids", "--no-bos", Self.llamaSPM, "Hello world"])
        #expect(withoutBOS.stdout == "15043 3186\n")
        // GPT-2 adds no BOS unless asked.
        let gpt2 = InferBinary.shared("vocab/ggml-vocab-gpt-2.gguf")
        #expect(try InferBinary.run(["tokenize", "--ids", gpt2, "Hello world"]).stdout == "15496 995\n")
        #expect(try InferBinary.run(["tokenize", "--ids", "--bos", gpt2, "Hello world"]).stdout == "50256 15496 995\n")
    }

    @Test func readsStandardInput() throws {
        let result = try InferBinary.run(["tokenize", "--ids", "--no-bos", InferBinary.shared("models/tokenizer.bin")],
                                         stdin: "Hello world")
        #expect(result.status == 0 && result.stdout == "15043 3186\n")
    }

    @Test func tokenizerJSONDirectoryAndSpecialTokens() throws {
        let llama3 = InferBinary.shared("tokenizers/llama3")
        let parsed = try InferBinary.run(["tokenize", "--ids", llama3, "<|start_header_id|>user<|end_header_id|>"])
        #expect(parsed.status == 0 && parsed.stdout == "128000 128006 882 128007\n")
        let plain = try InferBinary.run(["tokenize", "--ids", "--no-parse-special", llama3, "<|eot_id|>"])
        #expect(plain.status == 0 && !plain.stdout.contains("128009"))
        // Pieces with line breaks and tabs stay on their line.
        let lines = try InferBinary.run(["tokenize", "--no-bos", llama3, "a\tb\\\n"])
        #expect(lines.stdout == "64\ta\n2282\tĉb\n5779\t\\\\Ċ\n")
    }

    @Test func reportsBadFiles() throws {
        let missing = try InferBinary.run(["tokenize", "/nonexistent/tokenizer.json", "x"])
        #expect(missing.status == 1 && missing.stderr.contains("/nonexistent/tokenizer.json: cannot open"))
        let broken = InferBinary.scratchDirectory.appendingPathComponent("\(UUID().uuidString)-tokenizer.json").path
        try Data(#"{"model": {"type": "BPE", "vocab": {"a": 0}"#.utf8).write(to: URL(fileURLWithPath: broken))
        let result = try InferBinary.run(["tokenize", broken, "x"])
        #expect(result.status == 1)
        #expect(result.stderr == "error: \(broken): not valid JSON: unexpected end of JSON in an object at byte 43\n")
    }
}
