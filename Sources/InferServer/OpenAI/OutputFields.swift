import InferKit

/// What shapes the text beyond sampling: `response_format` (OpenAI: `text`, `json_object`,
/// `json_schema` with its `schema`), llama.cpp's `grammar` (GBNF) and `json_schema`, and
/// `logprobs`. A grammar or schema that cannot be honoured is a 400 naming the problem.
struct OutputFields {
    /// The grammar the answer must follow, nil for free text.
    let grammar: Grammar?
    /// Alternatives to report per token (nil: no logprobs).
    let logprobs: Int?

    /// - Parameter chat: chat's `logprobs` is a boolean with `top_logprobs` beside it;
    ///   completions' is the count of alternatives (at most 5, as OpenAI allows).
    init(_ fields: RequestFields, chat: Bool) throws(APIError) {
        var grammars: [(param: String, grammar: Grammar)] = []
        if let format = try fields.object("response_format") {
            if let grammar = try Self.responseFormat(format) { grammars.append(("response_format", grammar)) }
        }
        if let source = try fields.string("grammar") {
            do {
                grammars.append(("grammar", try Grammar(gbnf: source)))
            } catch {
                throw .invalidValue("grammar", "the grammar is not valid: \(error)")
            }
        }
        if let schema = fields["json_schema"] {
            grammars.append(("json_schema", try Self.schemaGrammar(schema, param: "json_schema")))
        }
        guard grammars.count <= 1 else {
            throw .invalidRequest("Only one of \(grammars.map { "'\($0.param)'" }.joined(separator: " and ")) can constrain the answer.",
                                  param: grammars[1].param, code: "invalid_value")
        }
        grammar = grammars.first?.grammar

        if chat {
            let wanted = try fields.bool("logprobs") ?? false
            let top = try fields.integer("top_logprobs", minimum: 0)
            if let top, top > GenerateParameters.maxLogprobs {
                throw .invalidValue("top_logprobs", "\(top) is more than \(GenerateParameters.maxLogprobs)")
            }
            if top != nil && !wanted { throw .invalidValue("top_logprobs", "it needs 'logprobs': true") }
            logprobs = wanted ? top ?? 0 : nil
        } else {
            let top = try fields.integer("logprobs", minimum: 0)
            if let top, top > 5 { throw .invalidValue("logprobs", "\(top) is more than 5") }
            logprobs = top
        }
    }

    private static func responseFormat(_ format: JSONObject) throws(APIError) -> Grammar? {
        guard let type = format["type"]?.string else { throw .invalidType("response_format.type", expected: "a string") }
        switch type {
        case "text":
            return nil
        case "json_object":
            // llama.cpp's clients put a schema here too.
            if let schema = format["schema"], schema != .null { return try schemaGrammar(schema, param: "response_format.schema") }
            return Grammar.jsonObject
        case "json_schema":
            guard let spec = format["json_schema"]?.object else { throw .invalidType("response_format.json_schema", expected: "an object") }
            if let strict = spec["strict"], strict != .null, strict.bool == nil {
                throw .invalidType("response_format.json_schema.strict", expected: "a boolean")
            }
            if let name = spec["name"], name != .null, name.string == nil {
                throw .invalidType("response_format.json_schema.name", expected: "a string")
            }
            guard let schema = spec["schema"], schema != .null else { return Grammar.jsonObject }
            return try schemaGrammar(schema, param: "response_format.json_schema.schema")
        default:
            throw .invalidValue("response_format.type", "\(type.debugDescription) is not one of 'text', 'json_object', 'json_schema'")
        }
    }

    static func schemaGrammar(_ schema: JSONValue, param: String) throws(APIError) -> Grammar {
        do {
            return try Grammar(jsonSchema: schema)
        } catch {
            throw .invalidRequest("Invalid '\(param)': \(error.message).", param: param, code: "invalid_value")
        }
    }
}
