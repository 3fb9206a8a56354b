import Foundation

/// Values as Python prints them: `{{ value }}` and `~` use `str()`, containers show their
/// items with `repr()` (`['a', None, True, 1.5]`), so a template printing a list or a dict
/// gives what it gives under transformers.
extension Jinja.Interpreter {
    /// Python `str()`; undefined prints as "".
    func string(of value: Value) throws -> String {
        switch value {
        case .string(let s), .markup(let s): return s
        case .undefined: return ""
        case .null: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let f): return pythonFloatRepr(f)
        default: return try repr(value)
        }
    }

    /// Python `repr()`.
    func repr(_ value: Value) throws -> String {
        var out = ""
        try appendRepr(value, to: &out, depth: 0)
        return out
    }

    private func appendRepr(_ value: Value, to out: inout String, depth: Int) throws {
        guard depth < Jinja.maxValueDepth else {
            throw Failure("values nest deeper than \(Jinja.maxValueDepth) levels", kind: .limitExceeded)
        }
        func items(_ values: [Value], open: String, close: String) throws {
            out += open
            for (i, item) in values.enumerated() {
                if i > 0 { out += ", " }
                try tick()
                try appendRepr(item, to: &out, depth: depth + 1)
                try checkSize(out)
            }
            out += close
        }
        switch value {
        case .undefined: out += "Undefined"
        case .string(let s): out += pythonStringRepr(s)
        case .markup(let s): out += "Markup(\(pythonStringRepr(s)))"
        case .list(let values): try items(values, open: "[", close: "]")
        case .tuple(let values): try items(values, open: "(", close: values.count == 1 ? ",)" : ")")
        case .dict(let d): try appendDict(d, to: &out, depth: depth)
        case .namespace(let ns):
            out += "<Namespace "
            try appendDict(ns.attributes, to: &out, depth: depth)
            out += ">"
        case .function(let f): out += f.isMacro ? "<Macro '\(f.name)'>" : "<built-in function \(f.name)>"
        case .loop(let state): out += "<LoopContext \(state.index0 + 1)/\(state.items.count)>"
        case .iterator(let state): out += "<\(state.typeName) object>"
        case .null, .bool, .int, .float: out += try string(of: value)
        }
    }

    private func appendDict(_ d: Jinja.Dict, to out: inout String, depth: Int) throws {
        out += "{"
        for (i, (key, item)) in d.pairs.enumerated() {
            if i > 0 { out += ", " }
            try tick()
            try appendRepr(key, to: &out, depth: depth + 1)
            out += ": "
            try appendRepr(item, to: &out, depth: depth + 1)
            try checkSize(out)
        }
        out += "}"
    }

    /// Python's printf-style `format % arguments` (the `%` operator on strings and the
    /// `format` filter): `%s %r %d %i %f %e %g %x %o %c %%` with flags, width, precision,
    /// and `%(name)s` with a dict.
    func percentFormat(_ format: String, _ arguments: Value) throws -> String {
        var positional: [Value]
        var mapping: Jinja.Dict?
        switch arguments {
        case .tuple(let items): positional = items
        case .dict(let d): positional = [arguments]; mapping = d
        default: positional = [arguments]
        }
        let chars = Array(format.unicodeScalars)
        var out = String.UnicodeScalarView()
        var outBytes = format.utf8.count  // the format's own text, at most
        var i = 0
        var next = 0
        func nextArgument() throws -> Value {
            guard next < positional.count else { throw Failure("not enough arguments for format string") }
            defer { next += 1 }
            return positional[next]
        }
        while i < chars.count {
            guard chars[i] == "%" else {
                out.append(chars[i])
                i += 1
                continue
            }
            i += 1
            guard i < chars.count else { throw Failure("incomplete format") }
            var argument: Value?
            if chars[i] == "(" {
                guard let close = chars[i...].firstIndex(of: ")"), let mapping else { throw Failure("format requires a mapping") }
                let key = String(String.UnicodeScalarView(chars[(i + 1)..<close]))
                guard let value = mapping.get(key) else { throw Failure("KeyError: '\(key)'") }
                argument = value
                i = close + 1
            }
            var flags = Set<Unicode.Scalar>()
            while i < chars.count, "-+ 0#".unicodeScalars.contains(chars[i]) {
                flags.insert(chars[i])
                i += 1
            }
            func number() throws -> Int? {
                if i < chars.count, chars[i] == "*" {
                    i += 1
                    guard let n = try nextArgument().integer else { throw Failure("* wants int") }
                    return n
                }
                var digits = ""
                while i < chars.count, ("0"..."9").contains(chars[i]) {
                    digits.unicodeScalars.append(chars[i])
                    i += 1
                }
                if digits.isEmpty { return nil }
                return Int(digits) ?? Int.max
            }
            let width = try number()
            var precision: Int?
            if i < chars.count, chars[i] == "." {
                i += 1
                precision = try number() ?? 0
            }
            // A width or precision pads (or, for %f, writes digits) up to its size: past the
            // output limit it is refused before anything is made. Digits beyond an Int are too.
            for size in [width, precision] where size.map({ $0 > limits.maxOutputBytes }) ?? false {
                throw Failure("the string would exceed \(limits.maxOutputBytes) bytes", kind: .limitExceeded)
            }
            guard i < chars.count else { throw Failure("incomplete format") }
            let conversion = chars[i]
            i += 1
            if conversion == "%" {
                out.append("%")
                continue
            }
            let value = try argument ?? nextArgument()
            var text: String
            switch conversion {
            case "s": text = try string(of: value)
            case "r", "a": text = try repr(value)
            case "d", "i", "u":
                let n: Int
                if let integer = value.integer {
                    n = integer
                } else if let x = value.number {
                    // A float past an Int (Python would print all its digits), infinity or NaN.
                    guard let integer = Int(exactly: x.rounded(.towardZero)) else {
                        throw Failure("%\(conversion) format: cannot convert \(x) to an integer")
                    }
                    n = integer
                } else {
                    throw Failure("%\(conversion) format: a real number is required, not \(value.typeName)")
                }
                text = String(n.magnitude)
                if let precision { text = String(repeating: "0", count: max(0, precision - text.count)) + text }
                text = (n < 0 ? "-" : flags.contains("+") ? "+" : flags.contains(" ") ? " " : "") + text
            case "x", "X", "o":
                guard let n = value.integer else { throw Failure("%\(conversion) format: an integer is required, not \(value.typeName)") }
                text = String(n.magnitude, radix: conversion == "o" ? 8 : 16, uppercase: conversion == "X")
                if flags.contains("#") { text = (conversion == "o" ? "0o" : conversion == "x" ? "0x" : "0X") + text }
                text = (n < 0 ? "-" : flags.contains("+") ? "+" : "") + text
            case "f", "F", "e", "E", "g", "G":
                guard let x = value.number else { throw Failure("must be real number, not \(value.typeName)") }
                let sign = flags.contains("+") ? "+" : flags.contains(" ") ? " " : ""
                text = String(format: "%\(sign)\(flags.contains("#") ? "#" : "").\(precision ?? 6)\(conversion)", x)
            case "c":
                if let n = value.integer, let scalar = Unicode.Scalar(UInt32(clamping: n)) { text = String(scalar) }
                else if let s = value.stringValue, s.unicodeScalars.count == 1 { text = s }
                else { throw Failure("%c requires int or char") }
            default:
                throw Failure("unsupported format character '\(conversion)'")
            }
            if conversion == "s" || conversion == "r", let precision {
                text = String(String.UnicodeScalarView(text.unicodeScalars.prefix(precision)))
            }
            if let width, text.unicodeScalars.count < width {
                let padding = width - text.unicodeScalars.count
                if flags.contains("-") {
                    text += String(repeating: " ", count: padding)
                } else if flags.contains("0") && conversion != "s" && conversion != "r" {
                    let signed = text.first.map { "+- ".contains($0) } ?? false
                    let body = signed ? String(text.dropFirst()) : text
                    text = (signed ? String(text.first!) : "") + String(repeating: "0", count: padding) + body
                } else {
                    text = String(repeating: " ", count: padding) + text
                }
            }
            outBytes += text.utf8.count
            if outBytes > limits.maxOutputBytes {
                throw Failure("the string would exceed \(limits.maxOutputBytes) bytes", kind: .limitExceeded)
            }
            out.append(contentsOf: text.unicodeScalars)
        }
        // Python skips this check for any argument with `__getitem__` (lists too), not just dicts.
        var subscriptable = mapping != nil
        if case .list = arguments { subscriptable = true }
        if case .undefined = arguments { subscriptable = true }
        if !subscriptable && next < positional.count {
            throw Failure("not all arguments converted during string formatting")
        }
        return String(out)
    }
}

