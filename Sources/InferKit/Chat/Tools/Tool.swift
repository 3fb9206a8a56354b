/// A function the model may call, as OpenAI's API describes one:
/// `{"type": "function", "function": {"name", "description", "parameters", "strict"}}`.
public struct Tool: Sendable, Equatable {
    public let name: String
    public let description: String?
    /// The JSON Schema of the arguments object (no parameters: an empty object).
    public let parameters: JSONValue

    public init(name: String, description: String? = nil, parameters: JSONValue? = nil) {
        self.name = name
        self.description = description
        self.parameters = parameters ?? ["type": "object", "properties": [:]]
    }

    /// A tool from its OpenAI JSON object.
    /// - Throws: `InferError.invalidArgument` naming the member at fault (`param` prefixes it).
    public init(json: JSONValue, param: String = "tool") throws {
        func invalid(_ member: String, _ problem: String) -> InferError {
            .invalidArgument("\(param)\(member): \(problem)")
        }
        guard let object = json.object else { throw invalid("", "must be an object") }
        guard object["type"]?.string == "function" else { throw invalid(".type", "must be \"function\"") }
        guard let function = object["function"]?.object else { throw invalid(".function", "must be an object") }
        guard let name = function["name"]?.string else { throw invalid(".function.name", "must be a string") }
        guard !name.isEmpty, name.count <= 64, name.unicodeScalars.allSatisfy({
            ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
        }) else {
            throw invalid(".function.name", "must be 1 to 64 letters, digits, underscores or dashes, not \(name.debugDescription)")
        }
        if let description = function["description"], description.string == nil, description != .null {
            throw invalid(".function.description", "must be a string")
        }
        if let parameters = function["parameters"], parameters.object == nil, parameters != .null {
            throw invalid(".function.parameters", "must be a JSON Schema object")
        }
        if let strict = function["strict"], strict.bool == nil, strict != .null {
            throw invalid(".function.strict", "must be a boolean")
        }
        self.init(name: name, description: function["description"]?.string,
                  parameters: function["parameters"].flatMap { $0 == .null ? nil : $0 })
    }

    /// The OpenAI JSON object, as chat templates expect the `tools` they are given.
    public var json: JSONValue {
        var function = JSONObject([("name", .string(name))])
        if let description { function["description"] = .string(description) }
        function["parameters"] = parameters
        return .object(JSONObject([("type", "function"), ("function", .object(function))]))
    }
}

/// Whether and how the model should call tools (OpenAI's `tool_choice`).
public enum ToolChoice: Sendable, Equatable {
    /// The model decides: text, or calls (parsed from what it writes).
    case auto
    /// No calls: the tools are not shown to the model.
    case none
    /// At least one call: the output is constrained to well-formed calls.
    case required
    /// A call of this function: the output is constrained to it.
    case function(String)
}
