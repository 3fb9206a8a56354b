/// Reads a grammar in llama.cpp's GBNF syntax, so that grammars written for llama.cpp work
/// unchanged:
///
/// ```
/// root  ::= "Answer: " ("yes" | "no") [.!]? "\n"   # a comment
/// item  ::= [a-z] [a-z0-9-]* | "\u00e9" .{2,5}
/// think ::= <think> !</think>* </think>              # tokens, by text or as <[id]>
/// ```
///
/// Rules are `name ::= alternatives`; a rule ends at a newline, except inside parentheses
/// and after `|`. Terminals are quoted strings and character classes (`[a-z]`, `[^\n]`)
/// with the escapes `\x.. \u.... \U........ \t \r \n \\ \" \[ \] \-`, and `.` (any
/// character). `*`, `+`, `?` and `{m}`, `{m,}`, `{m,n}` repeat what precedes them.
struct GBNFParser {
    /// Repetition counts above this are refused, as llama.cpp refuses them: each repetition
    /// becomes rules of its own.
    static let maxRepetitions = 2000

    /// Groups and repetitions nest at most this deep in one rule (`((x))`, `x**`): parsing and
    /// compiling recurse once per level, so a deeper grammar is refused before it can exhaust
    /// the stack. Grammars made from JSON Schemas nest far less.
    static let maxNesting = 256

    private let text: [UInt8]
    private var position = 0
    /// Groups open around the current position.
    private var depth = 0
    /// Where each line after the first starts, for errors' line numbers.
    private let lineStarts: [Int]

    private init(_ source: String) {
        let text = Array(source.utf8)
        self.text = text
        lineStarts = text.indices.filter { text[$0] == UInt8(ascii: "\n") }.map { $0 + 1 }
    }

    static func parse(_ source: String) throws(GrammarError) -> GrammarSyntax {
        var parser = GBNFParser(source)
        var rules: [GrammarSyntax.Rule] = []
        var defined: Set<String> = []
        parser.skipSpace(newlines: true)
        while !parser.atEnd {
            let (line, column) = parser.lineAndColumn(parser.position)
            let rule = try parser.parseRule()
            guard defined.insert(rule.name).inserted else {
                throw GrammarError("rule '\(rule.name)' is defined twice", line: line, column: column)
            }
            rules.append(rule)
        }
        guard !rules.isEmpty else { throw GrammarError("the grammar is empty: it needs a 'root' rule") }
        return GrammarSyntax(rules: rules)
    }

    // MARK: Rules and expressions

    private var atEnd: Bool { position >= text.count }
    private var current: UInt8? { position < text.count ? text[position] : nil }

    private func peek(_ offset: Int) -> UInt8? {
        position + offset < text.count ? text[position + offset] : nil
    }

    private mutating func parseRule() throws(GrammarError) -> GrammarSyntax.Rule {
        let line = lineAndColumn(position).line
        let name = try parseName()
        skipSpace(newlines: false)
        guard current == UInt8(ascii: ":"), peek(1) == UInt8(ascii: ":"), peek(2) == UInt8(ascii: "=") else {
            throw error("expected '::=' after the rule name '\(name)'")
        }
        position += 3
        skipSpace(newlines: true)
        let body = try parseAlternatives(nested: false)
        if current == UInt8(ascii: "\r") {
            position += peek(1) == UInt8(ascii: "\n") ? 2 : 1
        } else if current == UInt8(ascii: "\n") {
            position += 1
        } else if !atEnd {
            throw error("unexpected '\(describe(current!))': expected a newline or the end of the rule")
        }
        skipSpace(newlines: true)
        return GrammarSyntax.Rule(name: name, body: body, line: line)
    }

    private mutating func parseAlternatives(nested: Bool) throws(GrammarError) -> GrammarSyntax.Expression {
        var alternatives = [try parseSequence(nested: nested)]
        while current == UInt8(ascii: "|") {
            position += 1
            skipSpace(newlines: true)
            alternatives.append(try parseSequence(nested: nested))
        }
        return alternatives.count == 1 ? alternatives[0] : .alternatives(alternatives)
    }

