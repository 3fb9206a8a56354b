import Foundation
import Testing
@testable import InferKit

/// Grammars and JSON Schemas that crashed infer (the stack exhausted by nesting), ran it out of
/// memory (repetitions expanded to billions of symbols) or hung it (costs that grew with the
/// square of the input), kept in Tests/Fuzz/Regressions/fuzz-grammar and fuzz-json-schema. A
/// request's `grammar` or schema can be as large as its body (8 MiB by default), so each is read
/// here as the server reads it: it must compile, or fail with a clear error, quickly.
extension FuzzRegressionTests {
    /// The input as the harnesses read it (bytes that are not UTF-8 replaced).
    static func text(_ input: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: input)), as: UTF8.self)
    }

    /// What each committed grammar must give: nil compiles, else a part of the error's message.
    static let grammarOutcomes: [String: String?] = [
        "groups-nested-10000-deep.gbnf": "groups nest more than 256 deep",
        "repetitions-stacked-10000-deep.gbnf": "groups and repetitions nest more than 256 deep",
        "repetitions-expand-to-10-million-symbols.gbnf": "the grammar is too large",
        "nullable-chain-of-3000-rules.gbnf": nil,
        "ambiguous-repetitions-1.gbnf": nil,
        "ambiguous-repetitions-2.gbnf": nil,
        "ambiguous-repetitions-3.gbnf": nil,
        "ambiguous-repetitions-4.gbnf": nil,
        "token-terminal-before-an-empty-class.gbnf": nil,
        "repetitions-stacked-200-deep-in-one-closure.gbnf": nil,
    ]

    @Test func committedGrammarsCompileOrFailClearlyAndQuickly() throws {
        let inputs = Self.inputs("fuzz-grammar")
        #expect(inputs.count == Self.grammarOutcomes.count)
        for input in inputs {
            let name = URL(fileURLWithPath: input).lastPathComponent
            guard let expected = Self.grammarOutcomes[name] else {
                Issue.record("\(name) has no expected outcome here")
                continue
            }
            let source = try Self.text(input)
            Self.quickly(input) {
                do throws(GrammarError) {
                    let grammar = try Grammar(gbnf: source)
                    #expect(expected == nil, "\(name) compiled; expected an error with \(expected ?? "")")
                    #expect(grammar.matches("") == name.hasPrefix("nullable"), "\(name)")
                } catch {
                    #expect(expected.map { error.message.contains($0) } ?? false, "\(name): \(error.message)")
                }
            }
        }
    }

    /// The default model's vocabulary, as the fuzz-grammar harness follows grammars over it.
    static let defaultModel = Result { try Model(path: TestPaths.repository.appendingPathComponent("Models/horatio-q8_0.gguf").path) }

    @Test func ambiguousRepetitionsAreFollowedOrRefusedQuickly() throws {
        // The finding: `x* x* x*` over a long run of letters has a parse per way of cutting
        // the run in three, each state thousands of parses (under the limit on parses), and a
        // mask met a new state at each node of the vocabulary's trie: 2 to 7 s per token.
        // Now a token's work is bounded, and past it the matcher fails with an error.
        let model = try Self.defaultModel.get()
        let inputs = Self.inputs("fuzz-grammar").filter { $0.contains("ambiguous-repetitions") }
        #expect(inputs.count == 4)
        let hand = #"root ::= x* x* x* x* "!"\#nx ::= [a-z] | [a-z] [a-z] | "ab""#
        for (name, source) in try inputs.map({ ($0, try Self.text($0)) }) + [("four repetitions", hand)] {
            let matcher = try GrammarMatcher(grammar: try Grammar(gbnf: source), model: model)
            var failed = false
            for step in 0..<24 {
                let allowed = Self.quickly("\(name), token \(step)") { matcher.allowedTokens() }
                if let failure = matcher.failure {
                    #expect(failure.message.contains("too ambiguous"))
                    failed = true
                    break
                }
                // The longest allowed token of letters: the run of letters that multiplies the parses.
                let letters = allowed.ids.filter { id in
                    let bytes = matcher.trie.bytes(of: id)
                    return !bytes.isEmpty && bytes.allSatisfy { (0x61...0x7A).contains($0) }
                }
                guard let token = letters.max(by: { matcher.trie.bytes(of: $0).count < matcher.trie.bytes(of: $1).count }) else { break }
                #expect(Self.quickly("\(name), accepting token \(step)") { matcher.accept(token) } || matcher.failure != nil)
            }
            // The fuzzer's inputs nest repetitions through recursion, and most reach a bound
            // within 24 tokens; plain ambiguity (`x* x* x* x*`) keeps few parses and is followed.
            if name == "four repetitions" { #expect(!failed) }
        }
    }

    /// The tokens of the default model's vocabulary whose bytes are these, one after another.
    static func tokens(_ pieces: [[UInt8]], in matcher: GrammarMatcher) throws -> [Int] {
        try pieces.map { piece in
            try #require((0..<matcher.trie.vocabularySize).first { Array(matcher.trie.bytes(of: $0)) == piece })
        }
    }

    @Test func repetitionsStackedHundredsDeepAreBoundedWithinOneClosure() throws {
        // The finding: `[0-9]++++…` (200 `+`, under the nesting limit) returns through every
        // level after each digit; one closure did ten times a step's budget before the budget
        // was looked at, and a mask took 1.3 s in the harness. A closure now stops at the budget.
        let model = try Self.defaultModel.get()
        let input = try #require(Self.inputs("fuzz-grammar").first { $0.contains("repetitions-stacked-200-deep") })
        let matcher = try GrammarMatcher(grammar: try Grammar(gbnf: try Self.text(input)), model: model)
        for token in try Self.tokens([[0x30], [0x1C]], in: matcher) {
            #expect(matcher.allowedTokens().contains(token))
            #expect(matcher.accept(token))
        }
        _ = Self.quickly("the mask after two characters") { matcher.allowedTokens() }
        #expect(matcher.failure?.message.contains("too ambiguous") == true)
        // Byte by byte, no step passes the budget by more than the unit that found it passed.
        let automaton = GrammarAutomaton(try Grammar(gbnf: try Self.text(input)).compiled)
        let state = automaton.step(automaton.start, [0x30, 0x1C])
        for byte in UInt8.min...UInt8.max {
            automaton.beginStep()
            _ = automaton.step(state, byte)
            #expect(automaton.workDone <= automaton.workLimit + 1, "byte \(byte): \(automaton.workDone) units")
        }
    }

    @Test func aTokenTerminalBeforeAnEmptyClassIsNotAllowed() throws {
        // The finding: `<unk> []` (a class of nothing after a token terminal): the mask allowed
        // `<unk>` and `accept` refused it. Along the harness's path, the mask and `accept` agree.
        let model = try Self.defaultModel.get()
        let input = try #require(Self.inputs("fuzz-grammar").first { $0.contains("token-terminal-before-an-empty-class") })
        let matcher = try GrammarMatcher(grammar: try Grammar(gbnf: try Self.text(input)), model: model)
        for token in try Self.tokens([Array("est".utf8), Array("ign".utf8), [0x00]], in: matcher) {
            #expect(matcher.allowedTokens().contains(token))
            #expect(matcher.accept(token))
        }
        // The text ends inside `[\0…]`: `<unk>` would come next, and then nothing can.
        #expect(!matcher.allowedTokens().contains(0))
        #expect(!matcher.accept(0))
        #expect(matcher.failure == nil)
    }

    @Test func nestingUpToTheLimitCompilesAndBeyondIsRefused() throws {
        let limit = GBNFParser.maxNesting
        let deepest = try Grammar(gbnf: "root ::= " + String(repeating: "(", count: limit) + #""a""#
                                  + String(repeating: ")", count: limit))
        #expect(deepest.matches("a"))
        #expect(!deepest.matches("aa"))
        for source in [
            "root ::= " + String(repeating: "(", count: limit + 1) + #""a""# + String(repeating: ")", count: limit + 1),
            "root ::= " + String(repeating: "(", count: 100_000),  // no closing: refused at the limit, not at the end
            #"root ::= "a""# + String(repeating: "?", count: limit + 1),
            #"root ::= ("a"{2}"# + String(repeating: "{2}", count: limit) + ")",
            "root ::= x\nx ::= " + String(repeating: "(", count: limit / 2) + #""b""# + String(repeating: ")", count: limit / 2)
                + String(repeating: "+", count: limit + 1),
        ] {
            let error = Self.quickly(String(source.prefix(40))) { #expect(throws: GrammarError.self) { try Grammar(gbnf: source) } }
            #expect(error?.message.contains("nest more than \(limit) deep") == true, "\(String(describing: error))")
            #expect(error?.line == 1 || error?.line == 2)
        }
    }

    @Test func repetitionsAreCountedBeforeTheyAreMade() throws {
        // 2000 copies, 501 times over: a million symbols and a little more.
        let copies = try Self.quickly("copies") {
            try #require(throws: GrammarError.self) { try Grammar(gbnf: "root ::=" + String(repeating: #" "a"{2000}"#, count: 501)) }
        }
        #expect(copies.message.contains("more than \(ByteGrammar.maxSymbols) symbols"))
        let optional = try #require(throws: GrammarError.self) {
            try Grammar(gbnf: "root ::=" + String(repeating: #" [a-z]{0,2000}"#, count: 400))
        }
        #expect(optional.message.contains("the grammar is too large"))
        // Within the budget: as many copies as a JSON Schema's longest bounded string makes.
        let long = try Grammar(gbnf: #"root ::= "\"" [a-z]{0,2000} [a-z]{0,2000} "\"""#)
        #expect(long.matches("\"" + String(repeating: "z", count: 3999) + "\""))
        #expect(!long.matches("\"" + String(repeating: "z", count: 4001) + "\""))
    }

    @Test func longChainsOfRulesCompileInLinearTime() throws {
        // Each rule is nullable only once the next one is known to be: a pass over all the rules
        // per link made 20,000 rules cost 400 million steps; so did finding each rule's line.
        let count = 20_000
        let chain = "root ::= r0\n" + (0..<count).map { "r\($0) ::= r\($0 + 1)\n" }.joined() + "r\(count) ::= \"\"\n"
        let grammar = try Self.quickly("chain") { try Grammar(gbnf: chain) }
        #expect(grammar.matches(""))
        #expect(!grammar.matches("x"))
        let error = Self.quickly("chain with an error") {
            #expect(throws: GrammarError.self) { try Grammar(gbnf: chain + "r0 ::= \"x\"\n") }
        }
        #expect(error?.message == "rule 'r0' is defined twice")
        #expect(error?.line == count + 3)
    }

    /// What each committed schema must give: nil converts and compiles, else a part of the error's message.
    static let schemaOutcomes: [String: String?] = [
        "max-items-100-million.json": "JSON Schema at #: maxItems above 100000 is not supported",
        "min-length-1-billion.json": "JSON Schema at #: minLength above 100000 is not supported",
        "property-name-of-8000-characters.json": "names of more than 2048 characters in all are not supported",
        "ref-to-itself.json": "JSON Schema: a $ref comes back to itself before any value is written",
    ]

    @Test func committedSchemasConvertOrFailClearlyAndQuickly() throws {
        let inputs = Self.inputs("fuzz-json-schema")
        #expect(inputs.count == Self.schemaOutcomes.count)
        for input in inputs {
            let name = URL(fileURLWithPath: input).lastPathComponent
            guard let expected = Self.schemaOutcomes[name] else {
                Issue.record("\(name) has no expected outcome here")
                continue
            }
            let schema = try JSONValue(parsing: try Self.text(input))
            Self.quickly(input) {
                do throws(GrammarError) {
                    _ = try Grammar(jsonSchema: schema)
                    #expect(expected == nil, "\(name) converted; expected an error with \(expected ?? "")")
                } catch {
                    #expect(expected.map { error.message.contains($0) } ?? false, "\(name): \(error.message)")
                }
                // As a tool's parameters, the same outcome, named as the tool's.
                let tool = Tool(name: "f", parameters: schema)
                do throws(GrammarError) {
                    _ = try Grammar.toolCalls([tool], choice: .required, format: .hermes, parallel: false, tokenizer: ListTokenizer(texts: ["a"]))
                    #expect(expected == nil, "\(name) converted as a tool's parameters")
                } catch {
                    #expect(error.message.hasPrefix("the parameters of a tool cannot be followed"), "\(name): \(error.message)")
                    #expect(expected.map { error.message.contains($0) } ?? false, "\(name): \(error.message)")
                }
            }
        }
    }

    @Test func aLongPropertyNameIsMatchedWithoutNesting() throws {
        // The finding: the grammar of "any other member name" nested one group per character of
        // the names it excludes, and was made by a recursion as deep: 8,000 characters exhausted
        // the stack. Each step of the names' trie is now a rule of its own, and as each costs a
        // rule, the names may have 2048 characters in all.
        let limit = JSONSchemaConverter.maxExcludedNameLength
        let tooLong = Self.quickly("too long") {
            #expect(throws: GrammarError.self) {
                try Grammar(jsonSchema: ["properties": ["a": [:], "b": [:], String(repeating: "c", count: limit - 1): [:]],
                                         "additionalProperties": true])
            }
        }
        #expect(tooLong?.message.contains("more than \(limit) characters in all are not supported") == true)
        let name = String(repeating: "a", count: limit)
        let grammar = try Self.quickly("long name") {
            try Grammar(jsonSchema: ["type": "object", "properties": [name: ["type": "integer"]], "additionalProperties": ["type": "boolean"]])
        }
        #expect(grammar.matches(#"{"\#(name)": 1}"#))
        #expect(!grammar.matches(#"{"\#(name)": true}"#))
        #expect(grammar.matches(#"{"\#(name)b": true}"#))
        #expect(grammar.matches(#"{"\#(name.dropLast())": true}"#))
        #expect(grammar.matches(#"{"b": false}"#))
    }

    @Test func countsAboveTheLimitAreRefusedAndAtItConverted() throws {
        let limit = JSONSchemaConverter.maxCount
        for key in ["minItems", "maxItems", "minLength", "maxLength"] {
            let type: JSONValue = key.hasSuffix("Items") ? "array" : "string"
            let error = Self.quickly(key) {
                #expect(throws: GrammarError.self) { try Grammar(jsonSchema: ["type": type, key: .int(limit + 1)]) }
            }
            #expect(error?.message == "JSON Schema at #: \(key) above \(limit) is not supported", "\(String(describing: error))")
        }
        let atLimit = try Grammar(jsonSchema: ["type": "string", "maxLength": .int(limit)])
        #expect(atLimit.matches("\"" + String(repeating: "x", count: 2500) + "\""))
    }

    @Test func manyPropertiesWithNamesOfOneBaseConvertQuickly() throws {
        // Rule names are made from property names without their punctuation: 5,000 names of
        // punctuation alone all became "root-kv", each numbered by counting from 1 again.
        let punctuation = Array("!#$%&()*+,-./:;<=>?@[]^")
        let names = (0..<5000).map { (index: Int) -> String in
            let n = punctuation.count
            let first: Character = punctuation[index % n], second: Character = punctuation[index / n % n]
            let third: Character = punctuation[index / (n * n) % n]
            return String([first, second, third])
        }
        #expect(Set(names).count == names.count)
        let properties = JSONObject(names.map { ($0, JSONValue.object(JSONObject([("type", "boolean")]))) })
        let grammar = try Self.quickly("5,000 properties") {
            try Grammar(jsonSchema: .object(JSONObject([("type", "object"), ("properties", .object(properties))])))
        }
        #expect(grammar.matches(#"{"!#!": true}"#))
        #expect(!grammar.matches(#"{"!#!": 1}"#))
        #expect(!grammar.matches(#"{"!!!!": true}"#))
    }
}
