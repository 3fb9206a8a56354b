/// Characters inside a JSON string, as GBNF: what may stand as itself, and how the others
/// are escaped. The escapes `\uXXXX` never name a surrogate, so every string decodes to
/// valid Unicode and counts its characters as a validator does.
enum JSONStringGrammar {
    /// Any character of a JSON string (llama.cpp's, without DEL and surrogate escapes).
    static let char = #"[^"\\\x7F\x00-\x1F] | [\\] (["\\/bfnrt] | "u" ([0-9a-cA-CefEF] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2}))"#

    /// One code point as a JSON string writes it: itself, or its escape.
    static func encoded(_ codePoint: UInt32) -> String {
        if let escape = escape(codePoint) { return GBNFText.literal(escape) }
        return GBNFText.literal(String(Unicode.Scalar(codePoint).map(Character.init) ?? "\u{FFFD}"))
    }

    /// Alternatives for one character of `ranges` inside a JSON string.
    static func characters(_ ranges: [ClosedRange<UInt32>]) -> String {
        let mustEscape: [ClosedRange<UInt32>] = [0x00...0x1F, 0x22...0x22, 0x5C...0x5C]
        var raw: [ClosedRange<UInt32>] = []
        var escaped: [UInt32] = []
        for range in ranges {
            var low = range.lowerBound
            for special in mustEscape where special.overlaps(range) {
                if low < special.lowerBound { raw.append(low...(special.lowerBound - 1)) }
                escaped += Array(max(low, special.lowerBound)...min(range.upperBound, special.upperBound))
                low = special.upperBound + 1
            }
            if low <= range.upperBound { raw.append(low...range.upperBound) }
        }
        var alternatives: [String] = []
        if !raw.isEmpty { alternatives.append(GBNFText.characterClass(raw)) }
        alternatives += escaped.map { GBNFText.literal(escape($0)!) }
        return alternatives.joined(separator: " | ")
    }

    /// The JSON escape of a character that needs one.
    static func escape(_ codePoint: UInt32) -> String? {
        switch codePoint {
        case 0x22: return "\\\""
        case 0x5C: return "\\\\"
        case 0x0A: return "\\n"
        case 0x0D: return "\\r"
        case 0x09: return "\\t"
        case 0x08: return "\\b"
        case 0x0C: return "\\f"
        case 0..<0x20: return "\\u00" + GBNFText.hex(codePoint, digits: 2).lowercased()
        default: return nil
        }
    }
}
