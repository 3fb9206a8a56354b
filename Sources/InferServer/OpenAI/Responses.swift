import Foundation
import InferKit

// The response bodies, shaped as OpenAI's so that its clients parse them unchanged. Property
// names are camelCase here and snake_case in JSON (the encoder converts them).

/// A value that encodes as `null` when absent, where the synthesized encoding would leave the
/// member out (`finish_reason` of a chunk that does not end the answer).
struct Nullable<Value: Encodable>: Encodable {
    let value: Value?

    init(_ value: Value?) { self.value = value }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value { try container.encode(value) } else { try container.encodeNil() }
    }
}

struct Usage: Encodable {
    struct PromptDetails: Encodable {
        /// Prompt tokens found in the slot's KV cache rather than computed.
        let cachedTokens: Int
    }

    let promptTokens: Int
    let completionTokens: Int
    let totalTokens: Int
    let promptTokensDetails: PromptDetails

    init(promptTokens: Int, stats: GenerationStats) {
        self.promptTokens = promptTokens
        completionTokens = stats.generatedTokens
        totalTokens = promptTokens + stats.generatedTokens
        promptTokensDetails = PromptDetails(cachedTokens: stats.reusedTokens)
    }
}

/// OpenAI's name for why an answer ended ("tool_calls" when it ended with calls).
func openAIFinishReason(_ reason: FinishReason, calledTools: Bool = false) -> String {
    switch reason {
    case .stop, .stopString: return calledTools ? "tool_calls" : "stop"
    // Cut short by a server shutting down: like a token limit, the answer is incomplete.
    case .length, .contextFull, .cancelled: return "length"
    }
}

struct ChatCompletion: Encodable {
    struct Message: Encodable {
        let role = "assistant"
        /// Null when the answer only calls tools.
        let content: Nullable<String>
        let toolCalls: [ToolCallJSON]?
    }

    struct Choice: Encodable {
        let index = 0
        let message: Message
        let logprobs: Nullable<ChatLogprobs>
        let finishReason: String
    }

    let id: String
    let object = "chat.completion"
    let created: Int
    let model: String
    let choices: [Choice]
    let usage: Usage
}

struct ChatCompletionChunk: Encodable {
    struct Delta: Encodable {
        var role: String?
        /// Absent, null (`.some(nil)`: the opening of an answer that may call tools), or text.
        var content: String??
        var toolCalls: [ToolCallDelta]?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeIfPresent(role, forKey: .role)
            if let content { try container.encode(content, forKey: .content) }
            try container.encodeIfPresent(toolCalls, forKey: .toolCalls)
        }

        enum CodingKeys: String, CodingKey { case role, content, toolCalls }
    }

    struct Choice: Encodable {
        let index = 0
        let delta: Delta
        let logprobs: Nullable<ChatLogprobs>
        let finishReason: Nullable<String>
    }

    let id: String
    let object = "chat.completion.chunk"
    let created: Int
    let model: String
    /// Empty in the last chunk, which carries `usage` instead.
    let choices: [Choice]
    let usage: Usage?
}

/// `POST /v1/completions` answers, whole or as stream chunks (the same object).
struct TextCompletion: Encodable {
    struct Choice: Encodable {
        let text: String
        let index = 0
        let logprobs: Nullable<TextLogprobs>
        let finishReason: Nullable<String>
    }

    let id: String
    let object = "text_completion"
    let created: Int
    let model: String
    let choices: [Choice]
    let usage: Usage?
}

struct ModelList: Encodable {
    struct Card: Encodable {
        let id: String
        let object = "model"
        let created: Int
        let ownedBy = "infer"
    }

    let object = "list"
    let data: [Card]
}

/// `GET /health`: always answers, busy or not.
struct Health: Encodable {
    let status = "ok"
    let slotsIdle: Int
    let slotsProcessing: Int
    let requestsWaiting: Int
}

/// Response ids as OpenAI makes them: a prefix and random letters and digits.
func responseID(_ prefix: String) -> String {
    let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    return prefix + String((0..<24).map { _ in alphabet.randomElement()! })
}

/// Seconds since 1970, as OpenAI's `created`.
func unixTime() -> Int {
    Int(Date().timeIntervalSince1970)
}
