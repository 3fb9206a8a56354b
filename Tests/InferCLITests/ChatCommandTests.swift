import Foundation
import Testing

/// `infer chat` driven through stdin, one message per line, as scripts use it.
@Suite(.enabled(if: InferBinary.sharedAvailable, "shared test data not found: set INFER_SHARED (default ../shared)"))
struct ChatCommandTests {
    static let model = InferBinary.shared("models/stories260K.gguf")

    /// The numbers in a `--verbose` status line: computed, reused, generated.
    static func counts(_ line: Substring) -> (computed: Int, reused: Int)? {
        let words = line.split(separator: " ")
        guard let computed = words.firstIndex(of: "computed,"), let reused = words.firstIndex(of: "reused,") else { return nil }
        return (Int(words[computed - 3].dropFirst()) ?? -1, Int(words[reused - 1]) ?? -1)
    }

    @Test func multiTurnReusesTheCache() throws {
        let result = try InferBinary.run(["chat", Self.model, "-t", "0", "-n", "30", "--verbose"],
                                         stdin: "Hello there\nTell me a story\nWhat happened next?\n")
        #expect(result.status == 0, "\(result.stderr)")
        let answers = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(answers.count == 3)
        #expect(answers.allSatisfy { $0.count > 20 })
        #expect(result.stderr.contains("has no chat template"))
        let status = result.stderr.split(separator: "\n").compactMap(Self.counts)
        #expect(status.count == 3)
        #expect(status[0].reused == 0)
        #expect(status[1].reused > status[0].computed, "turn 2 reuses turn 1: \(status)")
        #expect(status[1].computed < status[0].computed + 10, "turn 2 computes only its own tokens: \(status)")
        #expect(status[2].reused > status[1].reused)
    }

    @Test func sameSeedSameConversation() throws {
        let args = ["chat", Self.model, "-n", "25", "--seed", "7", "--temperature", "0.9"]
        let a = try InferBinary.run(args, stdin: "Hi\nMore\n"), b = try InferBinary.run(args, stdin: "Hi\nMore\n")
        #expect(a.status == 0 && a.stdout == b.stdout)
    }

    @Test func commandsWork() throws {
        let result = try InferBinary.run(["chat", Self.model, "-t", "0", "-n", "10", "--system", "Be nice."],
                                         stdin: "/params\n/system Tell stories.\n/reset\n/nope\n/help\nHi\n/quit\nNever read\n")
        #expect(result.status == 0)
        #expect(result.stderr.contains("temperature 0.0"))
        #expect(result.stderr.contains("(system prompt set)") && result.stderr.contains("(conversation cleared)"))
        #expect(result.stderr.contains("unknown command /nope"))
        #expect(result.stdout.split(separator: "\n").count == 1, "one answer, then /quit")
    }

    @Test func errorsInTheREPLDoNotEndIt() throws {
        let long = String(repeating: "word ", count: 80)
        let result = try InferBinary.run(["chat", Self.model, "-t", "0", "-n", "8", "-c", "64", "--no-context-shift"],
                                         stdin: "\(long)\nHi\n")
        #expect(result.status == 0)
        #expect(result.stderr.contains("error: the context is full"))
        #expect(result.stdout.split(separator: "\n").count == 1, "the second message is still answered")
    }

    @Test func builtinTemplateAndBadFlags() throws {
        let chatml = try InferBinary.run(["chat", Self.model, "-t", "0", "-n", "5", "--chat-template", "chatml"], stdin: "Hi\n")
        #expect(chatml.status == 0 && !chatml.stderr.contains("no chat template"))
        let unknown = try InferBinary.run(["chat", Self.model, "--chat-template", "nonesuch"], stdin: "Hi\n")
        #expect(unknown.status == 1 && unknown.stderr.contains("unknown chat template 'nonesuch'"))
        let flag = try InferBinary.run(["chat", Self.model, "--top-p", "2"], stdin: "Hi\n")
        #expect(flag.status != 0 && flag.stderr.contains("top-p"))
        let missing = try InferBinary.run(["chat", "/no/model.gguf"], stdin: "Hi\n")
        #expect(missing.status == 1 && missing.stderr.contains("/no/model.gguf"))
    }
}