/// Python's `repr(float)`: the shortest digits that round-trip, in fixed notation when the
/// decimal exponent is in -4..<16, else scientific with at least two exponent digits
/// (`1e-05`, `1e+16`, `9100000000000000.0`, `0.1`).
func pythonFloatRepr(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value < 0 ? "-inf" : "inf" }
    if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
    // Swift's description also prints the shortest round-tripping digits; only the layout
    // differs, so take its digits and exponent and lay them out as Python does.
    var text = Swift.abs(value).description
    var exponent = 0
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        exponent = Int(text[text.index(after: e)...])!
        text = String(text[..<e])
    }
    var digits = text.replacingOccurrences(of: ".", with: "")
    var pointPosition = (text.firstIndex(of: ".").map { text.distance(from: text.startIndex, to: $0) } ?? text.count) + exponent
    while digits.hasPrefix("0") && digits.count > 1 {
        digits.removeFirst()
        pointPosition -= 1
    }
    while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
    let sign = value < 0 ? "-" : ""
    // `pointPosition` is Python's `decpt`: the value is 0.<digits> × 10^decpt.
    if pointPosition > -4 && pointPosition <= 16 {
        if pointPosition <= 0 {
            return sign + "0." + String(repeating: "0", count: -pointPosition) + digits
        }
        if pointPosition >= digits.count {
            return sign + digits + String(repeating: "0", count: pointPosition - digits.count) + ".0"
        }
        let split = digits.index(digits.startIndex, offsetBy: pointPosition)
        return sign + digits[..<split] + "." + digits[split...]
    }
    let mantissa = digits.count == 1 ? digits : String(digits.first!) + "." + digits.dropFirst()
    let e = pointPosition - 1
    return sign + mantissa + "e" + (e < 0 ? "-" : "+") + (Swift.abs(e) < 10 ? "0" : "") + String(Swift.abs(e))
}

