import Testing
@testable import InferKit

/// The hand-written regex matchers, piece by piece, on the cases that set the patterns apart
/// (expected pieces are what Python's `regex` module splits).
struct PreTokenizerTests {
    static func pieces(_ regexes: [String], _ text: String) throws -> [String] {
        guard case .success(let preTokenizer) = PreTokenizer.parse(regexes) else {
            Issue.record("cannot parse \(regexes)")
            return []
        }
        var text = text
        return text.withUTF8 { utf8 in
            let scalars = ScalarText(utf8: utf8)
            var start = 0
            return preTokenizer.split(scalars).map { end in
                defer { start = end }
                return String(decoding: UnsafeBufferPointer(rebasing: utf8[scalars.offsets[start]..<scalars.offsets[end]]), as: UTF8.self)
            }
        }
    }

    @Test func gpt2() throws {
        let p = GGUFPreTokenizer.gpt2
        #expect(try Self.pieces([p], "Hello world's 12345") == ["Hello", " world", "'s", " 12345"])
        // A whitespace run leaves its last space to the next word; at the end it stays whole.
        #expect(try Self.pieces([p], "a   b  ") == ["a", "  ", " b", "  "])
        #expect(try Self.pieces([p], "x\t\ny") == ["x", "\t", "\n", "y"])
        // Contractions are case-sensitive; marks and emoji are neither letters nor numbers.
        #expect(try Self.pieces([p], "I'M ok") == ["I", "'", "M", " ok"])
        #expect(try Self.pieces([p], "नमस्ते 🦙!") == ["नमस", "्", "त", "े", " 🦙!"])
    }

    @Test func llama3AndQwen2() throws {
        let llama3 = GGUFPreTokenizer.llama3, qwen2 = GGUFPreTokenizer.qwen2
        #expect(try Self.pieces([llama3], "I'M 1234567 ok") == ["I", "'M", " ", "123", "456", "7", " ok"])
        #expect(try Self.pieces([qwen2], "x 123") == ["x", " ", "1", "2", "3"])
        // A non-letter may lead a word; line breaks gather the whitespace before them.
        #expect(try Self.pieces([llama3], "\thello...\n\n  \n  x") == ["\thello", "...\n\n", "  \n", " ", " x"])
    }

    @Test func runsAndAnchors() throws {
        #expect(try Self.pieces(["[0-9][0-9][0-9]"], "1234567") == ["123", "456", "7"])
        // What no match covers is one piece.
        #expect(try Self.pieces([#"\s?\p{L}+"#], "ab cd,  ef") == ["ab", " cd", ", ", " ef"])
        #expect(try Self.pieces([#"\s+$"#], "a b  ") == ["a b", "  "])
        #expect(try Self.pieces([#"[\p{P}\$\+<=>\^~\|]+"#], "a+b=c!") == ["a", "+", "b", "=", "c", "!"])
        #expect(try Self.pieces(["[\r\n]", #"\p{N}"#], "a1\r\n22") == ["a", "1", "\r", "\n", "2", "2"])
    }

    @Test func unknownPatternsAreRefused() {
        for regex in [#"\w+"#, "(a|b)+", #"\p{Han}+"#, "a*", "[a-", #"\s?"#, "x{2,1}"] {
            #expect(SplitPattern.rule(regex) == nil, "\(regex)")
        }
    }

    @Test(arguments: Array(GGUFPreTokenizer.table.keys))
    func everyGGUFPreTokenizerParses(_ name: String) {
        #expect(GGUFPreTokenizer.named(name) != nil)
    }
}