    private mutating func parseSequence(nested: Bool) throws(GrammarError) -> GrammarSyntax.Expression {
        var items: [GrammarSyntax.Expression] = []
        loop: while let byte = current {
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                var codePoints: [UInt32] = []
                while current != UInt8(ascii: "\"") {
                    guard !atEnd else { throw error("unterminated string: expected '\"'") }
                    codePoints.append(try parseCharacter())
                }
                position += 1
                items.append(.literal(codePoints))
            case UInt8(ascii: "["):
                items.append(try parseCharacterClass())
            case UInt8(ascii: "<"), UInt8(ascii: "!"):
                items.append(try parseToken())
            case UInt8(ascii: "("):
                guard depth < Self.maxNesting else {
                    throw error("groups nest more than \(Self.maxNesting) deep")
                }
                position += 1
                depth += 1
                skipSpace(newlines: true)
                let group = try parseAlternatives(nested: true)
                guard current == UInt8(ascii: ")") else { throw error("expected ')' to close the group") }
                position += 1
                depth -= 1
                items.append(group)
            case UInt8(ascii: "."):
                position += 1
                items.append(.anyCharacter)
            case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"):
                position += 1
                let (min, max): (Int, Int?) = byte == UInt8(ascii: "*") ? (0, nil) : byte == UInt8(ascii: "+") ? (1, nil) : (0, 1)
                try repeatLast(&items, min: min, max: max, symbol: describe(byte))
            case UInt8(ascii: "{"):
                let start = position
                position += 1
                skipSpace(newlines: nested)
                let min = try parseCount()
                skipSpace(newlines: nested)
                var max: Int? = min
                if current == UInt8(ascii: ",") {
                    position += 1
                    skipSpace(newlines: nested)
                    max = current.map(isDigit) == true ? try parseCount() : nil
                    skipSpace(newlines: nested)
                }
                guard current == UInt8(ascii: "}") else { throw error("expected '}' to close the repetition count") }
                position += 1
                if let max, max < min {
                    position = start
                    throw error("repetition {\(min),\(max)}: the maximum is below the minimum")
                }
                try repeatLast(&items, min: min, max: max, symbol: "{")
            default:
                if isWordCharacter(byte) {
                    items.append(.reference(try parseName()))
                } else {
                    break loop
                }
            }
            skipSpace(newlines: nested)
        }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    private mutating func repeatLast(_ items: inout [GrammarSyntax.Expression], min: Int, max: Int?,
                                     symbol: String) throws(GrammarError) {
        guard let last = items.popLast() else { throw error("'\(symbol)' has nothing before it to repeat") }
        var levels = depth + 1
        var inner = last
        while case .repetition(let item, _, _) = inner {
            levels += 1
            inner = item
        }
        guard levels <= Self.maxNesting else {
            throw error("groups and repetitions nest more than \(Self.maxNesting) deep")
        }
        items.append(.repetition(last, min: min, max: max))
    }

    private mutating func parseCount() throws(GrammarError) -> Int {
        let start = position
        var value = 0
        while let byte = current, isDigit(byte) {
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            if value > Self.maxRepetitions {
                position = start
                throw error("a repetition count above \(Self.maxRepetitions) is not supported")
            }
            position += 1
        }
        guard position > start else { throw error("expected a number in the repetition count") }
        return value
    }

    private mutating func parseCharacterClass() throws(GrammarError) -> GrammarSyntax.Expression {
        position += 1
        var negated = false
        if current == UInt8(ascii: "^") {
            negated = true
            position += 1
        }
        var ranges: [ClosedRange<UInt32>] = []
        while current != UInt8(ascii: "]") {
            guard !atEnd else { throw error("unterminated character class: expected ']'") }
            let low = try parseCharacter()
            var high = low
            if current == UInt8(ascii: "-"), let next = peek(1), next != UInt8(ascii: "]") {
                position += 1
                high = try parseCharacter()
                guard high >= low else { throw error("character range ends before it starts") }
            }
            ranges.append(low...high)
        }
        position += 1
        return .characterClass(ranges, negated: negated)
    }

    /// `<[42]>`, `<text>`, and either with `!` in front.
    private mutating func parseToken() throws(GrammarError) -> GrammarSyntax.Expression {
        var negated = false
        if current == UInt8(ascii: "!") {
            negated = true
            position += 1
        }
        guard current == UInt8(ascii: "<") else { throw error("expected '<' after '!'") }
        position += 1
        if current == UInt8(ascii: "[") {
            position += 1
            let start = position
            var id = 0
            while let byte = current, isDigit(byte) {
                id = id * 10 + Int(byte - UInt8(ascii: "0"))
                guard id <= Int(Int32.max) else { throw error("token id is too large") }
                position += 1
            }
            guard position > start else { throw error("expected a token id in '<[...]>'") }
            guard current == UInt8(ascii: "]"), peek(1) == UInt8(ascii: ">") else { throw error("expected ']>' after the token id") }
            position += 2
            return .token(.id(id), negated: negated)
        }
        let start = position
        while let byte = current, byte != UInt8(ascii: ">") { position += 1 }
        guard current == UInt8(ascii: ">") else { throw error("unterminated token: expected '>'") }
        let body = String(decoding: text[start..<position], as: UTF8.self)
        position += 1
        return .token(.text("<" + body + ">"), negated: negated)
    }

