/// How a model family writes tool calls, read from its chat template:
///
/// - `hermes` (Hermes, Qwen 2.5/3 and templates without tool support):
///   `<tool_call>\n{"name": "f", "arguments": {...}}\n</tool_call>`, one block per call;
/// - `llama3` (Llama 3.1–3.3): the whole answer is `{"name": "f", "parameters": {...}}`;
/// - `mistral`: `[TOOL_CALLS][{"name": "f", "arguments": {...}}, ...]` (the marker is a control
///   token, which is not part of the text).
public enum ToolCallFormat: String, Sendable, Equatable {
    case hermes, llama3, mistral

    /// The format a template writes calls in; nil when it shows tools in none of these
    /// formats (then infer describes the tools in the system message itself and asks for
    /// the hermes format).
    public static func detect(templateSource source: String) -> ToolCallFormat? {
        if source.contains("[TOOL_CALLS]") { return .mistral }
        if source.contains("<tool_call>") { return .hermes }
        if source.contains("<|start_header_id|>") && source.contains("\"parameters\"") { return .llama3 }
        return nil
    }

    /// The opening of a call in the text, where the format has one.
    var marker: String? {
        switch self {
        case .hermes: return "<tool_call>"
        case .llama3: return nil
        case .mistral: return "[TOOL_CALLS]"
        }
    }

    /// The member that holds the arguments.
    var argumentsKey: String { self == .llama3 ? "parameters" : "arguments" }
}
