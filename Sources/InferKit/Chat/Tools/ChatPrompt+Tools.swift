/// Conversations with tools: the tools and the calls and results so far go through the
/// model's chat template when it knows how to show them (see `ToolCallFormat.detect`).
/// A template that does not is given a conversation it can show: the tools described in the
/// system message (asking for calls in the hermes format), calls written into the assistant
/// messages' text, and results as user messages in `<tool_response>` blocks.
extension ChatPrompt {
    /// How this model writes tool calls.
    public var toolCallFormat: ToolCallFormat {
        ToolCallFormat.detect(templateSource: template.source) ?? .hermes
    }

    /// Whether the template shows tools itself.
    public var templateShowsTools: Bool {
        ToolCallFormat.detect(templateSource: template.source) != nil
    }

    /// The prompt text for `messages` with `tools` available.
    public func text(for messages: [ChatMessage], tools: [Tool]) throws -> String {
        let tokenizer = model.tokenizer
        let bos = tokenizer.special.bos.map(tokenizer.piece(of:)) ?? ""
        let eos = tokenizer.special.eos.map(tokenizer.piece(of:)) ?? ""
        if templateShowsTools {
            return try template.render(messages: messages.map(Self.withArgumentObjects), addGenerationPrompt: true,
                                       bosToken: bos, eosToken: eos, tools: tools.isEmpty ? nil : tools.map(\.json))
        }
        return try template.render(messages: Self.describingTools(messages, tools), addGenerationPrompt: true,
                                   bosToken: bos, eosToken: eos)
    }

    /// The prompt tokens for `messages` with `tools` available.
    public func tokens(for messages: [ChatMessage], tools: [Tool]) throws -> [Int] {
        try encode(text(for: messages, tools: tools))
    }

    /// Templates write a call's arguments with `tojson`: they want the object, where
    /// OpenAI's messages carry it as JSON text.
    static func withArgumentObjects(_ message: ChatMessage) -> ChatMessage {
        guard let calls = message["tool_calls"]?.array else { return message }
        var fields = message.fields
        fields["tool_calls"] = .array(calls.map { call in
            guard var object = call.object, var function = object["function"]?.object,
                  let text = function["arguments"]?.string, let parsed = try? JSONValue(parsing: text), parsed.object != nil
            else { return call }
            function["arguments"] = parsed
            object["function"] = .object(function)
            return .object(object)
        })
        return ChatMessage(role: message.role, content: fields["content"], extra: fields)
    }

    /// The conversation for a template that does not show tools.
    static func describingTools(_ messages: [ChatMessage], _ tools: [Tool]) -> [ChatMessage] {
        var result: [ChatMessage] = []
        var rest = messages[...]
        if !tools.isEmpty {
            let description = toolDescription(tools)
            if let first = rest.first, first.role == "system" {
                result.append(.system((first.content?.string ?? "") + "\n\n" + description))
                rest = rest.dropFirst()
            } else {
                result.append(.system(description))
            }
        }
        var afterToolResult = false
        for message in rest {
            if message.role == "tool" {
                // Results of one round of calls go together, in one user message.
                let block = "<tool_response>\n" + (message.content?.string ?? message.content?.jsonText ?? "") + "\n</tool_response>"
                if afterToolResult, let last = result.popLast() {
                    result.append(.user((last.content?.string ?? "") + "\n" + block))
                } else {
                    result.append(.user(block))
                }
                afterToolResult = true
                continue
            }
            afterToolResult = false
            if message.role == "assistant", let calls = message["tool_calls"]?.array, !calls.isEmpty {
                let blocks = calls.map { call -> String in
                    let function = call["function"]
                    let arguments = function?["arguments"]?.string.flatMap { try? JSONValue(parsing: $0) }
                        ?? function?["arguments"] ?? .object(JSONObject())
                    let object = JSONValue.object(JSONObject([("name", function?["name"] ?? ""), ("arguments", arguments)]))
                    return "<tool_call>\n" + object.jsonText + "\n</tool_call>"
                }
                let parts = [message.content?.string, blocks.joined(separator: "\n")].compactMap { $0 }.filter { !$0.isEmpty }
                result.append(.assistant(parts.joined(separator: "\n")))
            } else {
                result.append(message)
            }
        }
        return result
    }

    /// What a model is told about the tools when its template has no place for them (the
    /// wording Qwen 2.5's template uses).
    static func toolDescription(_ tools: [Tool]) -> String {
        """
        # Tools

        You may call one or more functions to assist with the user query.

        You are provided with function signatures within <tools></tools> XML tags:
        <tools>
        \(tools.map(\.json.jsonText).joined(separator: "\n"))
        </tools>

        For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:
        <tool_call>
        {"name": <function-name>, "arguments": <args-json-object>}
        </tool_call>
        """
    }
}
