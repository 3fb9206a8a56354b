/// Turns the regex of a pre-tokenizer (a `Split` pattern of a `tokenizer.json`, or one of
/// llama.cpp's per-model regex lists) into the `SplitRule` that implements it. infer has no
/// general regex engine: it recognizes the GPT-2 and Llama 3 patterns whole, and parses the
/// simple single-class patterns (`\s?\p{L}+`, `[\r\n]`, `\p{N}{1,3}`, `[0-9][0-9][0-9]`,
/// `\s+$`, bracket classes with ranges). Anything else is reported as unsupported.
enum SplitPattern {
    static func rule(_ regex: String) -> SplitRule? {
        if gpt2Patterns.contains(regex) { return .gpt2 }
        if let maxDigits = llama3MaxDigits(regex) { return .llama3(maxDigits: maxDigits) }
        if regex == #"\s+$"# { return .trailingWhitespace }
        var parser = Parser(Array(regex.unicodeScalars))
        return parser.parseRun()
    }

    static let gpt2Patterns: Set<String> = [
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"#,
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#,
    ]

    /// The digit-group length of a Llama 3 style pattern (3 for Llama 3, 1 for Qwen 2).
    private static func llama3MaxDigits(_ regex: String) -> Int? {
        let contractions = [#"(?i:'s|'t|'re|'ve|'m|'ll|'d)|"#,
                            #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|"#]
        guard let prefix = contractions.first(where: regex.hasPrefix) else { return nil }
        let head = #"[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"#
        let tail = #"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        let rest = regex.dropFirst(prefix.count)
        guard rest.hasPrefix(head), rest.hasSuffix(tail) else { return nil }
        switch rest.dropFirst(head.count).dropLast(tail.count) {
        case "{1,3}": return 3
        case "", "{1}": return 1
        case "+": return Int.max
        default: return nil
        }
    }

    /// Parses `prefix? atom quantifier?` where the atom is a bracket class, `\p{X}`, `\s` or a
    /// literal, and `[0-9][0-9][0-9]` (an atom repeated) counts as `{3}`.
    private struct Parser {
        let s: [Unicode.Scalar]
        var i = 0

        init(_ s: [Unicode.Scalar]) { self.s = s }

        func lookingAt(_ text: String) -> Bool {
            let t = Array(text.unicodeScalars)
            return i + t.count <= s.count && Array(s[i..<(i + t.count)]) == t
        }

        mutating func parseRun() -> SplitRule? {
            var prefix = SplitRule.RunPrefix.none
            if lookingAt(#"\s?"#) {
                prefix = .whitespace
                i += 3
            } else if lookingAt(" ?") {
                prefix = .space
                i += 2
            }
            let atomStart = i
            guard let set = parseAtom() else { return nil }
            let atomText = s[atomStart..<i]
            var count = 1
            while i + atomText.count <= s.count && s[i..<(i + atomText.count)].elementsEqual(atomText) {
                i += atomText.count
                count += 1
            }
            var (low, high) = (count, count)
            if count == 1, i < s.count {
                guard let quantifier = parseQuantifier() else { return nil }
                (low, high) = quantifier
            }
            guard i == s.count, low >= 1, high >= low else { return nil }
            return .run(set, prefix: prefix, min: low, max: high)
        }

        mutating func parseQuantifier() -> (Int, Int)? {
            if s[i] == "+" {
                i += 1
                return (1, Int.max)
            }
            guard s[i] == "{" else { return nil }
            i += 1
            guard let low = parseNumber() else { return nil }
            var high = low
            if i < s.count && s[i] == "," {
                i += 1
                guard let h = parseNumber() else { return nil }
                high = h
            }
            guard i < s.count && s[i] == "}" else { return nil }
            i += 1
            return (low, high)
        }

        mutating func parseNumber() -> Int? {
            var value = 0, digits = 0
            while i < s.count, ("0"..."9").contains(s[i]), digits < 6 {
                value = value * 10 + Int(s[i].value - 0x30)
                digits += 1
                i += 1
            }
            return digits > 0 ? value : nil
        }

        mutating func parseAtom() -> ScalarSet? {
            guard i < s.count else { return nil }
            if s[i] == "[" { return parseBracket() }
            // Regex syntax where a literal was expected: not a pattern this parser knows.
            guard !Self.syntax.contains(s[i]), let item = parseItem() else { return nil }
            switch item {
            case .classes(let c): return ScalarSet(classes: c)
            case .scalar(let v): return ScalarSet(ranges: [v...v])
            }
        }

        enum Item { case scalar(UInt32), classes(CharacterClass) }

        static let syntax = Set("()|?*+{}.^$".unicodeScalars)

        /// One literal or escape, inside or outside brackets.
        mutating func parseItem() -> Item? {
            guard i < s.count else { return nil }
            let c = s[i]
            i += 1
            guard c == "\\" else { return .scalar(c.value) }
            guard i < s.count else { return nil }
            let e = s[i]
            i += 1
            switch e {
            case "p":
                guard i + 2 < s.count, s[i] == "{", s[i + 2] == "}" else { return nil }
                defer { i += 3 }
                switch s[i + 1] {
                case "L": return .classes(.letter)
                case "N": return .classes(.number)
                case "P": return .classes(.punctuation)
                case "S": return .classes(.symbol)
                case "M": return .classes(.mark)
                default: return nil
                }
            case "s": return .classes(.whitespace)
            case "r": return .scalar(0x0D)
            case "n": return .scalar(0x0A)
            case "t": return .scalar(0x09)
            default:
                // An escaped ASCII punctuation character stands for itself (`\$`, `\+`, `\|`);
                // other escapes (`\d`, `\w`, `\b`, ...) are not supported.
                let isPunctuation = e.isASCII && !e.properties.isAlphabetic && !("0"..."9").contains(e)
                return isPunctuation ? .scalar(e.value) : nil
            }
        }

        mutating func parseBracket() -> ScalarSet? {
            i += 1  // "["
            var negated = false
            if i < s.count && s[i] == "^" {
                negated = true
                i += 1
            }
            var classes: CharacterClass = []
            var ranges: [ClosedRange<UInt32>] = []
            while i < s.count && s[i] != "]" {
                switch parseItem() {
                case nil: return nil
                case .classes(let c)?: classes.formUnion(c)
                case .scalar(let low)?:
                    if i + 1 < s.count, s[i] == "-", s[i + 1] != "]" {
                        i += 1
                        guard case .scalar(let high)? = parseItem(), high >= low else { return nil }
                        ranges.append(low...high)
                    } else {
                        ranges.append(low...low)
                    }
                }
            }
            guard i < s.count else { return nil }
            i += 1  // "]"
            return ScalarSet(classes: classes, ranges: ranges, negated: negated)
        }
    }
}
