/// A JSON Schema `pattern` (a regular expression, as Python's `re` reads it) as GBNF for the
/// content of a JSON string: the characters the pattern matches, written the way JSON writes
/// them inside quotes (a quote as `\"`, a newline as `\n`).
///
/// Supported: literals and escapes, `.`, classes (`[a-z]`, `[^"]`, `\d \w \s \D \W \S`),
/// groups (`(...)`, `(?:...)`, `(?P<name>...)`), `|`, and `* + ? {n} {n,} {n,m} {,m}` (lazy
/// forms too: they match the same strings). `^` and `$` are allowed at the ends only.
/// Lookarounds, backreferences, word boundaries and inline flags are refused, naming them.
///
/// The text produced always matches the pattern: an unanchored pattern is produced as a
/// whole match (which `re.search` finds), `\d \w \s` produce their ASCII members (a subset
/// of Python's Unicode classes), and a negated class that names them produces ASCII only.
struct PatternGrammar {
    private let pattern: [Unicode.Scalar]
    private var position = 0
    /// Rules for character sets (name, body), shared by every use of the same set.
    private(set) var setRules: [(name: String, body: String)] = []
    private var setRuleNames: [[ClosedRange<UInt32>]: String] = [:]
    private let ruleBase: String

    private indirect enum Node {
        case sequence([Node])
        case alternatives([Node])
        case characters([ClosedRange<UInt32>])
        case repetition(Node, min: Int, max: Int?)
    }

    /// GBNF for the string content matching `pattern`; `ruleBase` names the rules it adds
    /// (returned beside the expression).
    static func convert(_ pattern: String, ruleBase: String) throws(GrammarError) -> (expression: String, rules: [(name: String, body: String)]) {
        var converter = PatternGrammar(pattern: Array(pattern.unicodeScalars), ruleBase: ruleBase)
        let node = try converter.parseTop()
        let expression = converter.emit(node)
        return (expression, converter.setRules)
    }

    private init(pattern: [Unicode.Scalar], ruleBase: String) {
        self.pattern = pattern
        self.ruleBase = ruleBase
    }

    // MARK: Parsing

    private var current: Unicode.Scalar? { position < pattern.count ? pattern[position] : nil }

    private func fail(_ problem: String) -> GrammarError {
        GrammarError("pattern \(String(String.UnicodeScalarView(pattern)).debugDescription): \(problem) is not supported")
    }

    private func invalid(_ problem: String) -> GrammarError {
        GrammarError("pattern \(String(String.UnicodeScalarView(pattern)).debugDescription) is not a valid regular expression: \(problem)")
    }

    private mutating func parseTop() throws(GrammarError) -> Node {
        if current == "^" { position += 1 }
        let node = try parseAlternatives(topLevel: true)
        guard position == pattern.count else { throw invalid("unbalanced ')'") }
        return node
    }

    private mutating func parseAlternatives(topLevel: Bool) throws(GrammarError) -> Node {
        var options = [try parseSequence(topLevel: topLevel)]
        while current == "|" {
            position += 1
            if topLevel && current == "^" { position += 1 }
            options.append(try parseSequence(topLevel: topLevel))
        }
        return options.count == 1 ? options[0] : .alternatives(options)
    }

