import Foundation
import Testing
@testable import InferKit

/// Where templates and their special tokens come from.
struct ChatTemplateFileTests {
    @Test func ggufTemplatesAndTokenPieces() throws {
        var gguf = GGUFBuilder()
        gguf.add("general.architecture", .string("llama"))
        gguf.add("tokenizer.ggml.tokens", .array(elementType: .string, [.string("<unk>"), .string("<|begin|>"), .string("<|end|>")]))
        gguf.add("tokenizer.ggml.bos_token_id", .uint32(1))
        gguf.add("tokenizer.ggml.eos_token_id", .uint32(2))
        gguf.add("tokenizer.chat_template", .string("{{ bos_token }}{{ messages[0].content }}{{ eos_token }}"))
        gguf.add("tokenizer.chat_template.tool_use", .string("tools"))
        let path = try gguf.write()
        let file = try ChatTemplateFile.load(path: path)
        #expect(file == ChatTemplateFile(template: "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}",
                                         namedTemplates: ["tool_use": "tools"], bosToken: "<|begin|>", eosToken: "<|end|>"))
    }

    @Test func tokenizerConfigForms() throws {
        let list = try ChatTemplateFile(tokenizerConfig: JSONValue(parsing: """
            {"chat_template": [{"name": "default", "template": "D"}, {"name": "tool_use", "template": "T"}],
             "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>"}
            """))
        #expect(list == ChatTemplateFile(template: "D", namedTemplates: ["tool_use": "T"], bosToken: "<s>", eosToken: "</s>"))
        let none = try ChatTemplateFile(tokenizerConfig: JSONValue(parsing: #"{"bos_token": null}"#))
        #expect(none == ChatTemplateFile(template: nil))
        #expect(throws: InferError.self) { try ChatTemplateFile(tokenizerConfig: JSONValue(parsing: #"{"chat_template": 5}"#)) }
    }

    @Test(.enabled(if: SharedData.available, SharedData.missingMessage))
    func sharedFiles() throws {
        let gguf = try ChatTemplateFile.load(path: SharedData.path("models/stories260K.gguf"))
        #expect(gguf == ChatTemplateFile(template: nil, bosToken: "<s>", eosToken: "</s>"))
        let jinja = try ChatTemplateFile.load(path: SharedData.path("templates/google-gemma-2-2b-it.jinja"))
        #expect(jinja.template?.hasPrefix("{{ bos_token }}") == true)
        #expect(jinja.bosToken == nil)
        let qwen = try ChatTemplateFile.load(path: SharedData.path("tokenizers/qwen3/tokenizer_config.json"))
        #expect(qwen.bosToken == nil)
        #expect(qwen.eosToken == "<|im_end|>")
        #expect(throws: InferError.self) { try ChatTemplateFile.load(path: SharedData.path("models/tok512.bin")) }
    }
}
