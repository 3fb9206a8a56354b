/// A grammar as written in GBNF: named rules, each an expression over characters, other
/// rules and tokens. `GBNFParser` builds it; `ByteGrammar` compiles it for matching.
struct GrammarSyntax: Sendable, Equatable {
    struct Rule: Sendable, Equatable {
        let name: String
        let body: Expression
        /// Where the rule's name starts (1-based), for errors that name it.
        let line: Int
    }

    /// A token written in angle brackets: `<[42]>` by id, `<think>` by its text.
    enum TokenReference: Sendable, Hashable {
        case id(Int)
        case text(String)
    }

    indirect enum Expression: Sendable, Equatable {
        /// Each in turn.
        case sequence([Expression])
        /// Any one of them.
        case alternatives([Expression])
        /// These code points in order (a quoted string).
        case literal([UInt32])
        /// One code point in (or, negated, outside) the ranges: `[a-z_]`, `[^"\\]`.
        case characterClass([ClosedRange<UInt32>], negated: Bool)
        /// Any one code point: `.`.
        case anyCharacter
        /// Another rule, by name.
        case reference(String)
        /// The expression between `min` and `max` times (`max` nil: no limit).
        case repetition(Expression, min: Int, max: Int?)
        /// One whole token of the vocabulary (negated: any token but that one).
        case token(TokenReference, negated: Bool)
    }

    let rules: [Rule]
}
