import Foundation
import Testing
import InferKit

/// `infer template` run as a user runs it.
@Suite(.enabled(if: InferBinary.sharedAvailable, "shared test data not found: set INFER_SHARED (default ../shared)"))
struct TemplateCommandTests {
    /// The command failed cleanly: status 1, nothing on stdout, one `error:` line on stderr.
    static func expectCleanFailure(_ result: CommandResult, mentioning text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 1, sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("error: "), "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(text), "stderr: \(result.stderr)", sourceLocation: sourceLocation)
    }

    @Test func printsTheExactPromptOfAJinjaFile() throws {
        let template = try InferBinary.scratchFile("t.jinja", "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}\n")
        let messages = try InferBinary.scratchFile("m.json", #"[{"role": "user", "content": "Héllo \"you\""}, {"role": "assistant", "content": "Hi"}]"#)
        let result = try InferBinary.run(["template", template, "--messages", messages, "--bos-token", "<s>"])
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        // Byte for byte: no trailing newline is added, the template's last newline is dropped.
        #expect(result.stdout == "<s>[user] Héllo \"you\"\n[assistant] Hi\n[assistant]")
        let noPrompt = try InferBinary.run(["template", template, "--messages", messages, "--no-generation-prompt"])
        #expect(noPrompt.stdout == "[user] Héllo \"you\"\n[assistant] Hi\n")
    }

    @Test func usesTheTokenizerConfigTemplateAndTokens() throws {
        let config = InferBinary.shared("tokenizers/qwen3/tokenizer_config.json")
        let result = try InferBinary.run(["template", config])
        #expect(result.status == 0)
        let file = try ChatTemplateFile.load(path: config)
        let expected = try ChatTemplate(source: try #require(file.template)).render(
            messages: [.user("Hello!"), .assistant("Hello! How can I help you today?"), .user("What is the capital of France?")],
            addGenerationPrompt: true, bosToken: file.bosToken ?? "", eosToken: file.eosToken ?? "")
        #expect(result.stdout == expected)
        #expect(result.stdout.hasSuffix("<|im_start|>assistant\n"))
    }

    @Test func readsMessagesAndToolsFromStandardInput() throws {
        let input = #"{"messages": [{"role": "user", "content": "Weather?"}], "tools": [{"type": "function", "function": {"name": "get_weather", "description": "d", "parameters": {"type": "object", "properties": {}}}}]}"#
        let result = try InferBinary.run(["template", InferBinary.shared("templates/Qwen-Qwen2.5-7B-Instruct.jinja"), "--messages", "-"],
                                         stdin: input)
        #expect(result.status == 0)
        #expect(result.stdout.contains("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\""))
        #expect(result.stdout.hasSuffix("<|im_start|>user\nWeather?<|im_end|>\n<|im_start|>assistant\n"))
    }

    @Test func fileWithoutTemplateFallsBackToPlainTranscript() throws {
        for path in ["tokenizers/llama3/tokenizer_config.json", "models/stories260K.gguf"] {
            let result = try InferBinary.run(["template", InferBinary.shared(path)])
            #expect(result.status == 0)
            #expect(result.stdout == "User: Hello!\nAssistant: Hello! How can I help you today?\nUser: What is the capital of France?\nAssistant:")
            #expect(result.stderr.contains("has no chat template; using the built-in 'plain' transcript"))
        }
    }

    @Test func chatTemplateOptionSelectsABuiltIn() throws {
        let result = try InferBinary.run(["template", InferBinary.shared("templates/google-gemma-2-2b-it.jinja"), "--chat-template", "chatml"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("<|im_start|>user\nHello!<|im_end|>\n"))
    }

    @Test func largeOutputDoesNotBlock() throws {
        let template = try InferBinary.scratchFile("big.jinja", "{% for i in range(30000) %}{{ '%05d' % i }}{{ 'x' * 95 }}\n{% endfor %}")
        let result = try InferBinary.run(["template", template])
        #expect(result.status == 0)
        #expect(result.stdoutBytes.count == 30000 * 101)
    }

    @Test func missingFileIsOneErrorLine() throws {
        Self.expectCleanFailure(try InferBinary.run(["template", "/nonexistent/model.gguf"]), mentioning: "No such file or directory")
    }

    @Test func syntaxErrorNamesTheLine() throws {
        let template = try InferBinary.scratchFile("bad.jinja", "line one\n{% for x in %}")
        Self.expectCleanFailure(try InferBinary.run(["template", template]), mentioning: "syntax error at line 2")
    }

    @Test func raisedExceptionIsReported() throws {
        let messages = try InferBinary.scratchFile("m.json", #"[{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]"#)
        let result = try InferBinary.run(["template", InferBinary.shared("templates/google-gemma-2-2b-it.jinja"), "--messages", messages])
        Self.expectCleanFailure(result, mentioning: "System role not supported")
    }

    @Test func badMessagesAreReported() throws {
        let gemma = InferBinary.shared("templates/google-gemma-2-2b-it.jinja")
        let invalid = try InferBinary.scratchFile("m.json", #"[{"role": "user", "content": "u"}"#)
        Self.expectCleanFailure(try InferBinary.run(["template", gemma, "--messages", invalid]), mentioning: "not valid JSON")
        let noRole = try InferBinary.run(["template", gemma, "--messages", "-"], stdin: #"[{"content": "u"}]"#)
        Self.expectCleanFailure(noRole, mentioning: "message 1")
        Self.expectCleanFailure(try InferBinary.run(["template", gemma, "--chat-template", "nope"]), mentioning: "unknown chat template 'nope'")
        Self.expectCleanFailure(try InferBinary.run(["template", gemma, "--messages", "/nonexistent/messages.json"]), mentioning: "No such file or directory")
    }
}
