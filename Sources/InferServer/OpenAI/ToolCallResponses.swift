import InferKit

/// A call in an assistant message, as OpenAI writes it.
struct ToolCallJSON: Encodable {
    struct Function: Encodable {
        let name: String
        let arguments: String
    }

    let id: String
    let type = "function"
    let function: Function

    init(_ call: ToolCall) {
        id = call.id
        function = Function(name: call.name, arguments: call.arguments)
    }
}

/// A piece of a call in a streamed chunk: the first carries its id and name, the next its
/// arguments (OpenAI's clients join the pieces by `index`).
struct ToolCallDelta: Encodable {
    struct Function: Encodable {
        var name: String?
        var arguments: String?
    }

    let index: Int
    var id: String?
    var type: String?
    let function: Function

    /// The two pieces of a whole call.
    static func pieces(of call: ToolCall, index: Int) -> [ToolCallDelta] {
        [ToolCallDelta(index: index, id: call.id, type: "function", function: Function(name: call.name, arguments: "")),
         ToolCallDelta(index: index, function: Function(arguments: call.arguments))]
    }
}
