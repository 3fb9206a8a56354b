/// GBNF for the integers of a range as JSON writes them (no leading zeros, no "-0"), for
/// `minimum` and `maximum`. Digit by digit: a range of numbers with the same count of digits
/// is its lowest number's first digit followed by the rest of the way up from there, the
/// whole digits between, and its highest number's first digit followed by the way up to it.
enum IntegerRangeGrammar {
    /// Where a bound is open, numbers stay below 10^16 (as llama.cpp's integers do), so
    /// that a model cannot write digits forever.
    static let limit: Int64 = 9_999_999_999_999_999

    /// Alternatives for the integers in [min, max] (nil: open), or nil when there are none.
    static func expression(min: Int64?, max: Int64?) -> String? {
        let low = Swift.max(min ?? -limit, -limit), high = Swift.min(max ?? limit, limit)
        guard low <= high else { return nil }
        var alternatives: [String] = []
        if low < 0 {
            // Negative numbers: "-" and the magnitudes from max(1, -high) to -low.
            let magnitudes = nonNegative(high < 0 ? -high : 1, -low)
            alternatives.append("\"-\" (" + magnitudes.joined(separator: " | ") + ")")
        }
        if high >= 0 { alternatives += nonNegative(Swift.max(low, 0), high) }
        return alternatives.joined(separator: " | ")
    }

    /// Alternatives for [low, high], 0 <= low <= high, one per count of digits.
    static func nonNegative(_ low: Int64, _ high: Int64) -> [String] {
        var alternatives: [String] = []
        var power: Int64 = 1  // 10^(digits - 1)
        for digits in 1...17 {
            let first = digits == 1 ? 0 : power, last = power > Int64.max / 10 ? Int64.max : power * 10 - 1
            let from = Swift.max(low, first), to = Swift.min(high, last)
            if from <= to { alternatives.append(sameLength(Array(String(from).utf8), Array(String(to).utf8))) }
            if last >= high { break }
            power *= 10
        }
        return alternatives
    }

    /// The digit strings of one length from `low` to `high` (as text, equal lengths).
    private static func sameLength(_ low: [UInt8], _ high: [UInt8]) -> String {
        let shared = zip(low, high).prefix { $0 == $1 }.count
        if shared == low.count { return GBNFText.literal(String(decoding: low, as: UTF8.self)) }
        let prefix = shared > 0 ? GBNFText.literal(String(decoding: low[..<shared], as: UTF8.self)) + " " : ""
        let a = low[shared], b = high[shared]
        let lowRest = Array(low[(shared + 1)...]), highRest = Array(high[(shared + 1)...])
        let rest = lowRest.count
        if rest == 0 { return prefix + digits(a, b) }
        var alternatives: [String] = []
        let lowRestIsZeros = lowRest.allSatisfy { $0 == UInt8(ascii: "0") }
        let highRestIsNines = highRest.allSatisfy { $0 == UInt8(ascii: "9") }
        var middleFrom = a, middleTo = b
        if !lowRestIsZeros {
            alternatives.append(digits(a, a) + " " + sameLength(lowRest, Array(repeating: UInt8(ascii: "9"), count: rest)))
            middleFrom = a + 1
        }
        if !highRestIsNines { middleTo = b - 1 }
        if middleFrom <= middleTo { alternatives.append(digits(middleFrom, middleTo) + " " + anyDigits(rest)) }
        if !highRestIsNines {
            alternatives.append(digits(b, b) + " " + sameLength(Array(repeating: UInt8(ascii: "0"), count: rest), highRest))
        }
        let body = alternatives.count == 1 ? alternatives[0] : "(" + alternatives.joined(separator: " | ") + ")"
        return prefix + body
    }

    private static func digits(_ a: UInt8, _ b: UInt8) -> String {
        a == b ? "[\(UnicodeScalar(a))]" : "[\(UnicodeScalar(a))-\(UnicodeScalar(b))]"
    }

    private static func anyDigits(_ count: Int) -> String {
        count == 1 ? "[0-9]" : "[0-9]{\(count)}"
    }
}