/// Python's `repr(str)`: single quotes unless the text has a single quote and no double
/// quote; backslash escapes for the quote, `\\`, `\n`, `\r`, `\t` and unprintable characters.
func pythonStringRepr(_ s: String) -> String {
    let quote: Unicode.Scalar = s.unicodeScalars.contains("'") && !s.unicodeScalars.contains("\"") ? "\"" : "'"
    var out = String.UnicodeScalarView()
    out.append(quote)
    for c in s.unicodeScalars {
        switch c {
        case quote, "\\":
            out.append("\\")
            out.append(c)
        case "\n": out.append(contentsOf: "\\n".unicodeScalars)
        case "\r": out.append(contentsOf: "\\r".unicodeScalars)
        case "\t": out.append(contentsOf: "\\t".unicodeScalars)
        default:
            if c.isPythonPrintable {
                out.append(c)
            } else {
                let escaped = c.value <= 0xFF ? "\\x" + hexDigits(c.value, width: 2)
                    : c.value <= 0xFFFF ? "\\u" + hexDigits(c.value, width: 4)
                    : "\\U" + hexDigits(c.value, width: 8)
                out.append(contentsOf: escaped.unicodeScalars)
            }
        }
    }
    out.append(quote)
    return String(out)
}

/// Lower-case hex, zero-padded to `width` digits, as Python's escapes write it.
func hexDigits(_ value: UInt32, width: Int) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}

/// markupsafe's `escape`: what `Markup + str` applies to the plain string.
func escapeHTML(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for c in s.unicodeScalars {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "'": out += "&#39;"
        case "\"": out += "&#34;"
        default: out.unicodeScalars.append(c)
        }
    }
    return out
}

extension Unicode.Scalar {
    /// Python's `str.isprintable()` for one character: everything but control, format,
    /// surrogate, private-use, unassigned and separator characters, except the space.
    var isPythonPrintable: Bool {
        if self == " " { return true }
        switch properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned,
             .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }
}
