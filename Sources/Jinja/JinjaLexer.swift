/// The small Jinja implementation behind `JinjaTemplate` (and so `ChatTemplate`): lexer, parser, AST and interpreter
/// for the subset of Jinja2 that chat templates use, with Jinja2's semantics as Hugging Face
/// `transformers` configures them. A caseless namespace keeps its many small types out of
/// InferKit's top level.
enum Jinja {}

extension Jinja {
    /// A 1-based position in the template source.
    struct Location: Equatable, Sendable {
        var line: Int
        var column: Int
    }

    struct Token: Equatable, Sendable {
        enum Kind: Equatable, Sendable {
            /// Literal template text between tags, whitespace control already applied.
            case text(String)
            case variableBegin, variableEnd, blockBegin, blockEnd
            case name(String)
            case string(String)
            case integer(Int)
            case float(Double)
            case op(String)
            case end
        }

        let kind: Kind
        let location: Location
    }

    /// Splits a template into text and tag tokens, reproducing Jinja2's lexer with
    /// `trim_blocks=True` and `lstrip_blocks=True` (what `transformers` uses):
    /// - `{%-`/`{{-`/`{#-` strip all whitespace before the tag, `-%}`/`-}}`/`-#}` all after it;
    /// - trim_blocks: the first newline after a block or comment tag is dropped;
    /// - lstrip_blocks: spaces and tabs from the start of a line to a block or comment tag
    ///   are dropped; `{%+` turns that off for one tag and `+%}` turns trim_blocks off;
    /// - newlines are normalized to `\n` and one trailing newline of the source is dropped.
    struct Lexer {
        private let s: [Unicode.Scalar]
        private let lineStarts: [Int]
        private var pos = 0
        /// Whether the last thing consumed ended a line (Jinja2's `line_starting`), which
        /// lets lstrip_blocks strip the indentation before a tag at the very start of a line.
        private var lineStarting = true
        private var tokens: [Token] = []

        static func tokenize(_ source: String) throws -> [Token] {
            var lexer = Lexer(source: normalizeNewlines(source))
            try lexer.run()
            return lexer.tokens
        }

        private init(source: [Unicode.Scalar]) {
            s = source
            var starts = [0]
            for (i, c) in source.enumerated() where c == "\n" { starts.append(i + 1) }
            lineStarts = starts
        }

        /// `\r\n` and `\r` become `\n`; one trailing newline is removed (keep_trailing_newline=False).
        private static func normalizeNewlines(_ source: String) -> [Unicode.Scalar] {
            var out: [Unicode.Scalar] = []
            out.reserveCapacity(source.unicodeScalars.count)
            var previousCR = false
            for c in source.unicodeScalars {
                if c == "\r" {
                    out.append("\n")
                    previousCR = true
                    continue
                }
                if c == "\n" && previousCR {
                    previousCR = false
                    continue
                }
                previousCR = false
                out.append(c)
            }
            if out.last == "\n" { out.removeLast() }
            return out
        }

        private func location(_ offset: Int) -> Location {
            var low = 0
            var high = lineStarts.count - 1
            while low < high {
                let mid = (low + high + 1) / 2
                if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
            }
            return Location(line: low + 1, column: offset - lineStarts[low] + 1)
        }

        private func failure(_ message: String, at offset: Int) -> ChatTemplateError {
            let l = location(offset)
            return ChatTemplateError(.syntax, message, line: l.line, column: l.column)
        }

        private func starts(with literal: String, at offset: Int) -> Bool {
            var i = offset
            for c in literal.unicodeScalars {
                guard i < s.count, s[i] == c else { return false }
                i += 1
            }
            return true
        }

        private mutating func emit(_ kind: Token.Kind, at offset: Int) {
            tokens.append(Token(kind: kind, location: location(offset)))
        }

        private func skipWhitespace(from offset: Int) -> Int {
            var i = offset
            while i < s.count, s[i].isPythonWhitespace { i += 1 }
            return i
        }

        private enum TagKind { case variable, block, comment }

