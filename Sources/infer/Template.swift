import ArgumentParser
import Foundation
import InferKit

struct Template: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the prompt a chat template makes of a conversation, exactly as the model receives it.",
        discussion: """
            FILE is a GGUF model (its tokenizer.chat_template and BOS/EOS tokens), a Hugging Face \
            tokenizer_config.json (its chat_template, bos_token, eos_token), or a Jinja template file. \
            A file without a template gets the built-in 'plain' transcript. Nothing is added to the \
            output: not even a final newline.
            """)

    @Argument(help: "A GGUF model, a tokenizer_config.json, or a .jinja template.")
    var file: String

    @Option(help: ArgumentHelp(
        "OpenAI-style messages: a JSON array of {\"role\", \"content\", ...} objects, or an object with \"messages\" and \"tools\"; '-' reads standard input.",
        discussion: "Default: a two-turn conversation.", valueName: "file"))
    var messages: String?

    @Flag(help: "End after the last message, without the header that opens the assistant's reply.")
    var noGenerationPrompt = false

    @Option(help: ArgumentHelp("BOS token text (default: the file's).", valueName: "text"))
    var bosToken: String?

    @Option(help: ArgumentHelp("EOS token text (default: the file's).", valueName: "text"))
    var eosToken: String?

    @Option(help: ArgumentHelp(
        "Use another template: one the file names (e.g. tool_use) or a built-in: \(ChatTemplate.builtinNames.joined(separator: ", ")).",
        valueName: "name"))
    var chatTemplate: String?

    /// Used when no --messages is given.
    static let defaultConversation: [ChatMessage] = [
        .user("Hello!"),
        .assistant("Hello! How can I help you today?"),
        .user("What is the capital of France?"),
    ]

    func run() throws {
        try Terminal.reportingErrors {
            let templateFile = try ChatTemplateFile.load(path: file)
            let (conversation, tools) = try messages.map(Self.loadConversation) ?? (Self.defaultConversation, nil)
            let template = try selectTemplate(templateFile, tools: tools)
            let prompt = try template.render(
                messages: conversation, addGenerationPrompt: !noGenerationPrompt,
                bosToken: bosToken ?? templateFile.bosToken ?? "", eosToken: eosToken ?? templateFile.eosToken ?? "",
                tools: tools)
            Terminal.write(prompt)
        }
    }

    /// --chat-template if given (a named template of the file, else a built-in); otherwise
    /// the file's `tool_use` template when there are tools (as transformers chooses), its
    /// default template, or for a file without one the plain transcript.
    private func selectTemplate(_ templateFile: ChatTemplateFile, tools: [JSONValue]?) throws -> ChatTemplate {
        if let name = chatTemplate {
            if let source = templateFile.namedTemplates[name] ?? (name == "default" ? templateFile.template : nil) {
                return try ChatTemplate(source: source)
            }
            guard ChatTemplate.builtinNames.contains(name) else {
                let named = templateFile.namedTemplates.keys.sorted()
                let own = named.isEmpty ? "" : "; \(file) has: \(named.joined(separator: ", "))"
                throw InferError.invalidArgument("unknown chat template '\(name)' (built-in: \(ChatTemplate.builtinNames.joined(separator: ", "))\(own))")
            }
            return try ChatTemplate.builtin(named: name)
        }
        if tools != nil, let source = templateFile.namedTemplates["tool_use"] { return try ChatTemplate(source: source) }
        if let source = templateFile.template { return try ChatTemplate(source: source) }
        Terminal.note("note: \(file) has no chat template; using the built-in 'plain' transcript (choose one with --chat-template)")
        return try ChatTemplate.builtin(named: "plain")
    }

    /// Messages (and tools) from a JSON file or standard input.
    private static func loadConversation(_ path: String) throws -> ([ChatMessage], [JSONValue]?) {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            let file = try MappedFile(path: path)
            data = Data(UnsafeRawBufferPointer(start: file.base, count: file.size))
        }
        let source = path == "-" ? "standard input" : path
        guard let text = String(data: data, encoding: .utf8) else {
            throw InferError.invalidFile(path: source, problem: "messages are not UTF-8 text")
        }
        let json: JSONValue
        do {
            json = try JSONValue(parsing: text)
        } catch let error as JSONError {
            throw InferError.invalidFile(path: source, problem: "messages are not valid JSON: \(error)")
        }
        var tools: [JSONValue]?
        let items: [JSONValue]
        switch json {
        case .array(let array):
            items = array
        case .object(let object):
            guard let array = object["messages"]?.array else {
                throw InferError.invalidFile(path: source, problem: "the object has no \"messages\" array")
            }
            items = array
            switch object["tools"] {
            case .array(let list)?: tools = list
            case nil, .null?: break
            default: throw InferError.invalidFile(path: source, problem: "\"tools\" must be an array")
            }
        default:
            throw InferError.invalidFile(path: source, problem: "expected an array of messages or an object with \"messages\"")
        }
        let conversation = try items.enumerated().map { index, item in
            do {
                return try ChatMessage(json: item)
            } catch InferError.invalidArgument(let problem) {
                throw InferError.invalidFile(path: source, problem: "message \(index + 1): \(problem)")
            }
        }
        return (conversation, tools)
    }
}
