import Testing
@testable import InferKit

/// The built-in templates against the prompts llama.cpp's `llama_chat_apply_template`
/// builds for its test conversation (tests/test-chat-template.cpp, src/llama-chat.cpp).
struct BuiltinChatTemplateTests {
    /// llama.cpp's test conversation; note the spaces around the second answer.
    static let conversation: [ChatMessage] = [
        .system("You are a helpful assistant"), .user("Hello"), .assistant("Hi there"),
        .user("Who are you"), .assistant("   I am an assistant   "), .user("Another question"),
    ]

    @Test(arguments: [
        ("chatml", "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n"),
        ("llama2", "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s><s>[INST] Who are you [/INST]   I am an assistant   </s><s>[INST] Another question [/INST]"),
        ("llama3", "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
        ("mistral", "[INST] You are a helpful assistant\n\nHello[/INST] Hi there</s>[INST] Who are you[/INST] I am an assistant</s>[INST] Another question[/INST]"),
        ("phi3", "<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother question<|end|>\n<|assistant|>\n"),
        ("gemma", "<start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>\n<start_of_turn>model\nHi there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n<start_of_turn>model\nI am an assistant<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>\n<start_of_turn>model\n"),
        ("zephyr", "<|system|>\nYou are a helpful assistant<|endoftext|>\n<|user|>\nHello<|endoftext|>\n<|assistant|>\nHi there<|endoftext|>\n<|user|>\nWho are you<|endoftext|>\n<|assistant|>\n   I am an assistant   <|endoftext|>\n<|user|>\nAnother question<|endoftext|>\n<|assistant|>\n"),
        ("plain", "You are a helpful assistant\n\nUser: Hello\nAssistant: Hi there\nUser: Who are you\nAssistant:    I am an assistant   \nUser: Another question\nAssistant:"),
        ("raw", "You are a helpful assistantHelloHi thereWho are you   I am an assistant   Another question"),
    ])
    func matchesLlamaCpp(_ name: String, _ expected: String) throws {
        let template = try ChatTemplate.builtin(named: name)
        #expect(try template.render(messages: Self.conversation, addGenerationPrompt: true) == expected)
    }

    @Test func generationPromptIsOptional() throws {
        let chatml = try ChatTemplate.builtin(named: "chatml")
        #expect(try chatml.render(messages: [.user("Hi")], addGenerationPrompt: false) == "<|im_start|>user\nHi<|im_end|>\n")
        let plain = try ChatTemplate.builtin(named: "plain")
        #expect(try plain.render(messages: [.user("Hi")], addGenerationPrompt: false) == "User: Hi\n")
    }

    @Test func everyNameIsBuiltIn() throws {
        for name in ChatTemplate.builtinNames { _ = try ChatTemplate.builtin(named: name) }
        #expect(throws: InferError.self) { try ChatTemplate.builtin(named: "nonexistent") }
    }
}
