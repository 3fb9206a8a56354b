import Foundation

/// One conversation with a model: the messages so far, the chat template that turns them
/// into a prompt, and the `Session` whose KV cache holds that prompt. Each turn renders
/// the whole conversation but only computes the tokens the cache does not already hold,
/// so earlier turns are never reprocessed.
///
/// ```swift
/// let chat = try ChatSession(model: model, systemPrompt: "You are terse.")
/// for try await event in chat.respond(to: "Hello!") {
///     if case .text(let piece, _) = event { print(piece, terminator: "") }
/// }
/// ```
///
/// With `tools`, the model may answer with calls: each answer is parsed (see
/// `ToolCallStream`), and `lastReply` holds its text and calls; send the results back with
/// `reply(with:)`.
public final class ChatSession: @unchecked Sendable {
    public let model: Model
    /// Renders the conversation and encodes it.
    public let chatPrompt: ChatPrompt
    /// The template that renders the conversation.
    public var template: ChatTemplate { chatPrompt.template }
    /// Where the template came from: the model file, or the name of a built-in one.
    public var templateOrigin: String { chatPrompt.templateOrigin }
    public var parameters: GenerateParameters
    /// Drop the oldest turns (after the system prompt) when the context is full; when
    /// false, a full context is an error.
    public var contextShift: Bool
    /// The conversation, system prompt first when there is one.
    public private(set) var messages: [ChatMessage] = []
    /// The statistics of the last answer.
    public private(set) var lastStats = GenerationStats()
    /// Functions the model may call.
    public var tools: [Tool]
    /// Whether the model must call one (`required`, a named function: the answer is then
    /// constrained to well-formed calls), may (`auto`), or may not (`none`).
    public var toolChoice: ToolChoice = .auto
    /// Several calls may come in one answer (with `required`).
    public var parallelToolCalls = true
    /// The last answer: its text and the calls parsed from it.
    public private(set) var lastReply = ChatReply(content: nil, toolCalls: [], finishReason: .stop, stats: GenerationStats())
    let session: Session

    /// - Parameters:
    ///   - template: the chat template; nil uses the model's own, or the built-in plain
    ///     "User:/Assistant:" transcript when the model has none.
    ///   - contextLength: positions of the KV cache (default: the model's, at most 4096).
    ///   - threads: threads for the matrix products (default: the number of cores).
    ///   - cacheType: how the KV cache stores keys and values.
    public init(model: Model, template: ChatTemplate? = nil, systemPrompt: String? = nil,
                parameters: GenerateParameters = GenerateParameters(), contextLength: Int? = nil,
                threads: Int? = nil, cacheType: KVCacheType = Session.defaultCacheType, contextShift: Bool = true,
                tools: [Tool] = []) throws {
        self.model = model
        self.tools = tools
        chatPrompt = try ChatPrompt(model: model, template: template)
        self.parameters = parameters
        self.contextShift = contextShift
        session = try Session(model: model, contextLength: contextLength, threads: threads, cacheType: cacheType)
        setSystemPrompt(systemPrompt)
    }

    /// Replaces the system prompt (nil removes it), keeping the rest of the conversation.
    public func setSystemPrompt(_ text: String?) {
        messages.removeAll { $0.role == "system" }
        if let text, !text.isEmpty { messages.insert(.system(text), at: 0) }
    }

    /// Forgets the conversation (the system prompt stays).
    public func reset() {
        messages.removeAll { $0.role != "system" }
        session.reset()
    }

    /// Tokens the session holds (the conversation so far, as the model saw it).
    public var contextUsed: Int { session.tokens.count }
    public var contextLength: Int { session.contextLength }

    /// The prompt for the conversation plus `next` (if given), with the assistant header.
    public func prompt(adding next: ChatMessage? = nil) throws -> String {
        let conversation = messages + (next.map { [$0] } ?? [])
        return usesTools(conversation) ? try chatPrompt.text(for: conversation, tools: shownTools)
                                       : try chatPrompt.text(for: conversation)
    }

    /// The tools the model is shown (none with `toolChoice` `.none`).
    private var shownTools: [Tool] { toolChoice == .none ? [] : tools }

    /// Whether the conversation needs the tool-aware rendering: tools are shown, or earlier
    /// calls and results are in it.
    private func usesTools(_ conversation: [ChatMessage]) -> Bool {
        !shownTools.isEmpty || conversation.contains { $0.role == "tool" || $0["tool_calls"] != nil }
    }

    private func tokens(for conversation: [ChatMessage]) throws -> [Int] {
        usesTools(conversation) ? try chatPrompt.tokens(for: conversation, tools: shownTools)
                                : try chatPrompt.tokens(for: conversation)
    }

    /// Streams the model's answer to `text`. When it ends (or the reader stops early), the
    /// answer as far as it got joins the conversation.
    public func respond(to text: String) -> GenerationStream {
        respond(with: [.user(text)])
    }

    /// Streams the model's answer after `newMessages` (a user message, tool results...).
    public func respond(with newMessages: [ChatMessage]) -> GenerationStream {
        GenerationStream(start: { try self.beginTurn(newMessages) },
                         completion: { answer, stats, reason in
                             self.endTurn(answer: answer, stats: stats ?? GenerationStats(), reason: reason)
                         })
    }

    /// The model's whole answer to `text`: its text and tool calls.
    public func reply(to text: String) async throws -> ChatReply {
        try await reply(with: [.user(text)])
    }

    /// The model's whole answer after the results of its calls.
    public func reply(with results: [ToolResult]) async throws -> ChatReply {
        try await reply(with: results.map(\.message))
    }

    /// The model's whole answer after `newMessages`.
    public func reply(with newMessages: [ChatMessage]) async throws -> ChatReply {
        for try await _ in respond(with: newMessages) {}
        return lastReply
    }

