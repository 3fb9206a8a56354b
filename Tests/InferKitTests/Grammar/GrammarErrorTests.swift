import Testing
@testable import InferKit

/// Grammars that cannot be used are refused with the problem and where it is.
struct GrammarErrorTests {
    static func error(_ source: String) -> GrammarError? {
        do {
            _ = try Grammar(gbnf: source)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        ("root ::= \"abc", "unterminated string", 1, 14),
        ("root ::= [a-z", "unterminated character class", 1, 14),
        ("root ::= (\"a\" | \"b\"", "expected ')'", 1, 20),
        ("root := \"a\"", "expected '::='", 1, 6),
        ("root ::= \"a\"\nitem ::= \"\\q\"", "unknown escape '\\q'", 2, 11),
        ("root ::= \"\\u12\"", "expected 4 hex digits", 1, 11),
        ("root ::= * \"a\"", "nothing before it to repeat", 1, 11),
        ("root ::= \"a\"{3,1}", "maximum is below the minimum", 1, 13),
        ("root ::= \"a\"{x}", "expected a number", 1, 14),
        ("root ::= \"a\"{2001}", "above 2000", 1, 14),
        ("root ::= [z-a]", "range ends before it starts", 1, 14),
        ("root ::= \"a\" )", "expected a newline or the end of the rule", 1, 14),
        ("root ::= \"a\"\nroot ::= \"b\"", "rule 'root' is defined twice", 2, 1),
        ("\u{E9}t\u{E9} ::= \"a\"", "expected a rule name", 1, 1),
        ("root ::= <[12", "expected ']>'", 1, 14),
    ] as [(String, String, Int, Int)])
    func syntaxErrors(source: String, message: String, line: Int, column: Int) throws {
        let error = try #require(Self.error(source), "\(source.debugDescription) should be refused")
        #expect(error.message.contains(message), "\(error)")
        #expect(error.line == line && error.column == column, "\(error)")
    }

    @Test func semanticErrors() throws {
        #expect(Self.error("item ::= \"a\"")?.message == "the grammar has no 'root' rule")
        #expect(Self.error("")?.message.contains("empty") == true)
        #expect(Self.error("root ::= item")?.message.contains("refers to 'item', which is not defined") == true)
        #expect(Self.error("root ::= root \"a\" | \"b\"")?.message.contains("'root' is left-recursive") == true)
        // Through another rule, and through a nullable prefix.
        #expect(Self.error("root ::= a\na ::= b \"x\"\nb ::= a | \"y\"")?.message.contains("left-recursive") == true)
        #expect(Self.error("root ::= e root \"x\" | \"y\"\ne ::= | \" \"")?.message.contains("left-recursive") == true)
        // A repeated nullable item loops without consuming anything.
        #expect(Self.error("root ::= (\"a\"?)*")?.message.contains("left-recursive") == true)
        // Right recursion is fine.
        #expect(Self.error("root ::= \"a\" root | \"b\"") == nil)
    }

    /// Each "a" doubles the parses of this grammar (the "b" or "c" it awaits): past the limit
    /// the text is refused and the matcher says why, instead of slowing without bound.
    @Test func ambiguityIsBounded() throws {
        let grammar = try Grammar(gbnf: "root ::= x\nx ::= \"a\" x \"b\" | \"a\" x \"c\" | \"\"")
        #expect(grammar.matches("aaabcb"))
        let tokenizer = ListTokenizer(texts: ["a", "b", "c", nil], eos: 3)
        let matcher = try GrammarMatcher(grammar: grammar, trie: TokenTrie(tokenizer: tokenizer, endOfGeneration: [3]), tokenizer: tokenizer)
        var accepted = 0
        while accepted < 30 && matcher.accept(0) { accepted += 1 }
        // After k a's, 2^k ways to close and each awaiting "a", "b" or "c": 3 · 2^k parses,
        // 3,072 after 10, past the limit (4,096 and the grammar's symbols) at the 11th.
        #expect(accepted == 10)
        #expect(matcher.failure?.message.contains("too ambiguous") == true)
        #expect(!grammar.matches(String(repeating: "a", count: 20) + String(repeating: "b", count: 20)))
    }

    @Test func errorsDescribeThemselves() {
        #expect(GrammarError("bad", line: 3, column: 7).description == "bad at line 3, column 7")
        #expect(GrammarError("bad").description == "bad")
    }
}
