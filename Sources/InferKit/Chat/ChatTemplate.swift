import Foundation

/// A model's chat template: the Jinja program (`tokenizer.chat_template` in a GGUF, or
/// `chat_template` in `tokenizer_config.json`) that turns a conversation into the exact
/// prompt text the model was trained on.
///
/// infer renders it with its own Jinja interpreter (the `Jinja` module's `JinjaTemplate`),
/// written to match Jinja2 as Hugging Face `transformers` configures it (`trim_blocks`, `lstrip_blocks`, the immutable sandbox,
/// `loopcontrols`, and transformers' `tojson`, `raise_exception` and `strftime_now`), so the
/// prompt is byte for byte the one `apply_chat_template` produces.
///
/// ```swift
/// let template = try ChatTemplate(source: jinjaSource)
/// let prompt = try template.render(
///     messages: [.system("You are terse."), .user("Hello!")],
///     addGenerationPrompt: true, bosToken: "<|begin_of_text|>", eosToken: "<|eot_id|>")
/// ```
///
/// Parsing happens once, in `init`; rendering is cheap and the value can be shared across
/// threads.
public struct ChatTemplate: Sendable {
    /// Bounds on one render, so that a hostile template fails with a
    /// ``ChatTemplateError/Kind/limitExceeded`` error instead of exhausting memory, time or
    /// the stack.
    public typealias Limits = JinjaTemplate.Limits

    /// The Jinja source.
    public var source: String { template.source }
    /// Bounds every render of this template.
    public var limits: Limits
    private let template: JinjaTemplate

    /// Parses `source`. Throws a ``ChatTemplateError`` of kind `.syntax` with the line and
    /// column of the problem.
    public init(source: String, limits: Limits = Limits()) throws {
        self.limits = limits
        template = try JinjaTemplate(source: source)
    }

    /// Renders the prompt for `messages`.
    ///
    /// The template sees the variables transformers' `apply_chat_template` gives it:
    /// `messages`, `tools` (none when `tools` is nil), `documents` (none),
    /// `add_generation_prompt`, `bos_token`, `eos_token`, and then `extra` (which can set
    /// `documents`, `enable_thinking`, `date_string`, other special tokens, or override
    /// any of the above).
    ///
    /// - Parameters:
    ///   - addGenerationPrompt: end with the header that starts the assistant's reply.
    ///   - tools: tool definitions (OpenAI style: `{"type": "function", "function": {...}}`).
    ///   - now: the time `strftime_now` formats (in the local time zone, as transformers does).
    /// - Throws: ``ChatTemplateError``: `.raised` when the template rejects the conversation
    ///   with `raise_exception` (for example a system message for a model without a system
    ///   role), `.render` for errors such as using an undefined value, `.limitExceeded`.
    public func render(messages: [ChatMessage], addGenerationPrompt: Bool = true,
                       bosToken: String = "", eosToken: String = "",
                       tools: [JSONValue]? = nil, extra: [String: JSONValue] = [:],
                       now: Date = Date()) throws -> String {
        var variables: [String: JSONValue] = [
            "messages": .array(messages.map { .object($0.fields) }),
            "tools": tools.map { .array($0) } ?? .null,
            "documents": .null,
            "add_generation_prompt": .bool(addGenerationPrompt),
            "bos_token": .string(bosToken),
            "eos_token": .string(eosToken),
        ]
        for (name, value) in extra { variables[name] = value }
        return try template.render(variables: variables, limits: limits, now: now)
    }
}
