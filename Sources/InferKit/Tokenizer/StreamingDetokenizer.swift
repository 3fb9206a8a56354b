/// Turns a stream of token ids into text without ever emitting half a UTF-8 character:
/// bytes of a character split across tokens are held until the character is complete.
public struct StreamingDetokenizer: Sendable {
    public let tokenizer: any Tokenizer
    private var pending: [UInt8] = []
    private var atStart = true

    public init(tokenizer: any Tokenizer) {
        self.tokenizer = tokenizer
    }

    /// The tokens to come continue earlier text: keep the leading space of the first one.
    public mutating func markContinuation() {
        atStart = false
    }

    /// Adds a token; returns the text that became complete (possibly empty).
    public mutating func append(_ id: Int) -> String {
        var bytes = tokenizer.bytes(of: id)
        if bytes.isEmpty { return "" }
        if atStart {
            atStart = false
            if tokenizer.stripsLeadingSpace && bytes.first == 0x20 { bytes.removeFirst() }
        }
        pending += bytes
        let complete = UTF8Boundary.completePrefixLength(pending)
        guard complete > 0 else { return "" }
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Text of bytes still held (an unfinished character becomes U+FFFD).
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }
}

enum UTF8Boundary {
    /// Length of the longest prefix that does not end inside an unfinished UTF-8 sequence.
    /// A malformed sequence counts as complete (it decodes to U+FFFD), so nothing stalls.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        // Look back at most 3 bytes for the lead byte of the last sequence.
        var i = n - 1
        var continuation = 0
        while i >= 0 && continuation < 3 && bytes[i] & 0xC0 == 0x80 {
            continuation += 1
            i -= 1
        }
        guard i >= 0 else { return n }
        let lead = bytes[i]
        let needed: Int
        switch lead {
        case 0xC0...0xDF: needed = 2
        case 0xE0...0xEF: needed = 3
        case 0xF0...0xF7: needed = 4
        default: return n
        }
        return continuation + 1 < needed ? i : n
    }
}