    /// Adds `message` and prepares the answer's generator: renders the conversation,
    /// making room by dropping the oldest turns if needed, and reuses the cached prefix.
    /// Call `endTurn` with the answer when the generator finishes.
    public func beginTurn(_ message: ChatMessage) throws -> Generator {
        try beginTurn([message])
    }

    /// Adds `newMessages` and prepares the answer's generator (see `beginTurn(_:)`). With
    /// `toolChoice` `.required` or a function, the answer is constrained to calls.
    public func beginTurn(_ newMessages: [ChatMessage]) throws -> Generator {
        var candidate = messages + newMessages
        // Leave room for an answer: the token budget, or a quarter of the context.
        let reserve = min(parameters.maxTokens ?? session.contextLength / 4, session.contextLength / 2)
        var tokens = try self.tokens(for: candidate)
        while tokens.count + reserve > session.contextLength {
            guard contextShift else {
                throw InferError.contextFull(needed: tokens.count + reserve, capacity: session.contextLength)
            }
            guard let oldest = candidate.firstIndex(where: { $0.role != "system" }), oldest < candidate.count - 1 else {
                throw InferError.invalidArgument("the message (\(tokens.count) tokens with the system prompt) does not fit in the context of \(session.contextLength) tokens")
            }
            // Drop the oldest exchange: the first non-system message and its answers.
            var end = oldest + 1
            while end < candidate.count - 1 && candidate[end].role != "user" { end += 1 }
            candidate.removeSubrange(oldest..<end)
            tokens = try self.tokens(for: candidate)
        }
        var parameters = parameters
        switch toolChoice {
        case .required, .function:
            parameters.grammar = try ToolCallGrammar.grammar(tools: tools, choice: toolChoice, format: chatPrompt.toolCallFormat,
                                                             parallel: parallelToolCalls, tokenizer: model.tokenizer)
        case .auto, .none:
            break
        }
        if !contextShift {
            parameters.contextShift = false
        } else if parameters.keep == 0 {
            parameters.keep = (try? systemPromptLength(of: tokens, in: candidate)) ?? 0
        }
        let generator = try Generator(session: session, prompt: tokens, parameters: parameters,
                                      dropLeadingWhitespace: true)
        messages = candidate
        return generator
    }

    /// The tokens of the system prompt at the start of `tokens` (after BOS): what a context
    /// shift during the answer keeps. 0 without a system message, or where the template does
    /// not render it as a prefix of its own.
    private func systemPromptLength(of tokens: [Int], in conversation: [ChatMessage]) throws -> Int {
        guard let system = conversation.first, system.role == "system" else { return 0 }
        let alone = try chatPrompt.encode(chatPrompt.text(for: [system], addGenerationPrompt: false))
        var common = 0
        while common < min(alone.count, tokens.count) && alone[common] == tokens[common] { common += 1 }
        let bos = tokens.first == model.tokenizer.special.bos ? 1 : 0
        return max(0, common - bos)
    }

    /// Records the answer the generator produced. Surrounding whitespace is dropped: the
    /// template puts its own between turns (and a reply to "Assistant:" starts with a space).
    public func endTurn(answer: String, stats: GenerationStats, reason: FinishReason = .stop) {
        lastStats = stats
        guard !shownTools.isEmpty else {
            let text = answer.trimmingCharacters(in: .whitespacesAndNewlines)
            messages.append(.assistant(text))
            lastReply = ChatReply(content: text, toolCalls: [], finishReason: reason, stats: stats)
            return
        }
        let format = chatPrompt.toolCallFormat
        let (content, parsed) = ToolCallStream.parse(answer, format: format)
        let calls = parsed.map { ToolCall(id: ToolCall.makeID(for: format), name: $0.name, arguments: $0.arguments.jsonText) }
        var extra = JSONObject()
        if !calls.isEmpty { extra["tool_calls"] = .array(calls.map(\.json)) }
        messages.append(ChatMessage(role: "assistant", content: content.map { .string($0) }, extra: extra))
        lastReply = ChatReply(content: content, toolCalls: calls, finishReason: reason, stats: stats)
    }
}

extension ChatSession {
    /// Writes the conversation and the session's KV cache to `path` (a prompt cache: see
    /// `Session.save(to:conversation:)`), so that a later chat starts where this one is.
    public func save(to path: String) throws {
        let conversation = JSONValue.array(messages.map { .object($0.fields) }).jsonText
        try session.save(to: path, conversation: Data(conversation.utf8))
    }

    /// Continues the conversation saved at `path`: its messages and its KV cache. Refuses (the
    /// chat left as it was) a file without a conversation or that the session cannot restore.
    /// Returns the number of messages restored.
    @discardableResult
    public func restore(from path: String) throws -> Int {
        let file = try MappedFile(path: path)
        let header = try SessionFile.header(of: file)
        guard let conversation = SessionFile.conversation(of: file, header: header) else {
            throw SessionFile.invalid(path, "it holds no conversation (it was saved by generate, not chat)")
        }
        let restored: [ChatMessage]
        do {
            guard let items = try JSONValue(parsing: Array(conversation)).array else { throw InferError.invalidArgument("not a list of messages") }
            restored = try items.map { try ChatMessage(json: $0) }
        } catch {
            throw SessionFile.invalid(path, "its conversation does not parse: \(error)")
        }
        try session.restore(from: path)
        messages = restored
        return messages.count
    }
}

/// A whole answer of a `ChatSession`: its text (nil when it only calls tools) and calls.
public struct ChatReply: Sendable, Equatable {
    public let content: String?
    public let toolCalls: [ToolCall]
    public let finishReason: FinishReason
    public let stats: GenerationStats
}
