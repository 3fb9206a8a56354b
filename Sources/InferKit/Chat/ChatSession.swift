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
    let session: Session

    /// - Parameters:
    ///   - template: the chat template; nil uses the model's own, or the built-in plain
    ///     "User:/Assistant:" transcript when the model has none.
    ///   - contextLength: positions of the KV cache (default: the model's, at most 4096).
    ///   - threads: threads for the matrix products (default: the number of cores).
    ///   - cacheType: how the KV cache stores keys and values.
    public init(model: Model, template: ChatTemplate? = nil, systemPrompt: String? = nil,
                parameters: GenerateParameters = GenerateParameters(), contextLength: Int? = nil,
                threads: Int? = nil, cacheType: KVCacheType = Session.defaultCacheType, contextShift: Bool = true) throws {
        self.model = model
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
        try chatPrompt.text(for: messages + (next.map { [$0] } ?? []))
    }

    /// Streams the model's answer to `text`. When it ends (or the reader stops early), the
    /// answer as far as it got joins the conversation.
    public func respond(to text: String) -> GenerationStream {
        GenerationStream(start: { try self.beginTurn(.user(text)) },
                         completion: { answer, stats in self.endTurn(answer: answer, stats: stats ?? GenerationStats()) })
    }

    /// Adds `message` and prepares the answer's generator: renders the conversation,
    /// making room by dropping the oldest turns if needed, and reuses the cached prefix.
    /// Call `endTurn` with the answer when the generator finishes.
    public func beginTurn(_ message: ChatMessage) throws -> Generator {
        var candidate = messages + [message]
        // Leave room for an answer: the token budget, or a quarter of the context.
        let reserve = min(parameters.maxTokens ?? session.contextLength / 4, session.contextLength / 2)
        var tokens = try chatPrompt.tokens(for: candidate)
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
            tokens = try chatPrompt.tokens(for: candidate)
        }
        var parameters = parameters
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
    public func endTurn(answer: String, stats: GenerationStats) {
        messages.append(.assistant(answer.trimmingCharacters(in: .whitespacesAndNewlines)))
        lastStats = stats
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

