/// One message of a conversation, as a chat template sees it: an OpenAI-style object with a
/// `role`, a `content` (a string, a list of content parts, or null for an assistant message
/// that only calls tools) and any other members the template may read (`tool_calls`,
/// `tool_call_id`, `name`, `reasoning_content`...), kept in their order.
///
/// ```swift
/// let call = ChatMessage(role: "assistant", content: nil, extra: JSONObject([
///     ("tool_calls", [["type": "function", "id": "call_1",
///                      "function": ["name": "get_weather", "arguments": ["city": "Paris"]]]]),
/// ]))
/// ```
public struct ChatMessage: Sendable, Equatable {
    /// Every member, `role` and `content` included, as the template sees them.
    public let fields: JSONObject

    /// A message with text content.
    public init(role: String, content: String) {
        fields = JSONObject([("role", .string(role)), ("content", .string(content))])
    }

    /// A message with any content (nil is JSON null) and further members.
    public init(role: String, content: JSONValue?, extra: JSONObject = JSONObject()) {
        var fields = JSONObject([("role", .string(role)), ("content", content ?? .null)])
        for (key, value) in extra where key != "role" && key != "content" { fields[key] = value }
        self.fields = fields
    }

    /// A message from its JSON object, which must have a string `role`.
    public init(json: JSONValue) throws {
        guard let object = json.object else {
            throw InferError.invalidArgument("a chat message must be a JSON object with a \"role\"")
        }
        guard object["role"]?.string != nil else {
            throw InferError.invalidArgument("a chat message needs a string \"role\"")
        }
        fields = object
    }

    /// A system message with text content.
    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: "system", content: content) }
    /// A user message with text content.
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: "user", content: content) }
    /// An assistant message with text content.
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: "assistant", content: content) }

    /// `system`, `user`, `assistant`, `tool`... (templates decide which they accept).
    public var role: String { fields["role"]?.string ?? "" }

    /// The content; nil when the message has none.
    public var content: JSONValue? { fields["content"] }

    /// Member `key`; nil when absent.
    public subscript(key: String) -> JSONValue? { fields[key] }
}