    private mutating func parseName() throws(GrammarError) -> String {
        let start = position
        while let byte = current, isWordCharacter(byte) { position += 1 }
        guard position > start else { throw error("expected a rule name") }
        return String(decoding: text[start..<position], as: UTF8.self)
    }

    /// One character of a string or class: an escape, or a UTF-8 encoded code point.
    private mutating func parseCharacter() throws(GrammarError) -> UInt32 {
        guard let byte = current else { throw error("unexpected end of the grammar") }
        if byte == UInt8(ascii: "\\") {
            guard let escape = peek(1) else { throw error("unexpected end of the grammar after '\\'") }
            switch escape {
            case UInt8(ascii: "x"): return try parseHex(digits: 2)
            case UInt8(ascii: "u"): return try parseHex(digits: 4)
            case UInt8(ascii: "U"): return try parseHex(digits: 8)
            case UInt8(ascii: "t"): position += 2; return 0x09
            case UInt8(ascii: "r"): position += 2; return 0x0D
            case UInt8(ascii: "n"): position += 2; return 0x0A
            case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "-"):
                position += 2
                return UInt32(escape)
            default:
                throw error("unknown escape '\\\(describe(escape))'")
            }
        }
        // A UTF-8 sequence; malformed bytes stand for themselves, as llama.cpp reads them.
        let length = byte < 0x80 ? 1 : byte >> 5 == 0b110 ? 2 : byte >> 4 == 0b1110 ? 3 : byte >> 3 == 0b11110 ? 4 : 1
        guard length > 1, position + length <= text.count else {
            position += 1
            return UInt32(byte)
        }
        var value = UInt32(byte) & (0xFF >> (length + 1))
        for offset in 1..<length {
            let next = text[position + offset]
            guard next & 0xC0 == 0x80 else {
                position += 1
                return UInt32(byte)
            }
            value = value << 6 | UInt32(next & 0x3F)
        }
        position += length
        return value
    }

    private mutating func parseHex(digits: Int) throws(GrammarError) -> UInt32 {
        let start = position
        position += 2
        var value: UInt32 = 0
        for _ in 0..<digits {
            guard let byte = current, let digit = hexValue(byte) else {
                position = start
                throw error("expected \(digits) hex digits after '\\\(describe(text[start + 1]))'")
            }
            value = value << 4 | digit
            position += 1
        }
        guard value <= 0x10FFFF else {
            position = start
            throw error("code point \\U\(String(value, radix: 16)) is beyond Unicode")
        }
        return value
    }

    /// Spaces, tabs and comments; newlines too when `newlines` (inside parentheses, after `|`).
    private mutating func skipSpace(newlines: Bool) {
        while let byte = current {
            if byte == UInt8(ascii: "#") {
                while let next = current, next != UInt8(ascii: "\n"), next != UInt8(ascii: "\r") { position += 1 }
            } else if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
                        || (newlines && (byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r"))) {
                position += 1
            } else {
                return
            }
        }
    }

    // MARK: Characters and errors

    private func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private func isWordCharacter(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || byte == UInt8(ascii: "-")
    }

    private func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    private func describe(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
    }

    private func lineAndColumn(_ offset: Int) -> (line: Int, column: Int) {
        let offset = min(offset, text.count)
        // The lines that start at or before the offset (a binary search: this is asked at
        // every rule, and a scan from the start would make many rules cost their square).
        var low = 0, high = lineStarts.count
        while low < high {
            let middle = (low + high) / 2
            if lineStarts[middle] <= offset { low = middle + 1 } else { high = middle }
        }
        let line = low + 1, lineStart = low == 0 ? 0 : lineStarts[low - 1]
        // Columns count characters: UTF-8 continuation bytes are skipped.
        let column = text[lineStart..<offset].filter { $0 & 0xC0 != 0x80 }.count + 1
        return (line, column)
    }

    private func error(_ message: String) -> GrammarError {
        let (line, column) = lineAndColumn(position)
        return GrammarError(message, line: line, column: column)
    }
}
