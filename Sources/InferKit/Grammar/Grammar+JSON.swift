extension Grammar {
    /// The grammar of the JSON documents `schema` accepts (see `JSONSchemaConverter` for
    /// what is supported). `source` is the GBNF made from it.
    /// - Throws: `GrammarError` naming a keyword (and where it is) that cannot be honoured.
    public init(jsonSchema schema: JSONValue) throws(GrammarError) {
        let gbnf = try JSONSchemaConverter.grammar(for: schema)
        do {
            try self.init(gbnf: gbnf)
        } catch {
            throw JSONSchemaConverter.compileError(error)
        }
    }

    /// Any JSON object (OpenAI's `json_object` response format, `infer generate --json`).
    public static let jsonObject: Grammar = try! Grammar(gbnf: JSONGrammarRules.grammar(root: "object"))

    /// Any JSON value.
    public static let jsonValue: Grammar = try! Grammar(gbnf: JSONGrammarRules.grammar(root: "value"))
}