        private mutating func run() throws {
            while pos < s.count {
                guard let (tagStart, kind) = nextTag(from: pos) else {
                    emit(.text(String(String.UnicodeScalarView(s[pos...]))), at: pos)
                    break
                }
                var afterOpener = tagStart + 2
                let sign: Unicode.Scalar? = afterOpener < s.count && (s[afterOpener] == "-" || s[afterOpener] == "+") ? s[afterOpener] : nil
                if sign != nil { afterOpener += 1 }
                let rawEnd = kind == .block ? rawBlockOpener(from: afterOpener) : nil
                emitText(from: pos, to: tagStart, sign: sign, strippable: kind != .variable)
                lineStarting = false
                if let rawEnd {
                    pos = rawEnd
                    lineStarting = s[pos - 1] == "\n"
                    try lexRawBody(openedAt: tagStart)
                    continue
                }
                pos = afterOpener
                switch kind {
                case .comment: try skipComment(openedAt: tagStart)
                case .variable, .block: try lexTag(kind, openedAt: tagStart)
                }
            }
            emit(.end, at: s.count)
        }

        /// The next `{{`, `{%` or `{#` at or after `offset`.
        private func nextTag(from offset: Int) -> (Int, TagKind)? {
            var i = offset
            while i + 1 < s.count {
                if s[i] == "{" {
                    switch s[i + 1] {
                    case "{": return (i, .variable)
                    case "%": return (i, .block)
                    case "#": return (i, .comment)
                    default: break
                    }
                }
                i += 1
            }
            return nil
        }

        /// Emits template text, applying `-` (strip all trailing whitespace) or lstrip_blocks
        /// (strip the indentation of a line holding only the tag), as Jinja2's OptionalLStrip.
        private mutating func emitText(from start: Int, to end: Int, sign: Unicode.Scalar?, strippable: Bool) {
            var textEnd = end
            if sign == "-" {
                while textEnd > start, s[textEnd - 1].isPythonWhitespace { textEnd -= 1 }
            } else if sign != "+" && strippable {
                var lineStart = end
                while lineStart > start, s[lineStart - 1] != "\n" { lineStart -= 1 }
                let newlineFound = lineStart > start
                if (newlineFound || lineStarting) && lineStart < end
                    && s[lineStart..<end].allSatisfy({ $0.isPythonWhitespace }) {
                    textEnd = lineStart
                }
            }
            if textEnd > start {
                emit(.text(String(String.UnicodeScalarView(s[start..<textEnd]))), at: start)
            }
        }

        /// After `{%` (and its sign): if the tag is `raw`, the offset after its `%}`.
        private func rawBlockOpener(from offset: Int) -> Int? {
            var i = skipWhitespace(from: offset)
            guard starts(with: "raw", at: i) else { return nil }
            i = skipWhitespace(from: i + 3)
            if starts(with: "-%}", at: i) { return skipWhitespace(from: i + 3) }
            if starts(with: "%}", at: i) { return i + 2 }
            return nil
        }

        private mutating func lexRawBody(openedAt start: Int) throws {
            var i = pos
            while i < s.count {
                if starts(with: "{%", at: i) {
                    var j = i + 2
                    let sign: Unicode.Scalar? = j < s.count && (s[j] == "-" || s[j] == "+") ? s[j] : nil
                    if sign != nil { j += 1 }
                    j = skipWhitespace(from: j)
                    if starts(with: "endraw", at: j) {
                        j = skipWhitespace(from: j + 6)
                        if let after = blockEnd(at: j) {
                            emitText(from: pos, to: i, sign: sign, strippable: true)
                            pos = after
                            lineStarting = s[pos - 1] == "\n"
                            return
                        }
                    }
                }
                i += 1
            }
            throw failure("missing end of raw directive ({% endraw %})", at: start)
        }

        /// If a block end (`+%}`, `-%}` + whitespace, or `%}` + one newline) is at `offset`,
        /// the offset after it.
        private func blockEnd(at offset: Int) -> Int? {
            if starts(with: "+%}", at: offset) { return offset + 3 }
            if starts(with: "-%}", at: offset) { return skipWhitespace(from: offset + 3) }
            if starts(with: "%}", at: offset) {
                return offset + 2 < s.count && s[offset + 2] == "\n" ? offset + 3 : offset + 2
            }
            return nil
        }

        private mutating func skipComment(openedAt start: Int) throws {
            var i = pos
            while i < s.count {
                var after: Int?
                if starts(with: "+#}", at: i) {
                    after = i + 3
                } else if starts(with: "-#}", at: i) {
                    after = skipWhitespace(from: i + 3)
                } else if starts(with: "#}", at: i) {
                    after = i + 2 < s.count && s[i + 2] == "\n" ? i + 3 : i + 2
                }
                if let after {
                    pos = after
                    lineStarting = s[after - 1] == "\n"
                    return
                }
                i += 1
            }
            throw failure("missing end of comment tag (#})", at: start)
        }

