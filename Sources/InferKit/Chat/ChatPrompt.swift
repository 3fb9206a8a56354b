/// How a conversation becomes the tokens a model receives: the chat template renders the
/// messages (with the tokenizer's BOS and EOS text), and the text is encoded with special
/// tokens parsed. `ChatSession` and the server build their prompts this way, so both give
/// a model exactly the same tokens for the same conversation.
///
/// ```swift
/// let prompt = try ChatPrompt(model: model)
/// let tokens = try prompt.tokens(for: [.system("You are terse."), .user("Hello!")])
/// ```
public struct ChatPrompt: Sendable {
    public let model: Model
    /// The template that renders conversations.
    public let template: ChatTemplate
    /// Where the template came from: "given", "model", or the built-in plain transcript.
    public let templateOrigin: String

    /// The built-in template of a family whose files all speak one chat format, for a file that
    /// carries no template of its own (Gemma's base models).
    static let familyTemplates = ["gemma2": "gemma", "gemma3": "gemma"]

    /// - Parameter template: the chat template; nil uses the model's own, else its family's
    ///   built-in one, else the plain "User:/Assistant:" transcript.
    /// - Throws: ``ChatTemplateError`` when the model's template does not parse.
    public init(model: Model, template: ChatTemplate? = nil) throws {
        self.model = model
        if let template {
            self.template = template
            templateOrigin = "given"
        } else if let source = model.chatTemplate {
            self.template = try ChatTemplate(source: source)
            templateOrigin = "model"
        } else if let name = Self.familyTemplates[model.config.architecture] {
            self.template = try ChatTemplate.builtin(named: name)
            templateOrigin = "\(name) (built in: the model has no chat template)"
        } else {
            self.template = try ChatTemplate.builtin(named: "plain")
            templateOrigin = "plain (the model has no chat template)"
        }
    }

    /// The prompt text for `messages`, ending with the header that opens the assistant's reply
    /// (unless `addGenerationPrompt` is false).
    /// - Throws: ``ChatTemplateError`` (`.raised` when the template refuses the conversation).
    public func text(for messages: [ChatMessage], addGenerationPrompt: Bool = true) throws -> String {
        let tokenizer = model.tokenizer
        return try template.render(messages: messages, addGenerationPrompt: addGenerationPrompt,
                                   bosToken: tokenizer.special.bos.map(tokenizer.piece(of:)) ?? "",
                                   eosToken: tokenizer.special.eos.map(tokenizer.piece(of:)) ?? "")
    }

    /// The prompt tokens for `messages`.
    public func tokens(for messages: [ChatMessage]) throws -> [Int] {
        try encode(text(for: messages))
    }

    /// Tokens of a rendered prompt: special tokens in the text are parsed, and BOS is added
    /// only when the model wants it and the template did not already write it.
    public func encode(_ text: String) throws -> [Int] {
        let tokenizer = model.tokenizer
        let bosText = tokenizer.special.bos.map(tokenizer.piece(of:)) ?? ""
        let templateWroteBOS = !bosText.isEmpty && text.hasPrefix(bosText)
        let tokens = tokenizer.encode(text, options: EncodeOptions(addBOS: tokenizer.addsBOSByDefault && !templateWroteBOS,
                                                                   parseSpecial: true))
        guard !tokens.isEmpty else { throw InferError.invalidArgument("the chat template rendered an empty prompt") }
        return tokens
    }
}
