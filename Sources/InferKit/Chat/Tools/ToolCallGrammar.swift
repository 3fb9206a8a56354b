/// The grammar of well-formed calls, for `tool_choice` "required" or a named function: the
/// model's own call syntax (see `ToolCallFormat`), a function name among the tools, and
/// arguments that follow that function's parameter schema.
enum ToolCallGrammar {
    /// - Parameters:
    ///   - parallel: several calls may follow each other (where the format allows it).
    ///   - tokenizer: Mistral's `[TOOL_CALLS]` is a control token, matched as a token.
    /// - Throws: `GrammarError` when a tool's parameters cannot be made into a grammar
    ///   (the message names the tool).
    static func grammar(tools: [Tool], choice: ToolChoice, format: ToolCallFormat, parallel: Bool,
                        tokenizer: any Tokenizer) throws(GrammarError) -> Grammar {
        var chosen = tools
        if case .function(let name) = choice { chosen = tools.filter { $0.name == name } }
        guard !chosen.isEmpty else { throw GrammarError("no tool to call") }
        var schemas: [(name: String, schema: JSONValue)] = []
        for tool in chosen { schemas.append(("\(tool.name)-arguments", tool.parameters)) }
        let converted: (names: [String], text: String)
        do {
            converted = try JSONSchemaConverter.rules(for: schemas)
        } catch {
            throw GrammarError("the parameters of a tool cannot be followed: \(error.message)")
        }
        var rules = converted.text
        let key = format.argumentsKey
        let calls = zip(chosen, converted.names).map { tool, arguments in
            #""{" space "\"name\"" " "? ":" space "#
                + GBNFText.literal(JSONValue.string(tool.name).jsonText)
                + #" space "," space "\"\#(key)\"" " "? ":" space \#(arguments) space "}""#
        }
        rules += "call ::= " + calls.map { "( \($0) )" }.joined(separator: " | ") + "\n"
        if !rules.contains("\nspace ::=") && !rules.hasPrefix("space ::=") { rules += "space ::= \(JSONGrammarRules.bodies["space"]!)\n" }
        switch format {
        case .hermes:
            let block = #""<tool_call>\n" call "\n</tool_call>""#
            rules += "root ::= \(block)" + (parallel ? #" ( "\n" \#(block) )*"# : "") + "\n"
        case .llama3:
            rules += "root ::= call\n"
        case .mistral:
            let ids = tokenizer.encode("[TOOL_CALLS]", options: EncodeOptions(addBOS: false, addEOS: false, parseSpecial: true))
            let marker = ids.count == 1 ? "<[\(ids[0])]>" : #""[TOOL_CALLS]""#
            rules += "root ::= \(marker) \"[\" space call" + (parallel ? #" ( "," space call )*"# : "") + " space \"]\"\n"
        }
        do {
            return try Grammar(gbnf: rules)
        } catch {
            throw GrammarError("the parameters of a tool cannot be followed: \(JSONSchemaConverter.compileError(error).message)")
        }
    }
}

extension Grammar {
    /// The grammar of well-formed calls of `tools` for `choice` (`.required` or a function),
    /// in the model's `format` (see `ToolCallGrammar`).
    public static func toolCalls(_ tools: [Tool], choice: ToolChoice, format: ToolCallFormat, parallel: Bool,
                                 tokenizer: any Tokenizer) throws(GrammarError) -> Grammar {
        try ToolCallGrammar.grammar(tools: tools, choice: choice, format: format, parallel: parallel, tokenizer: tokenizer)
    }
}