        private mutating func lexTag(_ kind: TagKind, openedAt start: Int) throws {
            emit(kind == .block ? .blockBegin : .variableBegin, at: start)
            var brackets: [(closer: Unicode.Scalar, offset: Int)] = []
            while true {
                guard pos < s.count else {
                    if let open = brackets.last { throw failure("unclosed '\(bracketOpener(open.closer))'", at: open.offset) }
                    throw failure(kind == .block ? "missing end of block tag (%})" : "missing end of expression (}})", at: start)
                }
                if brackets.isEmpty {
                    if kind == .block, let after = blockEnd(at: pos) {
                        emit(.blockEnd, at: pos)
                        pos = after
                        lineStarting = s[pos - 1] == "\n"
                        return
                    }
                    if kind == .variable {
                        var after: Int?
                        if starts(with: "-}}", at: pos) { after = skipWhitespace(from: pos + 3) }
                        else if starts(with: "}}", at: pos) { after = pos + 2 }
                        if let after {
                            emit(.variableEnd, at: pos)
                            pos = after
                            lineStarting = s[pos - 1] == "\n"
                            return
                        }
                    }
                }
                let c = s[pos]
                if c.isPythonWhitespace {
                    pos += 1
                } else if let (end, value) = float(at: pos) {
                    emit(.float(value), at: pos)
                    pos = end
                } else if let (end, value) = try integer(at: pos) {
                    emit(.integer(value), at: pos)
                    pos = end
                } else if c.properties.isXIDStart || c == "_" {
                    var end = pos + 1
                    while end < s.count, s[end].properties.isXIDContinue { end += 1 }
                    emit(.name(String(String.UnicodeScalarView(s[pos..<end]))), at: pos)
                    pos = end
                } else if c == "'" || c == "\"" {
                    try lexString()
                } else if let op = Lexer.operators.first(where: { starts(with: $0, at: pos) }) {
                    let opener = op.unicodeScalars.first!
                    if opener == "(" || opener == "[" || opener == "{" {
                        brackets.append((closer: opener == "(" ? ")" : opener == "[" ? "]" : "}", offset: pos))
                    } else if opener == ")" || opener == "]" || opener == "}" {
                        guard let open = brackets.popLast() else { throw failure("unexpected '\(op)'", at: pos) }
                        guard open.closer == opener else { throw failure("unexpected '\(op)', expected '\(open.closer)'", at: pos) }
                    }
                    emit(.op(op), at: pos)
                    pos += op.unicodeScalars.count
                } else {
                    throw failure("unexpected character '\(c)'", at: pos)
                }
            }
        }

        private func bracketOpener(_ closer: Unicode.Scalar) -> String {
            closer == ")" ? "(" : closer == "]" ? "[" : "{"
        }

        /// Longest first, as Jinja2's operator regex.
        private static let operators = ["//", "**", "==", "!=", ">=", "<=",
                                        "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}",
                                        ">", "<", "=", ".", ":", "|", ",", ";"]

        private static func digitValue(_ c: Unicode.Scalar) -> Int? {
            switch c {
            case "0"..."9": return Int(c.value - 48)
            case "a"..."z": return Int(c.value - 97 + 10)
            case "A"..."Z": return Int(c.value - 65 + 10)
            default: return nil
            }
        }

        /// Digits with single underscores between them (`1_000`), Jinja2's `(\d+_)*\d+`.
        private func digitRun(at offset: Int, radix: Int = 10) -> Int? {
            var i = offset
            guard i < s.count, Lexer.digitValue(s[i]).map({ $0 < radix }) == true else { return nil }
            while i < s.count {
                if Lexer.digitValue(s[i]).map({ $0 < radix }) == true {
                    i += 1
                } else if s[i] == "_", i + 1 < s.count, Lexer.digitValue(s[i + 1]).map({ $0 < radix }) == true {
                    i += 1
                } else {
                    break
                }
            }
            return i
        }

        /// `1.5`, `1e3`, `1.5E-3` (never right after a dot, so `x.0.1` stays subscripts).
        private func float(at offset: Int) -> (Int, Double)? {
            guard offset == 0 || s[offset - 1] != "." else { return nil }
            guard let intEnd = digitRun(at: offset) else { return nil }
            var end = intEnd
            var hasFraction = false
            if end < s.count, s[end] == ".", let fractionEnd = digitRun(at: end + 1) {
                end = fractionEnd
                hasFraction = true
            }
            var hasExponent = false
            if end < s.count, s[end] == "e" || s[end] == "E" {
                var i = end + 1
                if i < s.count, s[i] == "+" || s[i] == "-" { i += 1 }
                if let exponentEnd = digitRun(at: i) {
                    end = exponentEnd
                    hasExponent = true
                }
            }
            guard hasFraction || hasExponent else { return nil }
            let text = String(String.UnicodeScalarView(s[offset..<end].filter { $0 != "_" }))
            return Double(text).map { (end, $0) }
        }

