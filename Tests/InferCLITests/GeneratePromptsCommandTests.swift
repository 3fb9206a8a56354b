import Foundation
import Testing

/// `infer generate --prompts FILE`: the prompts of a JSON Lines file generated together, one JSON
/// line per prompt in the file's order, each what `generate --json-report` gives for it alone.
@Suite(.enabled(if: InferBinary.sharedAvailable, "shared test data not found: set INFER_SHARED (default ../shared)"))
struct GeneratePromptsCommandTests {
    static let model = InferBinary.shared("models/stories260K.gguf")

    static func json(_ line: Substring) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func everyPromptGetsItsAnswerAloneInTheFilesOrder() throws {
        let prompts = ["Once upon a time", "The little dog", "Lily and Tom went to the park", "A big bird", "Sam had a red ball"]
        // Per-line fields override the command line's: the third prompt stops earlier.
        let lines = prompts.enumerated().map { i, prompt in
            i == 2 ? "{\"prompt\": \"\(prompt)\", \"max_tokens\": 12}" : "\"\(prompt)\""
        }
        let file = try InferBinary.scratchFile("prompts.jsonl", lines.joined(separator: "\n") + "\n\n")
        let result = try InferBinary.run(["generate", Self.model, "--prompts", file, "-t", "0", "-n", "40", "--parallel", "3"])
        #expect(result.status == 0, "\(result.stderr)")
        let outputs = result.stdout.split(separator: "\n")
        #expect(outputs.count == prompts.count)
        for (i, (prompt, output)) in zip(prompts, outputs).enumerated() {
            let alone = try InferBinary.run(["generate", Self.model, "-p", prompt, "-t", "0", "-n", i == 2 ? "12" : "40", "--json-report"])
            let expected = try Self.json(alone.stdout.split(separator: "\n")[0]), got = try Self.json(output)
            #expect(got["text"] as? String == expected["text"] as? String, "prompt \(i)")
            #expect(got["finish_reason"] as? String == expected["finish_reason"] as? String)
            #expect(got["generated_tokens"] as? Int == expected["generated_tokens"] as? Int)
            #expect(got["line"] as? Int == i + 1)
        }
        #expect(result.stderr.contains("5 prompts"))
    }

    @Test func aBadLineIsRefusedByNameAndLine() throws {
        let cases = [
            ("\"ok\"\n{\"prompt\": \"x\", \"top_q\": 1}\n", "line 2: unknown field \"top_q\""),
            ("{\"max_tokens\": 3}\n", "line 1: no \"prompt\" string"),
            ("{\"prompt\": \"x\"\n", "line 1: not JSON"),
            ("{\"prompt\": \"x\", \"temperature\": \"hot\"}\n", "line 1: \"temperature\" has the wrong type"),
            ("{\"prompt\": \"x\", \"top_p\": 0}\n", "line 1: top-p must be in (0, 1]"),
            ("\n\n", "no prompts"),
        ]
        for (contents, message) in cases {
            let file = try InferBinary.scratchFile("bad.jsonl", contents)
            let result = try InferBinary.run(["generate", Self.model, "--prompts", file])
            #expect(result.status == 1 && result.stderr.contains(message), "\(contents): \(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
        let missing = try InferBinary.run(["generate", Self.model, "--prompts", "/nonexistent/prompts.jsonl"])
        #expect(missing.status == 1 && missing.stderr.contains("/nonexistent/prompts.jsonl"))
    }

    @Test func optionsThatDoNotApplyAreRefused() throws {
        let file = try InferBinary.scratchFile("one.jsonl", "\"Hi\"\n")
        for extra in [["-p", "Hi"], ["--prompt-cache", "/tmp/x.cache"], ["--parallel", "0"]] {
            let result = try InferBinary.run(["generate", Self.model, "--prompts", file] + extra)
            #expect(result.status == 64, "\(extra): \(result.stderr)")
        }
    }
}
