/// A formal grammar the generated text must follow, in llama.cpp's GBNF syntax (see
/// `GBNFParser`). Set it as `GenerateParameters.grammar`: tokens that cannot continue the
/// grammar are never sampled, and generation ends when the text is a complete sentence that
/// nothing may follow.
///
/// ```swift
/// let yesNo = try Grammar(gbnf: #"root ::= ("yes" | "no") "\n""#)
/// let json = try Grammar(jsonSchema: try JSONValue(parsing: #"{"type": "object", "properties": {"name": {"type": "string"}}}"#))
/// var parameters = GenerateParameters(maxTokens: 64)
/// parameters.grammar = json
/// ```
public struct Grammar: Sendable, Equatable, CustomStringConvertible {
    /// The grammar's GBNF text (for a JSON Schema, the grammar made from it).
    public let source: String
    let compiled: ByteGrammar

    /// Parses and compiles a GBNF grammar; its start rule is `root`.
    /// - Throws: `GrammarError` naming the problem and, for syntax errors, where it is.
    public init(gbnf: String) throws(GrammarError) {
        source = gbnf
        compiled = try ByteGrammar(GBNFParser.parse(gbnf))
    }

    /// Whether `text` is a complete sentence of the grammar (matched by bytes, as generation
    /// matches tokens; token terminals match nothing here).
    public func matches(_ text: String) -> Bool {
        let (automaton, end) = follow(text)
        return end != GrammarAutomaton.dead && automaton.isAccepting(end)
    }

    /// Whether `text` can be continued into a sentence of the grammar (or is one).
    public func matchesPrefix(_ text: String) -> Bool {
        follow(text).state != GrammarAutomaton.dead
    }

    /// The state after `text`, each byte with the work budget of a generation step.
    private func follow(_ text: String) -> (automaton: GrammarAutomaton, state: Int32) {
        let automaton = GrammarAutomaton(compiled)
        var state = automaton.start
        for byte in text.utf8 where state != GrammarAutomaton.dead {
            automaton.beginStep()
            state = automaton.step(state, byte)
        }
        return (automaton, state)
    }

    public var description: String { source }

    public static func == (a: Grammar, b: Grammar) -> Bool { a.source == b.source }
}