    private mutating func parseSequence(topLevel: Bool) throws(GrammarError) -> Node {
        var items: [Node] = []
        while let scalar = current, scalar != "|", scalar != ")" {
            if scalar == "$" {
                position += 1
                // Only at the end of the pattern or of a top-level alternative.
                guard topLevel, current == nil || current == "|" else { throw fail("'$' inside the pattern") }
                continue
            }
            var atom = try parseAtom()
            while let quantifier = try parseQuantifier() {
                atom = .repetition(atom, min: quantifier.min, max: quantifier.max)
            }
            items.append(atom)
        }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    private mutating func parseAtom() throws(GrammarError) -> Node {
        let scalar = current!
        switch scalar {
        case "(":
            position += 1
            if current == "?" {
                position += 1
                switch current {
                case ":": position += 1
                case "P" where position + 1 < pattern.count && pattern[position + 1] == "<":
                    try skipGroupName(from: position + 2)
                case "<" where position + 1 < pattern.count && pattern[position + 1] != "=" && pattern[position + 1] != "!":
                    try skipGroupName(from: position + 1)
                case "=", "!": throw fail("lookahead '(?\(current!)'")
                case "<": throw fail("lookbehind")
                case "P": throw fail("'(?P' other than a named group")
                default: throw fail("inline flags or '(?\(current.map(String.init) ?? "")'")
                }
            }
            let inner = try parseAlternatives(topLevel: false)
            guard current == ")" else { throw invalid("missing ')'") }
            position += 1
            return inner
        case "[":
            return .characters(try parseClass())
        case ".":
            position += 1
            return .characters([0...0x09, 0x0B...0x10FFFF])
        case "\\":
            return .characters(try parseEscape(inClass: false).ranges)
        case "^":
            throw fail("'^' inside the pattern")
        case "*", "+", "?":
            throw invalid("nothing to repeat before '\(scalar)'")
        default:
            position += 1
            return .characters([scalar.value...scalar.value])
        }
    }

    private mutating func skipGroupName(from start: Int) throws(GrammarError) {
        position = start
        while let scalar = current, scalar != ">" { position += 1 }
        guard current == ">" else { throw invalid("unterminated group name") }
        position += 1
    }

    /// `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, `{,m}`, each possibly lazy; nil when none follows
    /// (a `{` that is not a count is a literal, as Python reads it).
    private mutating func parseQuantifier() throws(GrammarError) -> (min: Int, max: Int?)? {
        guard let scalar = current else { return nil }
        var result: (Int, Int?)
        switch scalar {
        case "*": result = (0, nil); position += 1
        case "+": result = (1, nil); position += 1
        case "?": result = (0, 1); position += 1
        case "{":
            guard let (count, end) = countAt(position) else { return nil }
            result = count
            position = end
        default: return nil
        }
        if current == "?" {
            position += 1  // lazy: the same strings
        } else if current == "+" {
            throw fail("a possessive quantifier")
        }
        if let max = result.1, max < result.0 { throw invalid("{\(result.0),\(max)}: the maximum is below the minimum") }
        if result.0 > GBNFParser.maxRepetitions || (result.1 ?? 0) > GBNFParser.maxRepetitions {
            throw fail("a repetition count above \(GBNFParser.maxRepetitions)")
        }
        return result
    }

    /// A count `{n}`, `{n,}`, `{n,m}` or `{,m}` starting at `start`, and where it ends.
    private func countAt(_ start: Int) -> ((Int, Int?), Int)? {
        var index = start + 1
        func number() -> Int? {
            var value: Int?
            while index < pattern.count, (0x30...0x39).contains(pattern[index].value) {
                value = (value ?? 0) * 10 + Int(pattern[index].value - 0x30)
                if value! > 1_000_000 { return value }
                index += 1
            }
            return value
        }
        let low = number()
        if index < pattern.count && pattern[index] == "}" {
            guard let low else { return nil }
            return ((low, low), index + 1)
        }
        guard index < pattern.count, pattern[index] == "," else { return nil }
        index += 1
        let high = number()
        guard index < pattern.count, pattern[index] == "}", low != nil || high != nil else { return nil }
        return ((low ?? 0, high), index + 1)
    }

    /// A class `[...]`: its code points.
    private mutating func parseClass() throws(GrammarError) -> [ClosedRange<UInt32>] {
        position += 1
        var negated = false
        if current == "^" {
            negated = true
            position += 1
        }
        var ranges: [ClosedRange<UInt32>] = []
        var namesShorthand = false
        var first = true
        while let scalar = current, scalar != "]" || first {
            first = false
            var low: UInt32
            if scalar == "\\" {
                let escape = try parseEscape(inClass: true)
                if escape.isShorthand {
                    ranges += escape.ranges
                    namesShorthand = true
                    continue
                }
                low = escape.ranges[0].lowerBound
            } else {
                position += 1
                low = scalar.value
            }
            // A range a-b (a '-' before ']' is a literal).
            if current == "-", position + 1 < pattern.count, pattern[position + 1] != "]" {
                position += 1
                var high: UInt32
                if current == "\\" {
                    let escape = try parseEscape(inClass: true)
                    guard !escape.isShorthand else { throw invalid("a range ending in a class escape") }
                    high = escape.ranges[0].lowerBound
                } else {
                    high = current!.value
                    position += 1
                }
                guard high >= low else { throw invalid("a range that ends before it starts") }
                ranges.append(low...high)
            } else {
                ranges.append(low...low)
            }
        }
        guard current == "]" else { throw invalid("missing ']'") }
        position += 1
        guard negated else { return ranges }
        let complement = UTF8Sequences.complement(ranges)
        // Python's \d \w \s are Unicode classes (its \s has control characters ICU's lacks):
        // outside them, only printable ASCII is surely outside.
        return namesShorthand ? UTF8Sequences.normalized(complement.compactMap { range in
            range.upperBound >= 0x20 && range.lowerBound <= 0x7E ? max(range.lowerBound, 0x20)...min(range.upperBound, 0x7E) : nil
        }) : complement
    }

    /// An escape after `\`: one character, or a class shorthand.
    private mutating func parseEscape(inClass: Bool) throws(GrammarError) -> (ranges: [ClosedRange<UInt32>], isShorthand: Bool) {
        position += 1
        guard let scalar = current else { throw invalid("a trailing backslash") }
        position += 1
        func one(_ value: UInt32) -> ([ClosedRange<UInt32>], Bool) { ([value...value], false) }
        switch scalar {
        case "d": return ([0x30...0x39], true)
        case "w": return ([0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A], true)
        // What Python's and ICU's \s share (Python's also has \v and 1C–1F).
        case "s": return ([0x09...0x0A, 0x0C...0x0D, 0x20...0x20], true)
        case "D": return ([0x20...0x2F, 0x3A...0x7E], true)
        case "W": return ([0x20...0x2F, 0x3A...0x40, 0x5B...0x5E, 0x60...0x60, 0x7B...0x7E], true)
        case "S": return ([0x21...0x7E], true)
        case "n": return one(0x0A)
        case "t": return one(0x09)
        case "r": return one(0x0D)
        case "f": return one(0x0C)
        case "v": return one(0x0B)
        case "a": return one(0x07)
        case "0": return one(0)
        case "b" where inClass: return one(0x08)
        case "x": return one(try hex(digits: 2))
        case "u": return one(try hex(digits: 4))
        case "U": return one(try hex(digits: 8))
        case "b", "B", "A", "Z", "z", "G": throw fail("the anchor or word boundary '\\\(scalar)'")
        case "1"..."9": throw fail("a backreference '\\\(scalar)'")
        case "p", "P": throw fail("a Unicode property '\\\(scalar)'")
        default:
            guard !scalar.properties.isAlphabetic else { throw invalid("unknown escape '\\\(scalar)'") }
            return one(scalar.value)
        }
    }

    private mutating func hex(digits: Int) throws(GrammarError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<digits {
            guard let scalar = current, let digit = UInt32(String(scalar), radix: 16) else {
                throw invalid("expected \(digits) hex digits")
            }
            value = value << 4 | digit
            position += 1
        }
        guard value <= UTF8Sequences.maxCodePoint else { throw invalid("a code point beyond Unicode") }
        return value
    }

    // MARK: Writing GBNF

    private mutating func emit(_ node: Node) -> String {
        switch node {
        case .sequence(let items):
            return items.isEmpty ? "\"\"" : items.map { emitGrouped($0) }.joined(separator: " ")
        case .alternatives(let options):
            return options.map { emit($0) }.joined(separator: " | ")
        case .characters(let ranges):
            return characters(ranges)
        case .repetition(let inner, let min, let max):
            let item = emitGrouped(inner)
            switch (min, max) {
            case (0, nil): return item + "*"
            case (1, nil): return item + "+"
            case (0, 1?): return item + "?"
            case (let low, nil): return item + "{\(low),}"
            case (let low, let high?) where low == high: return item + "{\(low)}"
            case (let low, let high?): return item + "{\(low),\(high)}"
            }
        }
    }

    private mutating func emitGrouped(_ node: Node) -> String {
        switch node {
        case .alternatives, .sequence: return "(" + emit(node) + ")"
        default: return emit(node)
        }
    }

    /// One character of `ranges` inside a JSON string: as itself, or escaped where JSON
    /// must escape it.
    private mutating func characters(_ ranges: [ClosedRange<UInt32>]) -> String {
        let ranges = UTF8Sequences.normalized(ranges)
        guard !ranges.isEmpty else { return "[^\\x00-\\U0010FFFF]" }
        if ranges.count == 1 && ranges[0].lowerBound == ranges[0].upperBound {
            return JSONStringGrammar.encoded(ranges[0].lowerBound)
        }
        if let name = setRuleNames[ranges] { return name }
        let name = "\(ruleBase)-set\(setRules.count + 1)"
        setRuleNames[ranges] = name
        setRules.append((name, JSONStringGrammar.characters(ranges)))
        return name
    }
}
