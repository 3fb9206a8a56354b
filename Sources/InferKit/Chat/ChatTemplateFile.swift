import Foundation

/// The chat template a model file carries and the special tokens it prints, read from a
/// GGUF (`tokenizer.chat_template` and the BOS/EOS token pieces), a Hugging Face
/// `tokenizer_config.json` (`chat_template`, `bos_token`, `eos_token`) or a plain `.jinja` file.
public struct ChatTemplateFile: Sendable, Equatable {
    /// The default template source; nil for a file without one (typically a base model).
    public var template: String?
    /// Other templates by name (`tool_use`, `rag`...), from the list form of
    /// `chat_template` or GGUF keys `tokenizer.chat_template.NAME`.
    public var namedTemplates: [String: String]
    /// The text of the BOS and EOS tokens, which templates print as `bos_token`/`eos_token`.
    public var bosToken: String?
    public var eosToken: String?

    public init(template: String?, namedTemplates: [String: String] = [:], bosToken: String? = nil, eosToken: String? = nil) {
        self.template = template
        self.namedTemplates = namedTemplates
        self.bosToken = bosToken
        self.eosToken = eosToken
    }

    /// Reads `path`, recognizing its kind by content: a GGUF by its magic, JSON by its
    /// extension or opening `{"`, anything else as Jinja source.
    public static func load(path: String) throws -> ChatTemplateFile {
        let file = try MappedFile(path: path)
        if file.bytes(at: 0, count: 4).map({ $0.loadUnaligned(as: UInt32.self) }) == GGUFFile.magic {
            return ChatTemplateFile(gguf: try GGUFFile(file: file))
        }
        let data = Data(UnsafeRawBufferPointer(start: file.base, count: file.size))
        guard let text = String(data: data, encoding: .utf8) else {
            throw InferError.invalidFile(path: path, problem: "not UTF-8 text, not GGUF")
        }
        // A JSON object opens with `{"` (Jinja with `{{`, `{%` or `{#`).
        let start = text.drop(while: \.isWhitespace)
        if path.hasSuffix(".json") || (start.first == "{" && start.dropFirst().drop(while: \.isWhitespace).first == "\"") {
            let json: JSONValue
            do {
                json = try JSONValue(parsing: text)
            } catch let error as JSONError {
                throw InferError.invalidFile(path: path, problem: "invalid JSON: \(error)")
            }
            return try ChatTemplateFile(tokenizerConfig: json, path: path)
        }
        return ChatTemplateFile(template: text)
    }

    /// From a `tokenizer_config.json`. `chat_template` is a string or a list of
    /// `{"name", "template"}` (the one named "default" is the default); a special token is a
    /// string or an added-token object `{"content": ...}`.
    public init(tokenizerConfig json: JSONValue, path: String = "tokenizer_config.json") throws {
        guard let config = json.object else {
            throw InferError.invalidFile(path: path, problem: "a tokenizer config must be a JSON object")
        }
        var template: String?
        var named: [String: String] = [:]
        switch config["chat_template"] {
        case .string(let source)?:
            template = source
        case .array(let entries)?:
            for entry in entries {
                guard let name = entry["name"]?.string, let source = entry["template"]?.string else {
                    throw InferError.invalidFile(path: path, problem: "chat_template list entries need a \"name\" and a \"template\"")
                }
                if name == "default" { template = source } else { named[name] = source }
            }
        case nil, .null?:
            break
        default:
            throw InferError.invalidFile(path: path, problem: "chat_template must be a string or a list of {name, template}")
        }
        func token(_ key: String) -> String? {
            switch config[key] {
            case .string(let s)?: return s
            case .object(let o)?: return o["content"]?.string
            default: return nil
            }
        }
        self.init(template: template, namedTemplates: named, bosToken: token("bos_token"), eosToken: token("eos_token"))
    }

    /// From GGUF metadata: the template keys and the pieces of the BOS/EOS token ids.
    public init(gguf: GGUFFile) {
        var named: [String: String] = [:]
        let prefix = "tokenizer.chat_template."
        for key in gguf.metadataKeys where key.hasPrefix(prefix) {
            if let source = gguf.string(key) { named[String(key.dropFirst(prefix.count))] = source }
        }
        let tokens = gguf.array("tokenizer.ggml.tokens")
        func piece(_ key: String) -> String? {
            guard let id = gguf.int("tokenizer.ggml.\(key)"), let tokens, tokens.indices.contains(id) else { return nil }
            return tokens[id].string
        }
        self.init(template: gguf.string("tokenizer.chat_template"), namedTemplates: named,
                  bosToken: piece("bos_token_id"), eosToken: piece("eos_token_id"))
    }
}
