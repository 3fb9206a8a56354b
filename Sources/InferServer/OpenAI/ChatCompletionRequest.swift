import InferKit

/// `POST /v1/chat/completions`: the conversation and how to answer it.
struct ChatCompletionRequest {
    let messages: [ChatMessage]
    let sampling: SamplingFields
    let output: OutputFields
    let tools: ToolFields

    /// The members infer implements (llama.cpp's `top_k`, `min_p`, `repeat_penalty`, `grammar`
    /// and `json_schema` among them); `user` only labels the request.
    static let supported: Set<String> = [
        "model", "messages", "n", "max_tokens", "max_completion_tokens", "temperature", "top_p", "presence_penalty",
        "frequency_penalty", "seed", "stop", "stream", "stream_options", "response_format", "logit_bias", "logprobs",
        "top_logprobs", "tools", "tool_choice", "parallel_tool_calls", "user", "top_k", "min_p", "repeat_penalty",
        "grammar", "json_schema",
    ]

    /// Members accepted only with the value that asks for nothing infer lacks.
    static let defaultsOnly: [String: [JSONValue]] = [
        "store": [false], "service_tier": ["auto", "default"], "modalities": [["text"]], "metadata": [[:]],
    ]

    init(_ fields: RequestFields, modelID: String, vocabularySize: Int) throws(APIError) {
        try fields.rejectUnsupported(Self.supported, defaultsOnly: Self.defaultsOnly)
        guard let value = fields["messages"] else { throw .missing("messages") }
        guard let items = value.array else { throw .invalidType("messages", expected: "an array of messages") }
        guard !items.isEmpty else {
            throw .invalidRequest("Invalid 'messages': empty array. Expected an array with at least one message.",
                                  param: "messages", code: "empty_array")
        }
        var messages: [ChatMessage] = []
        for (index, item) in items.enumerated() {
            messages.append(try Self.message(item, param: "messages[\(index)]"))
        }
        self.messages = messages
        sampling = try SamplingFields(fields, modelID: modelID, defaultMaxTokens: nil, vocabularySize: vocabularySize)
        output = try OutputFields(fields, chat: true)
        tools = try ToolFields(fields)
        if tools.active && output.grammar != nil {
            throw .invalidRequest("'response_format' (or a grammar) cannot be combined with tools: the answer can follow only one of them.",
                                  param: "response_format", code: "invalid_value")
        }
    }

    /// One message: a `role` and a `content` that is a string, null (an assistant message
    /// with tool calls only) or a list of text parts, which are joined into one string since
    /// most chat templates expect a string. Other members are kept for the template.
    private static func message(_ item: JSONValue, param: String) throws(APIError) -> ChatMessage {
        guard let object = item.object else { throw .invalidType(param, expected: "an object") }
        guard let role = object["role"] else { throw .missing("\(param).role") }
        guard let role = role.string else { throw .invalidType("\(param).role", expected: "a string") }
        switch object["content"] {
        case .string?, .null?, nil:
            return ChatMessage(role: role, content: object["content"], extra: object)
        case .array(let parts)?:
            var texts: [String] = []
            for (index, part) in parts.enumerated() {
                let partParam = "\(param).content[\(index)]"
                guard let part = part.object else { throw .invalidType(partParam, expected: "an object") }
                guard part["type"]?.string == "text" else {
                    throw .invalidValue("\(partParam).type", "only text content is supported")
                }
                guard let text = part["text"]?.string else { throw .invalidType("\(partParam).text", expected: "a string") }
                texts.append(text)
            }
            return ChatMessage(role: role, content: .string(texts.joined(separator: "\n")), extra: object)
        default:
            throw .invalidType("\(param).content", expected: "a string or an array of content parts")
        }
    }
}
