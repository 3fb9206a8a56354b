/// A set of bytes, as 256 bits: what one position of a byte-level terminal accepts.
struct ByteSet: Hashable, Sendable {
    private(set) var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init() {}

    init(_ range: ClosedRange<UInt8>) {
        for byte in range { insert(byte) }
    }

    func contains(_ byte: UInt8) -> Bool {
        let bit = UInt64(1) << (byte & 63)
        switch byte >> 6 {
        case 0: return words.0 & bit != 0
        case 1: return words.1 & bit != 0
        case 2: return words.2 & bit != 0
        default: return words.3 & bit != 0
        }
    }

    mutating func insert(_ byte: UInt8) {
        let bit = UInt64(1) << (byte & 63)
        switch byte >> 6 {
        case 0: words.0 |= bit
        case 1: words.1 |= bit
        case 2: words.2 |= bit
        default: words.3 |= bit
        }
    }

    mutating func formUnion(_ other: ByteSet) {
        words = (words.0 | other.words.0, words.1 | other.words.1, words.2 | other.words.2, words.3 | other.words.3)
    }

    static func == (a: ByteSet, b: ByteSet) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}

/// Code point ranges as the UTF-8 byte sequences that encode them: each sequence is a byte
/// set per position, so that a character class can be matched one byte at a time and a token
/// may end inside a character. Surrogates (U+D800–U+DFFF) are left out: they have no UTF-8
/// encoding.
enum UTF8Sequences {
    static let maxCodePoint: UInt32 = 0x10FFFF

    /// The code points outside `ranges` (what a negated class matches).
    static func complement(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var result: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for range in normalized(ranges) {
            if range.lowerBound > next { result.append(next...(range.lowerBound - 1)) }
            if range.upperBound >= maxCodePoint { return result }
            next = range.upperBound + 1
        }
        result.append(next...maxCodePoint)
        return result
    }

    /// Sorted, merged ranges clipped to Unicode.
    static func normalized(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var result: [ClosedRange<UInt32>] = []
        for range in ranges.filter({ $0.lowerBound <= maxCodePoint }).sorted(by: { $0.lowerBound < $1.lowerBound }) {
            let clipped = range.lowerBound...min(range.upperBound, maxCodePoint)
            if let last = result.last, clipped.lowerBound <= last.upperBound &+ 1 {
                result[result.count - 1] = last.lowerBound...max(last.upperBound, clipped.upperBound)
            } else {
                result.append(clipped)
            }
        }
        return result
    }

    /// The byte sequences of every code point in `ranges`; sequences that differ only in
    /// their first byte are merged into one.
    static func sequences(_ ranges: [ClosedRange<UInt32>]) -> [[ByteSet]] {
        var raw: [[ClosedRange<UInt8>]] = []
        for range in normalized(ranges) {
            // Surrogates have no encoding.
            if range.lowerBound < 0xD800 && range.upperBound > 0xDFFF {
                split(range.lowerBound, 0xD7FF, into: &raw)
                split(0xE000, range.upperBound, into: &raw)
            } else if range.upperBound < 0xD800 || range.lowerBound > 0xDFFF {
                split(range.lowerBound, range.upperBound, into: &raw)
            } else {
                if range.lowerBound < 0xD800 { split(range.lowerBound, 0xD7FF, into: &raw) }
                if range.upperBound > 0xDFFF { split(0xE000, range.upperBound, into: &raw) }
            }
        }
        // Merge by tail: [C2-C3][80-BF] and [C4-DF][80-BF] become [C2-DF][80-BF].
        var order: [[ClosedRange<UInt8>]] = []
        var firsts: [[ClosedRange<UInt8>]: ByteSet] = [:]
        for sequence in raw {
            let tail = Array(sequence.dropFirst())
            if firsts[tail] == nil {
                order.append(tail)
                firsts[tail] = ByteSet()
            }
            firsts[tail]!.formUnion(ByteSet(sequence[0]))
        }
        return order.map { tail in [firsts[tail]!] + tail.map { ByteSet($0) } }
    }

    /// Splits [low, high] until each piece's encodings are one byte range per position
    /// (the construction RE2 and the utf8-ranges crate use).
    private static func split(_ low: UInt32, _ high: UInt32, into result: inout [[ClosedRange<UInt8>]]) {
        guard low <= high else { return }
        // Pieces of one encoded length.
        for boundary: UInt32 in [0x7F, 0x7FF, 0xFFFF] where low <= boundary && high > boundary {
            split(low, boundary, into: &result)
            split(boundary + 1, high, into: &result)
            return
        }
        if high <= 0x7F {
            result.append([UInt8(low)...UInt8(high)])
            return
        }
        let length = encode(high).count
        for continuation in 1..<length {
            let mask: UInt32 = (1 << (6 * UInt32(continuation))) - 1
            if low & ~mask != high & ~mask {
                if low & mask != 0 {
                    split(low, low | mask, into: &result)
                    split((low | mask) + 1, high, into: &result)
                    return
                }
                if high & mask != mask {
                    split(low, (high & ~mask) - 1, into: &result)
                    split(high & ~mask, high, into: &result)
                    return
                }
            }
        }
        result.append(zip(encode(low), encode(high)).map { $0...$1 })
    }

    /// The UTF-8 encoding of a code point (no validity check: surrogates are split off before).
    static func encode(_ codePoint: UInt32) -> [UInt8] {
        switch codePoint {
        case 0..<0x80:
            return [UInt8(codePoint)]
        case 0x80..<0x800:
            return [UInt8(0xC0 | codePoint >> 6), UInt8(0x80 | codePoint & 0x3F)]
        case 0x800..<0x10000:
            return [UInt8(0xE0 | codePoint >> 12), UInt8(0x80 | codePoint >> 6 & 0x3F), UInt8(0x80 | codePoint & 0x3F)]
        default:
            return [UInt8(0xF0 | codePoint >> 18), UInt8(0x80 | codePoint >> 12 & 0x3F),
                    UInt8(0x80 | codePoint >> 6 & 0x3F), UInt8(0x80 | codePoint & 0x3F)]
        }
    }
}
