/// Writing GBNF: string literals and character classes with their escapes.
enum GBNFText {
    /// `text` as a GBNF string literal.
    static func literal(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars { out += escaped(scalar, inClass: false) }
        return out + "\""
    }

    /// A character class of these code points (negated: every other code point).
    static func characterClass(_ ranges: [ClosedRange<UInt32>], negated: Bool = false) -> String {
        var out = negated ? "[^" : "["
        for range in ranges {
            out += escaped(Unicode.Scalar(range.lowerBound) ?? "\u{FFFD}", inClass: true, value: range.lowerBound)
            if range.upperBound != range.lowerBound {
                out += "-" + escaped(Unicode.Scalar(range.upperBound) ?? "\u{FFFD}", inClass: true, value: range.upperBound)
            }
        }
        return out + "]"
    }

    /// One character as GBNF writes it: control characters, quotes, backslashes (and in a
    /// class, brackets, dashes and carets) escaped.
    static func escaped(_ scalar: Unicode.Scalar, inClass: Bool, value: UInt32? = nil) -> String {
        let value = value ?? scalar.value
        switch value {
        case 0x09: return "\\t"
        case 0x0A: return "\\n"
        case 0x0D: return "\\r"
        case 0x22: return "\\\""
        case 0x5C: return "\\\\"
        case 0x5B, 0x5D, 0x2D, 0x5E: return inClass ? "\\x" + hex(value, digits: 2) : String(scalar)
        case 0..<0x20, 0x7F: return "\\x" + hex(value, digits: 2)
        case 0xD800...0xDFFF, 0x110000...: return "\\u" + hex(value, digits: 4)
        default: return String(scalar)
        }
    }

    static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
