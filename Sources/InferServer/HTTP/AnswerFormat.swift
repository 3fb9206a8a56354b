import InferKit

/// How an endpoint shapes one answer, whole or streamed in chunks. A format follows its
/// answer from start to end (the tool calls parsed so far, the text written so far).
protocol AnswerFormat: Sendable {
    /// The whole answer (a non-streaming response).
    mutating func whole(text: String, logprobs: [TokenLogprob], finishReason: FinishReason, usage: Usage) -> any Encodable
    /// The chunk that opens a stream, if the format has one.
    func opening() -> (any Encodable)?
    /// The chunks for a piece of generated text and its tokens' log-probabilities (none while
    /// the text is held back: it may begin a tool call).
    mutating func chunks(_ text: String, logprobs: [TokenLogprob]) -> [any Encodable]
    /// The chunks that end the answer: what was held back, then the finish reason.
    mutating func closing(_ reason: FinishReason) -> [any Encodable]
    /// The chunk with the token counts (`stream_options.include_usage`).
    func usage(_ usage: Usage) -> any Encodable
}

/// `chat.completion` and its chunks. With tools, the answer is parsed for calls as it comes
/// (`ToolCallStream`): text is streamed as content, each call as it completes.
struct ChatAnswerFormat: AnswerFormat {
    let id = responseID("chatcmpl-")
    let created = unixTime()
    let model: String
    let tokenizer: any Tokenizer
    /// The format of the model's calls when tools are offered; nil: plain text.
    let toolFormat: ToolCallFormat?
    let wantsLogprobs: Bool
    private var calls: ToolCallStream?
    private var callCount = 0
    private var pendingLogprobs: [TokenLogprob] = []

    init(model: String, tokenizer: any Tokenizer, toolFormat: ToolCallFormat?, wantsLogprobs: Bool) {
        self.model = model
        self.tokenizer = tokenizer
        self.toolFormat = toolFormat
        self.wantsLogprobs = wantsLogprobs
        calls = toolFormat.map { ToolCallStream(format: $0) }
    }

    mutating func whole(text: String, logprobs: [TokenLogprob], finishReason: FinishReason, usage: Usage) -> any Encodable {
        var content: String? = text
        var toolCalls: [ToolCall] = []
        if let toolFormat {
            let parsed = ToolCallStream.parse(text, format: toolFormat)
            content = parsed.content
            toolCalls = parsed.calls.map { ToolCall(id: ToolCall.makeID(for: toolFormat), name: $0.name, arguments: $0.arguments.jsonText) }
        }
        let message = ChatCompletion.Message(content: Nullable(content), toolCalls: toolCalls.isEmpty ? nil : toolCalls.map(ToolCallJSON.init))
        return ChatCompletion(id: id, created: created, model: model,
                              choices: [.init(message: message, logprobs: logprobsBody(logprobs),
                                              finishReason: openAIFinishReason(finishReason, calledTools: !toolCalls.isEmpty))],
                              usage: usage)
    }

    func opening() -> (any Encodable)? {
        // An answer that may be only calls opens with null content, as OpenAI's does.
        chunk(delta: .init(role: "assistant", content: toolFormat == nil ? "" : .some(nil)), logprobs: [], finishReason: nil)
    }

    mutating func chunks(_ text: String, logprobs: [TokenLogprob]) -> [any Encodable] {
        pendingLogprobs += logprobs
        guard var stream = calls else { return [takeChunk(.init(content: text))] }
        let events = stream.feed(text)
        calls = stream
        return events.flatMap { chunks(for: $0) }
    }

    mutating func closing(_ reason: FinishReason) -> [any Encodable] {
        var result: [any Encodable] = []
        if var stream = calls {
            let events = stream.finish()
            calls = stream
            result += events.flatMap { chunks(for: $0) }
        }
        result.append(takeChunk(.init(), finishReason: openAIFinishReason(reason, calledTools: callCount > 0)))
        return result
    }

    func usage(_ usage: Usage) -> any Encodable {
        ChatCompletionChunk(id: id, created: created, model: model, choices: [], usage: usage)
    }

    private mutating func chunks(for event: ToolCallStream.Event) -> [any Encodable] {
        switch event {
        case .content(let text):
            return [takeChunk(.init(content: text))]
        case .call(let name, let arguments):
            let call = ToolCall(id: ToolCall.makeID(for: toolFormat ?? .hermes), name: name, arguments: arguments.jsonText)
            defer { callCount += 1 }
            return ToolCallDelta.pieces(of: call, index: callCount).map { takeChunk(.init(toolCalls: [$0])) }
        }
    }

    /// A chunk carrying the log-probabilities not yet sent.
    private mutating func takeChunk(_ delta: ChatCompletionChunk.Delta, finishReason: String? = nil) -> ChatCompletionChunk {
        defer { pendingLogprobs.removeAll() }
        return chunk(delta: delta, logprobs: pendingLogprobs, finishReason: finishReason)
    }

    private func chunk(delta: ChatCompletionChunk.Delta, logprobs: [TokenLogprob], finishReason: String?) -> ChatCompletionChunk {
        ChatCompletionChunk(id: id, created: created, model: model,
                            choices: [.init(delta: delta, logprobs: logprobs.isEmpty ? Nullable(nil) : logprobsBody(logprobs),
                                            finishReason: Nullable(finishReason))],
                            usage: nil)
    }

    private func logprobsBody(_ records: [TokenLogprob]) -> Nullable<ChatLogprobs> {
        Nullable(wantsLogprobs ? ChatLogprobs(records, tokenizer: tokenizer) : nil)
    }
}

/// `text_completion`, whole and as chunks (the same object).
struct TextAnswerFormat: AnswerFormat {
    let id = responseID("cmpl-")
    let created = unixTime()
    let model: String
    let tokenizer: any Tokenizer
    let wantsLogprobs: Bool
    /// Characters written so far (where the next chunk's tokens start).
    private var written = 0

    init(model: String, tokenizer: any Tokenizer, wantsLogprobs: Bool) {
        self.model = model
        self.tokenizer = tokenizer
        self.wantsLogprobs = wantsLogprobs
    }

    mutating func whole(text: String, logprobs: [TokenLogprob], finishReason: FinishReason, usage: Usage) -> any Encodable {
        completion(text, logprobs: logprobs, start: 0, finishReason: openAIFinishReason(finishReason), usage: usage)
    }

    func opening() -> (any Encodable)? { nil }

    mutating func chunks(_ text: String, logprobs: [TokenLogprob]) -> [any Encodable] {
        defer { written += text.count }
        return [completion(text, logprobs: logprobs, start: written, finishReason: nil, usage: nil)]
    }

    mutating func closing(_ reason: FinishReason) -> [any Encodable] {
        [completion("", logprobs: [], start: written, finishReason: openAIFinishReason(reason), usage: nil)]
    }

    func usage(_ usage: Usage) -> any Encodable {
        TextCompletion(id: id, created: created, model: model, choices: [], usage: usage)
    }

    private func completion(_ text: String, logprobs: [TokenLogprob], start: Int, finishReason: String?, usage: Usage?) -> TextCompletion {
        let body = wantsLogprobs ? TextLogprobs(logprobs, tokenizer: tokenizer, startOffset: start) : nil
        return TextCompletion(id: id, created: created, model: model,
                              choices: [.init(text: text, logprobs: Nullable(body), finishReason: Nullable(finishReason))], usage: usage)
    }
}
