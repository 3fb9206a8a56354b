import Foundation
import Testing
@testable import InferKit

/// Grammars in GBNF: sentences they accept, strings they refuse, and prefixes that can
/// still be completed.
struct GrammarMatchTests {
    static func grammar(_ source: String) throws -> Grammar { try Grammar(gbnf: source) }

    static func expect(_ grammar: Grammar, accepts: [String], rejects: [String],
                       sourceLocation: SourceLocation = #_sourceLocation) {
        for text in accepts {
            #expect(grammar.matches(text), "should accept \(text.debugDescription)", sourceLocation: sourceLocation)
        }
        for text in rejects {
            #expect(!grammar.matches(text), "should reject \(text.debugDescription)", sourceLocation: sourceLocation)
        }
    }

    static let arithmetic = #"""
        root  ::= (expr "=" ws term "\n")+
        expr  ::= term ([-+*/] term)*
        term  ::= ident | num | "(" ws expr ")" ws
        ident ::= [a-z] [a-z0-9_]* ws
        num   ::= [0-9]+ ws
        ws    ::= [ \t\n]*
        """#

    @Test func arithmetic() throws {
        let g = try Self.grammar(Self.arithmetic)
        Self.expect(g, accepts: ["1+2=3\n", "x = (a*b) \n", "a_1 /(b -2)=c\n1=1\n", "(( x ))=y\n"],
                    rejects: ["", "1+=3\n", "=3\n", "1=2", "X=1\n", "1=2\n=", "(x=y\n", "1 + 2 = 3 \n4"])
        #expect(g.matchesPrefix("1+2=3"))
        #expect(g.matchesPrefix("(a"))
        #expect(!g.matchesPrefix("1+2=3+"))  // after "=" comes one term only
    }

    static let json = #"""
        root   ::= value
        value  ::= object | array | string | number | ("true" | "false" | "null") ws
        object ::= "{" ws ( string ":" ws value ("," ws string ":" ws value)* )? "}" ws
        array  ::= "[" ws ( value ("," ws value)* )? "]" ws
        string ::= "\"" ( [^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4}) )* "\"" ws
        number ::= "-"? ([0-9] | [1-9] [0-9]{0,15}) ("." [0-9]+)? ([eE] [-+]? [0-9]+)? ws
        ws     ::= | " " | "\n" [ \t]{0,20}
        """#

    @Test func json() throws {
        let g = try Self.grammar(Self.json)
        Self.expect(g, accepts: [
            #"{}"#, #"[]"#, #"{"a": 1}"#, #"{"a":[1, -2.5e3, true, null, "x"]}"#, "\"caf\u{E9} \u{1F600}\"",
            #"{"nested": {"deep": [[], [{}]]}}"#, #""\u00e9\n\"""#, "{\n  \"a\": 1}", "1234567890123456",
        ], rejects: [
            #"{"#, #"{"a"}"#, #"{"a": }"#, #"[1,]"#, #"[1 2]"#, #"tru"#, #""unterminated"#, "\"tab\there\"",
            #"01"#, #"{"a": 1,}"#, #"'single'"#, #""\x""#, "12345678901234567",
        ])
        #expect(g.matchesPrefix(#"{"a": [1, {"b": "#))
        #expect(!g.matchesPrefix(#"{"a" 1"#))
    }

    @Test func lists() throws {
        let g = try Self.grammar(#"""
            root ::= item+
            # an item is a line starting with a dash
            item ::= "- " [^\r\n\x0b\x0c\x85\u2028\u2029]+ "\n"
            """#)
        Self.expect(g, accepts: ["- one\n", "- one\n- two words\n- 3\n"],
                    rejects: ["", "- \n", "-one\n", "- one", "- one\n-two\n", "- a\u{2028}b\n"])
    }

    @Test func nestedRepetitions() throws {
        let g = try Self.grammar(#"""
            root ::= ( "(" ( [ab]{2,3} ","? )+ ")" ){1,2} "!"?
            """#)
        Self.expect(g, accepts: ["(ab)", "(aba,bb)", "(ab,)(bbb)!", "(aaa,bbb,ab)"],
                    rejects: ["()", "(a)", "(abab)x", "(ab)(ab)(ab)", "(a,b)", "(ab,,)", "!"])
        // Exact counts, open-ended counts, and zero.
        let counts = try Self.grammar(#"root ::= "x"{3} "y"{2,} "z"{0} "w"{0,1}"#)
        Self.expect(counts, accepts: ["xxxyy", "xxxyyyyw"], rejects: ["xxyy", "xxxy", "xxxyyz", "xxxyyww"])
    }

    @Test func utf8Ranges() throws {
        // Classes spanning 1-, 2-, 3- and 4-byte characters, and their complement.
        let g = try Self.grammar(#"root ::= [a-z\u00e0-\u00ff\u3041-\u309f\U0001F600-\U0001F64F]+"#)
        Self.expect(g, accepts: ["abc", "caf\u{E9}", "\u{3072}\u{3089}\u{304C}\u{306A}", "ok\u{1F600}\u{1F64F}"],
                    rejects: ["ABC", "\u{FF}\u{100}", "\u{30A2}", "\u{1F650}", "\u{1F5FF}", ""])
        let negated = try Self.grammar(#"root ::= [^a-z\u00e9]+"#)
        Self.expect(negated, accepts: ["ABC", "\u{E8}\u{EA}", "\u{10FFFF}", "\u{7F}\u{80}\u{7FF}\u{800}\u{FFFF}\u{10000}"],
                    rejects: ["a", "\u{E9}", "Xq"])
        let any = try Self.grammar(#"root ::= "<" .{3} ">""#)
        Self.expect(any, accepts: ["<abc>", "<\u{E9}\u{3042}\u{1F600}>", "<\n\t >"], rejects: ["<ab>", "<abcd>"])
        // Ranges ending on encoding boundaries.
        let edges = try Self.grammar(#"root ::= [\u007f-\u0080\u07ff-\u0800\uffff-\U00010000]"#)
        Self.expect(edges, accepts: ["\u{7F}", "\u{80}", "\u{7FF}", "\u{800}", "\u{FFFF}", "\u{10000}"],
                    rejects: ["\u{7E}", "\u{81}", "\u{7FE}", "\u{801}", "\u{FFFE}", "\u{10001}"])
    }

    @Test func prefixesEndInsideCharacters() throws {
        let g = try Self.grammar(#"root ::= "\u00e9t\u00e9" | "\U0001F600""#)
        let e = Array("\u{E9}".utf8), face = Array("\u{1F600}".utf8)
        let automaton = GrammarAutomaton(g.compiled)
        var state = automaton.step(automaton.start, [e[0]])
        #expect(state != GrammarAutomaton.dead)
        #expect(automaton.step(state, [0x41]) == GrammarAutomaton.dead)  // a lead byte wants a continuation
        state = automaton.step(automaton.start, face.prefix(3))
        #expect(state != GrammarAutomaton.dead && !automaton.isAccepting(state))
        #expect(automaton.isFinished(automaton.step(state, face.suffix(1))))
    }

    @Test func escapesAndComments() throws {
        let g = try Self.grammar(#"""
            # comments anywhere
            root ::= "\x41\u00e9\U0001F600\t\r\n\\\"" [\[\]\-] |  # trailing
                     ( "a" # inside a group
                       "b" )
            """#)
        Self.expect(g, accepts: ["A\u{E9}\u{1F600}\t\r\n\\\"[", "A\u{E9}\u{1F600}\t\r\n\\\"-", "ab"],
                    rejects: ["A\u{E9}\u{1F600}\t\r\n\\\"x", "a"])
        // A newline after `|` continues the rule; rules may be separated by blank lines and CRLF.
        let crlf = try Self.grammar("root ::= a |\r\n  b\r\n\r\na ::= \"1\"\r\nb ::= \"2\"\r\n")
        Self.expect(crlf, accepts: ["1", "2"], rejects: ["12", ""])
    }

    @Test func emptyAlternativesAndNullableRules() throws {
        let g = try Self.grammar(#"""
            root ::= opt opt "x" opt
            opt  ::= | "-"
            """#)
        Self.expect(g, accepts: ["x", "-x", "--x", "--x-", "x-"], rejects: ["---x", "x--", ""])
    }

    /// Bytes share a class exactly when no byte set of the grammar tells them apart, so one
    /// transition per class stands for all its bytes.
    @Test func byteClassesPartitionByEverySet() throws {
        let compiled = try Self.grammar(Self.json).compiled
        #expect(compiled.classBytes.flatMap { $0 }.sorted() == Array(0...255))
        for a in 0...255 {
            for b in 0...255 where a < b {
                let together = compiled.byteClass[a] == compiled.byteClass[b]
                let alike = compiled.byteSets.allSatisfy { $0.contains(UInt8(a)) == $0.contains(UInt8(b)) }
                if together != alike { Issue.record("bytes \(a) and \(b)") }
            }
        }
        #expect(compiled.classBytes.count > 10 && compiled.classBytes.count < 100)
    }

    @Test func completeSentencesEndTheMatch() throws {
        let g = try Self.grammar(#"root ::= "yes" | "no""#)
        let automaton = GrammarAutomaton(g.compiled)
        #expect(automaton.isFinished(automaton.step(automaton.start, "yes".utf8)))
        let open = GrammarAutomaton(try Self.grammar(#"root ::= "a"+"#).compiled)
        let after = open.step(open.start, "aa".utf8)
        #expect(open.isAccepting(after) && !open.isFinished(after))
    }

    /// Every grammar in llama.cpp's grammars/ folder parses, compiles and accepts an example.
    @Test(.enabled(if: LlamaCppSource.available, LlamaCppSource.missingMessage))
    func llamaCppGrammars() throws {
        let examples: [String: [String]] = [
            "arithmetic.gbnf": ["1+2=3\n"],
            "json.gbnf": [#"{"a": [1, 2.5, "x", null]}"#],
            "json_arr.gbnf": ["[\n{\"a\": 1},\n[]]"],
            "list.gbnf": ["- milk\n- eggs\n"],
            "chess.gbnf": ["1. e4 e5\n2. Nf3 Nc6\n"],
            "english.gbnf": ["Hello, world!"],
            "japanese.gbnf": ["\u{3053}\u{3093}\u{306B}\u{3061}\u{306F}"],
            "c.gbnf": ["int main(){return 0;}"],
        ]
        let folder = LlamaCppSource.root + "/grammars"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".gbnf") }
        #expect(files.count >= 8)
        for file in files {
            let source = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
            let grammar = try Grammar(gbnf: source)
            for example in examples[file] ?? [] {
                #expect(grammar.matches(example), "\(file) should accept \(example.debugDescription)")
            }
        }
    }
}
