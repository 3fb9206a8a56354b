/// A call the model made: the function's name and its arguments as JSON text.
public struct ToolCall: Sendable, Equatable {
    /// Identifies the call, so that its result can name it (`tool_call_id`).
    public let id: String
    public let name: String
    /// The arguments object as compact JSON text (what OpenAI's `arguments` holds).
    public let arguments: String

    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }

    /// The arguments, parsed.
    public var argumentsJSON: JSONValue? { try? JSONValue(parsing: arguments) }

    /// The OpenAI JSON object of an assistant message's `tool_calls` item.
    public var json: JSONValue {
        .object(JSONObject([("id", .string(id)), ("type", "function"),
                            ("function", .object(JSONObject([("name", .string(name)), ("arguments", .string(arguments))])))]))
    }

    /// A fresh call id: OpenAI's shape (`call_` and 24 letters and digits), or 9 letters and
    /// digits where the model's template insists on that (Mistral).
    public static func makeID(for format: ToolCallFormat) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        let length = format == .mistral ? 9 : 24
        let random = String((0..<length).map { _ in alphabet.randomElement()! })
        return format == .mistral ? random : "call_" + random
    }
}

/// The result of a call, sent back to the model as a `tool` message.
public struct ToolResult: Sendable, Equatable {
    public let callID: String
    public let content: String

    public init(callID: String, content: String) {
        self.callID = callID
        self.content = content
    }

    public var message: ChatMessage {
        ChatMessage(role: "tool", content: .string(content), extra: JSONObject([("tool_call_id", .string(callID))]))
    }
}
