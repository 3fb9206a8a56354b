import InferKit

/// `tools`, `tool_choice` and `parallel_tool_calls`, checked as OpenAI checks them.
struct ToolFields {
    let tools: [Tool]
    let choice: ToolChoice
    let parallel: Bool

    init(_ fields: RequestFields) throws(APIError) {
        var tools: [Tool] = []
        if let value = fields["tools"] {
            guard let items = value.array else { throw .invalidType("tools", expected: "an array of tools") }
            for (index, item) in items.enumerated() {
                do {
                    tools.append(try Tool(json: item, param: "tools[\(index)]"))
                } catch {
                    throw .invalidRequest("Invalid tool: \(error).", param: "tools[\(index)]", code: "invalid_value")
                }
            }
            var names: Set<String> = []
            for tool in tools where !names.insert(tool.name).inserted {
                throw .invalidValue("tools", "two tools are named \(tool.name.debugDescription)")
            }
        }
        self.tools = tools
        switch fields["tool_choice"] {
        case nil:
            choice = .auto
        case .string(let name)?:
            switch name {
            case "auto": choice = .auto
            case "none": choice = .none
            case "required": choice = .required
            default: throw .invalidValue("tool_choice", "\(name.debugDescription) is not one of 'none', 'auto', 'required' or a function")
            }
        case .object(let object)?:
            guard object["type"]?.string == "function", let name = object["function"]?["name"]?.string else {
                throw .invalidValue("tool_choice", #"a named choice is {"type": "function", "function": {"name": ...}}"#)
            }
            choice = .function(name)
        default:
            throw .invalidType("tool_choice", expected: "a string or an object")
        }
        if fields["tool_choice"] != nil && tools.isEmpty {
            throw .invalidValue("tool_choice", "it is only allowed when 'tools' are given")
        }
        if case .function(let name) = choice, !tools.contains(where: { $0.name == name }) {
            throw .invalidValue("tool_choice", "no tool is named \(name.debugDescription)")
        }
        parallel = try fields.bool("parallel_tool_calls") ?? true
    }

    /// Whether the model is shown the tools and its answer parsed for calls.
    var active: Bool { !tools.isEmpty && choice != .none }
}
