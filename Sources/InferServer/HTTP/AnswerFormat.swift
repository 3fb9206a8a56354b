import InferKit

/// How an endpoint shapes its answer, whole or streamed in chunks.
protocol AnswerFormat: Sendable {
    /// The whole answer (a non-streaming response).
    func whole(text: String, finishReason: FinishReason, usage: Usage) -> any Encodable
    /// The chunk that opens a stream, if the format has one.
    func opening() -> (any Encodable)?
    /// A chunk of text.
    func chunk(_ text: String) -> any Encodable
    /// The chunk that ends the answer, with its finish reason.
    func closing(_ reason: FinishReason) -> any Encodable
    /// The chunk with the token counts (`stream_options.include_usage`).
    func usage(_ usage: Usage) -> any Encodable
}

/// `chat.completion` and its chunks.
struct ChatAnswerFormat: AnswerFormat {
    let id = responseID("chatcmpl-")
    let created = unixTime()
    let model: String

    func whole(text: String, finishReason: FinishReason, usage: Usage) -> any Encodable {
        ChatCompletion(id: id, created: created, model: model,
                       choices: [.init(message: .init(content: text), finishReason: openAIFinishReason(finishReason))],
                       usage: usage)
    }

    func opening() -> (any Encodable)? {
        chunk(delta: .init(role: "assistant", content: ""), finishReason: nil)
    }

    func chunk(_ text: String) -> any Encodable {
        chunk(delta: .init(content: text), finishReason: nil)
    }

    func closing(_ reason: FinishReason) -> any Encodable {
        chunk(delta: .init(), finishReason: openAIFinishReason(reason))
    }

    func usage(_ usage: Usage) -> any Encodable {
        ChatCompletionChunk(id: id, created: created, model: model, choices: [], usage: usage)
    }

    private func chunk(delta: ChatCompletionChunk.Delta, finishReason: String?) -> ChatCompletionChunk {
        ChatCompletionChunk(id: id, created: created, model: model,
                            choices: [.init(delta: delta, finishReason: Nullable(finishReason))], usage: nil)
    }
}

/// `text_completion`, whole and as chunks (the same object).
struct TextAnswerFormat: AnswerFormat {
    let id = responseID("cmpl-")
    let created = unixTime()
    let model: String

    func whole(text: String, finishReason: FinishReason, usage: Usage) -> any Encodable {
        completion(text, finishReason: openAIFinishReason(finishReason), usage: usage)
    }

    func opening() -> (any Encodable)? { nil }

    func chunk(_ text: String) -> any Encodable {
        completion(text, finishReason: nil, usage: nil)
    }

    func closing(_ reason: FinishReason) -> any Encodable {
        completion("", finishReason: openAIFinishReason(reason), usage: nil)
    }

    func usage(_ usage: Usage) -> any Encodable {
        TextCompletion(id: id, created: created, model: model, choices: [], usage: usage)
    }

    private func completion(_ text: String, finishReason: String?, usage: Usage?) -> TextCompletion {
        TextCompletion(id: id, created: created, model: model,
                       choices: [.init(text: text, finishReason: Nullable(finishReason))], usage: usage)
    }
}
