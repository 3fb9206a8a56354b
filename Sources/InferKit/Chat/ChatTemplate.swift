import Foundation

/// A model's chat template: the Jinja program (`tokenizer.chat_template` in a GGUF, or
/// `chat_template` in `tokenizer_config.json`) that turns a conversation into the exact
/// prompt text the model was trained on.
///
/// infer renders it with its own Jinja interpreter, written to match Jinja2 as Hugging Face
/// `transformers` configures it (`trim_blocks`, `lstrip_blocks`, the immutable sandbox,
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
    public struct Limits: Sendable, Equatable {
        /// Largest prompt (and largest string built along the way), in UTF-8 bytes.
        public var maxOutputBytes: Int
        /// Units of work: statements, loop iterations, calls, items walked by filters.
        public var maxSteps: Int
        /// Deepest nesting of macro calls (a recursive macro).
        public var maxCallDepth: Int

        /// Generous for real templates (a long conversation renders in a few thousand steps).
        public init(maxOutputBytes: Int = 16 << 20, maxSteps: Int = 5_000_000, maxCallDepth: Int = 128) {
            self.maxOutputBytes = maxOutputBytes
            self.maxSteps = maxSteps
            self.maxCallDepth = maxCallDepth
        }
    }

    /// The Jinja source.
    public let source: String
    /// Bounds every render of this template.
    public var limits: Limits
    private let program: [Jinja.Node]

    /// Parses `source`. Throws a ``ChatTemplateError`` of kind `.syntax` with the line and
    /// column of the problem.
    public init(source: String, limits: Limits = Limits()) throws {
        self.source = source
        self.limits = limits
        program = try Jinja.Stack.run { try Jinja.Parser.parse(source) }
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
        var variables: [String: Jinja.Value] = [
            "messages": .list(messages.map { Jinja.Value(.object($0.fields)) }),
            "tools": tools.map { Jinja.Value(.array($0)) } ?? .null,
            "documents": .null,
            "add_generation_prompt": .bool(addGenerationPrompt),
            "bos_token": .string(bosToken),
            "eos_token": .string(eosToken),
        ]
        for (name, value) in extra { variables[name] = Jinja.Value(value) }
        let interpreter = Jinja.Interpreter(limits: limits, now: now)
        return try Jinja.Stack.run { try interpreter.render(program, variables: variables) }
    }
}