        /// Decimal, `0b`, `0o` and `0x` integers with optional underscores.
        private func integer(at offset: Int) throws -> (Int, Int)? {
            guard offset < s.count, ("0"..."9").contains(s[offset]) else { return nil }
            if s[offset] == "0", offset + 1 < s.count {
                let radix: Int? = switch s[offset + 1] {
                case "b", "B": 2
                case "o", "O": 8
                case "x", "X": 16
                default: nil
                }
                var digitsStart = offset + 2
                if digitsStart < s.count, s[digitsStart] == "_" { digitsStart += 1 }
                if let radix, let end = digitRun(at: digitsStart, radix: radix) {
                    return try value(s[digitsStart..<end], radix: radix, end: end)
                }
            }
            // `0(_?0)*`: a leading zero is only followed by more zeros.
            if s[offset] == "0" {
                var end = offset + 1
                while end < s.count {
                    if s[end] == "0" { end += 1 }
                    else if s[end] == "_", end + 1 < s.count, s[end + 1] == "0" { end += 2 }
                    else { break }
                }
                return (end, 0)
            }
            let end = digitRun(at: offset)!
            return try value(s[offset..<end], radix: 10, end: end)

            func value(_ digits: ArraySlice<Unicode.Scalar>, radix: Int, end: Int) throws -> (Int, Int) {
                let text = String(String.UnicodeScalarView(digits.filter { $0 != "_" }))
                guard let v = Int(text, radix: radix) else {
                    throw failure("integer literal \(text) does not fit in 64 bits", at: offset)
                }
                return (end, v)
            }
        }

        private mutating func lexString() throws {
            let quote = s[pos]
            let start = pos
            var i = pos + 1
            while i < s.count, s[i] != quote {
                i += s[i] == "\\" ? 2 : 1
            }
            guard i < s.count else { throw failure("unterminated string literal", at: start) }
            let value = try unescape(s[(start + 1)..<i], at: start)
            emit(.string(value), at: start)
            pos = i + 1
        }

        /// Python's `unicode-escape` decoding, which Jinja2 applies to string literals:
        /// `\n \t \r \\ \' \" \a \b \f \v`, octal `\ooo`, `\xhh`, `\uhhhh`, `\Uhhhhhhhh`, a
        /// backslash-newline is removed, and an unknown escape keeps its backslash.
        private func unescape(_ body: ArraySlice<Unicode.Scalar>, at offset: Int) throws -> String {
            var out = String.UnicodeScalarView()
            var i = body.startIndex
            while i < body.endIndex {
                let c = body[i]
                guard c == "\\", i + 1 < body.endIndex else {
                    out.append(c)
                    i += 1
                    continue
                }
                let e = body[i + 1]
                i += 2
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "\\": out.append("\\")
                case "'": out.append("'")
                case "\"": out.append("\"")
                case "a": out.append("\u{07}")
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "v": out.append("\u{0B}")
                case "\n": break
                case "0"..."7":
                    var value = e.value - 48
                    var count = 1
                    while count < 3, i < body.endIndex, ("0"..."7").contains(body[i]) {
                        value = value * 8 + body[i].value - 48
                        i += 1
                        count += 1
                    }
                    out.append(Unicode.Scalar(value)!)
                case "x", "u", "U":
                    let width = e == "x" ? 2 : e == "u" ? 4 : 8
                    guard body.endIndex - i >= width,
                          let value = UInt32(String(String.UnicodeScalarView(body[i..<i + width])), radix: 16),
                          let scalar = Unicode.Scalar(value)
                    else { throw failure("invalid \\\(e) escape in a string literal", at: offset) }
                    out.append(scalar)
                    i += width
                default:
                    out.append("\\")
                    out.append(e)
                }
            }
            return String(out)
        }
    }
}

extension Unicode.Scalar {
    /// Python's `str.isspace()` (and `\s` in its regular expressions), which Jinja2's
    /// whitespace control and the `trim` filter use: broader than ASCII whitespace.
    var isPythonWhitespace: Bool {
        switch value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }
}
