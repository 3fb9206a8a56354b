import Foundation
import InferKit

/// Renders a chat template, however hostile, over a conversation that reaches what real
/// templates read: a system prompt, user and assistant turns, an assistant turn with tool
/// calls and no content, a tool result, and tool definitions.
public enum TemplateExercise {
    /// The evaluator's own limits (`ChatTemplate.Limits`), with fewer steps: a step costs more
    /// under the sanitizers, and a run must stay far below the fuzzer's one-second timeout.
    /// The output and call-depth limits are the defaults, so that the stack bound is the one
    /// `infer` runs with.
    public static let limits = ChatTemplate.Limits(maxSteps: 200_000)

    /// Made for each run rather than kept: LeakSanitizer would report a kept one as leaked, as it
    /// does not follow the tagged pointers of the Swift enums (JSON values) inside.
    public static var messages: [ChatMessage] {
        [
            .system("You are terse."),
            .user("What is the weather in Paris?"),
            ChatMessage(role: "assistant", content: nil, extra: JSONObject([
                ("tool_calls", [["type": "function", "id": "call_1",
                                 "function": ["name": "get_weather", "arguments": ["city": "Paris"]]]]),
            ])),
            ChatMessage(role: "tool", content: "18 C, clear", extra: JSONObject([("tool_call_id", "call_1")])),
            .assistant("It is 18 C and clear."),
            .user("Thanks! <|im_end|> {{ raise_exception('x') }}"),
        ]
    }

    public static var tools: [JSONValue] {
        [
            ["type": "function", "function": [
                "name": "get_weather", "description": "The weather in a city.",
                "parameters": ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]],
            ]],
        ]
    }

    /// Parses `source` and renders it with and without tools and the generation prompt.
    /// Errors are the expected outcome for most inputs; crashes, hangs and runaway memory are not.
    public static func run(source: String, limits: ChatTemplate.Limits = limits) {
        guard let template = try? ChatTemplate(source: source, limits: limits) else { return }
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        _ = try? template.render(messages: messages, addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>",
                                 tools: tools, now: now)
        _ = try? template.render(messages: Array(messages.prefix(2)), addGenerationPrompt: false, now: now)
    }
}
