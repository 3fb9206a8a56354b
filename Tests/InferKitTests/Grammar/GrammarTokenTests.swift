import Foundation
import Testing
@testable import InferKit

/// The grammar at the level of tokens: which tokens are allowed, when one token covers
/// several terminals or ends inside a character, and how generation may end.
struct GrammarTokenTests {
    static func matcher(_ gbnf: String, _ tokenizer: ListTokenizer, skipsLeadingSpace: Bool = false) throws -> GrammarMatcher {
        let trie = TokenTrie(tokenizer: tokenizer, endOfGeneration: tokenizer.special.endOfGeneration)
        return try GrammarMatcher(grammar: Grammar(gbnf: gbnf), trie: trie, tokenizer: tokenizer,
                                  skipsLeadingSpace: skipsLeadingSpace)
    }

    @Test func oneTokenSpansSeveralTerminals() throws {
        let tokenizer = ListTokenizer(texts: ["{\"", "a\":", "1", "23}", "}", "{", "\"a\"", ":", "x", "\":", nil, "\"a\":1}"], eos: 10)
        let m = try Self.matcher(#"root ::= "{" "\"a\"" ":" [0-9]+ "}""#, tokenizer)
        #expect(m.allowedTokens().ids == [0, 5])     // {"  and  {  ("a":1} lacks the brace)
        #expect(m.accept(0))
        #expect(m.allowedTokens().ids == [1])        // a":
        #expect(!m.accept(9))                        // ": skips the a: refused, nothing changes
        #expect(m.accept(1))
        #expect(m.allowedTokens().ids == [2, 3])     // digits, digits ending with the brace
        #expect(m.accept(2))
        #expect(m.allowedTokens().ids == [2, 3, 4])
        #expect(!m.canEnd)
        #expect(m.accept(3))
        #expect(m.isComplete)
        #expect(m.allowedTokens().ids == [10])       // only the end of generation
    }

    @Test func tokensEndingInsideACharacter() throws {
        // é is C3 A9, è is C3 A8.
        let tokenizer = ListTokenizer([[0xC3], [0xA9, 0x61], [0xC3, 0xA9], Array("a".utf8), [0xC3, 0xA8], [0xA9], nil], eos: 6)
        let m = try Self.matcher(#"root ::= "\u00e9" [a-z]+"#, tokenizer)
        #expect(m.allowedTokens().ids == [0, 2])
        #expect(m.accept(0))
        #expect(m.allowedTokens().ids == [1, 5])     // the continuation byte, alone or with a letter
        #expect(m.accept(1))
        #expect(m.allowedTokens().ids == [3, 6])     // more letters, or the end
        #expect(m.canEnd && !m.isComplete)
        // A negated class accepts the start of any character outside it.
        let n = try Self.matcher(#"root ::= [^\u00e9]"#, tokenizer)
        #expect(n.allowedTokens().ids == [0, 3, 4])
        #expect(n.accept(0))
        #expect(n.allowedTokens().ids == [])         // after C3 only a continuation byte other than A9 fits: no token is one
    }

    @Test func endOfGenerationOnlyWhenComplete() throws {
        let tokenizer = ListTokenizer(texts: ["y", "es", "yes", "no", "!", nil], eos: 5)
        let m = try Self.matcher(#"root ::= ("yes" | "no") "!"?"#, tokenizer)
        #expect(!m.allowedTokens().contains(5))
        #expect(m.accept(2))
        #expect(m.allowedTokens().ids == [4, 5])
        #expect(m.canEnd && !m.isComplete)
        #expect(m.accept(4))
        #expect(m.isComplete && m.allowedTokens().ids == [5])
        #expect(m.accept(5))
    }

    @Test func controlTokensOnlyThroughTokenTerminals() throws {
        let tokenizer = ListTokenizer(texts: ["<think>", "a", "b", "</think>", nil, nil], eos: 5)
        // Token 0 and 3 have text: by id, by text, and "any token but".
        let m = try Self.matcher("root ::= <[0]> !<[3]>* <[3]> \"a\"", tokenizer)
        #expect(m.allowedTokens().ids == [0])
        #expect(m.accept(0))
        // Any token but 3 (and the end of generation), control token 4 included; or 3 itself.
        #expect(m.allowedTokens().ids == [0, 1, 2, 3, 4])
        #expect(m.accept(4) && m.accept(1))
        #expect(m.accept(3))
        #expect(m.allowedTokens().ids == [1])
        let byText = try Self.matcher("root ::= <think> \"b\"", tokenizer)
        #expect(byText.allowedTokens().ids == [0])
        #expect(throws: GrammarError.self) { try Self.matcher("root ::= <[9]>", tokenizer) }
        #expect(throws: GrammarError.self) { try Self.matcher("root ::= <ab>", tokenizer) }  // two tokens
        // Without token terminals, a control token is never allowed.
        let plain = try Self.matcher("root ::= [a-z]*", tokenizer)
        #expect(plain.allowedTokens().ids == [1, 2, 5])
    }

    @Test func aTokenTerminalNothingCanFollowIsNotAllowed() throws {
        // The finding (fuzz-grammar): an empty class `[]` after a token terminal matches
        // nothing, so `accept` refused the token the mask had allowed.
        let tokenizer = ListTokenizer(texts: ["<think>", "a", "b", nil], eos: 3)
        for (gbnf, allowed) in [("root ::= <think> [] | \"a\"", [1]), ("root ::= !<[1]> [] | \"a\"", [1]),
                                ("root ::= <think> ([] | \"b\") | \"a\"", [0, 1])] {
            #expect(try Self.matcher(gbnf, tokenizer).allowedTokens().ids == allowed, "\(gbnf)")
            // The mask and `accept` agree on every token (the end of generation aside: the text is not complete).
            for id in 0..<3 {
                let m = try Self.matcher(gbnf, tokenizer)
                #expect(m.accept(id) == allowed.contains(id), "\(gbnf): token \(id)")
                #expect(m.failure == nil)
            }
        }
    }

    @Test func leadingSpaceOfTheFirstTokenIsNotText() throws {
        // SentencePiece text starts without the space its first token carries.
        let tokenizer = ListTokenizer(texts: [" {", "{", " ", " a", "}", nil], eos: 5)
        let m = try Self.matcher(#"root ::= "{" " "? "}""#, tokenizer, skipsLeadingSpace: true)
        #expect(m.allowedTokens().ids == [0, 1, 2])  // " " is allowed: it adds no text
        #expect(m.accept(0))
        #expect(m.allowedTokens().ids == [2, 4])     // now a space is text
        #expect(m.accept(2) && m.accept(4) && m.isComplete)
    }

    @Test func duplicateAndPrefixTokensInTheTrie() {
        let tokenizer = ListTokenizer(texts: ["ab", "a", "ab", "abc", "b", nil, ""], eos: 5)
        let trie = TokenTrie(tokenizer: tokenizer, endOfGeneration: [5])
        // root, a, b, c under a-b, and b alone.
        #expect(trie.nodeByte == [0, 0x61, 0x62, 0x63, 0x62])
        #expect(trie.subtreeEnd == [5, 4, 4, 4, 5])
        #expect(trie.nodeTokenStart == [0, 0, 1, 3, 4, 5])
        #expect(trie.nodeTokens == [1, 0, 2, 3, 4])
        #expect(trie.maxDepth == 3)
    }

    /// The trie walk allows exactly the tokens a token-by-token check allows, along a JSON
    /// document, on a 151k-token vocabulary.
    @Test(.enabled(if: SharedData.available, SharedData.missingMessage))
    func trieMaskEqualsTokenByTokenCheck() throws {
        let tokenizer = try TokenizerFixtures.load("tokenizers/qwen3")
        let endOfGeneration: Set<Int> = tokenizer.special.endOfGeneration
        let trie = TokenTrie(tokenizer: tokenizer, endOfGeneration: endOfGeneration)
        let grammar = try Grammar(gbnf: GrammarMatchTests.json)
        let matcher = try GrammarMatcher(grammar: grammar, trie: trie, tokenizer: tokenizer)
        let document = "{\"name\": \"caf\u{E9} \u{1F600}\", \"n\": [1, 2.5e3]}"
        let tokens = tokenizer.encode(document, options: EncodeOptions(addBOS: false, addEOS: false))
        let reference = GrammarAutomaton(grammar.compiled)
        var text: [UInt8] = []
        for (step, token) in tokens.enumerated() {
            if step % 6 == 0 {
                let prefix = reference.step(reference.start, text)
                var expected: [Int] = []
                for id in 0..<tokenizer.vocabularySize {
                    let bytes = tokenizer.bytes(of: id)
                    if endOfGeneration.contains(id) {
                        if reference.isAccepting(prefix) { expected.append(id) }
                    } else if !bytes.isEmpty && reference.step(prefix, bytes) != GrammarAutomaton.dead {
                        expected.append(id)
                    }
                }
                #expect(matcher.allowedTokens().ids == expected, "after \(String(decoding: text, as: UTF8.self).debugDescription)")
            }
            #expect(matcher.allowedTokens().contains(token))
            #expect(matcher.accept(token))
            text += tokenizer.bytes(of: token)
        }
        #expect(matcher.canEnd)
    }
}
