/// A JSON value (RFC 8259), parsed straight from bytes: a `tokenizer.json` is megabytes of
/// vocabulary, and its strings must come out byte-exact (no normalization on the way).
///
/// It is also what chat templates are given (messages, tools, tool-call arguments), so it
/// keeps what Python's `json` keeps, since the templates were written for Python: integers
/// apart from floats (`1` prints as `1`, not `1.0`), object members in file order, and
/// `NaN`/`Infinity` accepted.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The member `key` of an object (nil for other values or a missing key).
    public subscript(key: String) -> JSONValue? {
        object?[key]
    }

    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// An integer, or a float with a whole value representable as Int.
    public var int: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 0x1p53: return Int(d)
        default: return nil
        }
    }

    public var array: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var object: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// An object's members in order.
    public var members: [(key: String, value: JSONValue)]? {
        object?.members
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Parses a whole document; the error says what is wrong and where.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONError) -> JSONValue {
        var parser = JSONParser(bytes: bytes.bindMemory(to: UInt8.self))
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.offset == parser.bytes.count else { throw parser.error("unexpected data after the JSON value") }
        return value
    }

    /// Parses JSON text; throws `JSONError`.
    public init(parsing text: String) throws {
        var utf8 = text
        self = try utf8.withUTF8 { try JSONValue.parse(UnsafeRawBufferPointer($0)) }
    }

    /// Parses JSON from its UTF-8 bytes (a request body), refusing strings that are not
    /// valid UTF-8; throws `JSONError`.
    public init(parsing bytes: [UInt8]) throws {
        self = try bytes.withUnsafeBytes { try JSONValue.parse($0) }
    }
}

/// A JSON object: its members in order, as parsed (a `tokenizer.json` vocabulary has
/// hundreds of thousands, so nothing is built for them but this list). Keys compare by
/// their exact code points, not by Unicode canonical equivalence (two vocabulary entries may
/// differ only in normalization). Should a document repeat a key, lookup finds the last value,
/// as Python's `json` keeps it.
public struct JSONObject: Sendable, Equatable, Sequence {
    public private(set) var members: [(key: String, value: JSONValue)] = []

    public init() {}

    /// An object with `pairs` in order (setting a key again replaces its value in place).
    public init(_ pairs: [(String, JSONValue)]) {
        for (key, value) in pairs { self[key] = value }
    }

    /// The member `key`; setting replaces its value in place, or appends it; nil removes it.
    public subscript(key: String) -> JSONValue? {
        get { index(of: key).map { members[$0].value } }
        set {
            switch (index(of: key), newValue) {
            case (let i?, let value?): members[i].value = value
            case (let i?, nil): members.remove(at: i)
            case (nil, let value?): members.append((key, value))
            case (nil, nil): break
            }
        }
    }

    /// Objects are small where keys are looked up (messages, schemas, configs): a scan wins.
    private func index(of key: String) -> Int? {
        members.lastIndex { $0.key.utf8.elementsEqual(key.utf8) }
    }

    /// Appends a member as parsed, without looking for an earlier one with the same key.
    mutating func appendParsed(_ key: String, _ value: JSONValue) {
        members.append((key, value))
    }

    /// The keys in order.
    public var keys: [String] { members.map(\.key) }
    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }

    /// The members in order.
    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        members.makeIterator()
    }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.members.count == b.members.count
            && zip(a.members, b.members).allSatisfy { $0.key.utf8.elementsEqual($1.key.utf8) && $0.value == $1.value }
    }
}

/// A string compared and hashed by its UTF-8 bytes (its code points), as Python compares
/// strings, where Swift's `String` would equate canonically equivalent spellings.
struct ExactString: Hashable, Sendable {
    let string: String

    init(_ string: String) { self.string = string }

    static func == (a: ExactString, b: ExactString) -> Bool { a.string.utf8.elementsEqual(b.string.utf8) }

    func hash(into hasher: inout Hasher) {
        var copy = string
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// Dictionary literals keep their source order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
}

/// Malformed JSON: what is wrong and where.
public struct JSONError: Error, Equatable, Sendable, CustomStringConvertible {
    public let problem: String
    /// Byte offset in the document, and the same place as 1-based line and column (in characters).
    public let offset: Int
    public let line: Int
    public let column: Int

    /// The problem and its byte offset ("expected ':' at byte 12").
    public var message: String { "\(problem) at byte \(offset)" }
    public var description: String { "\(problem) at line \(line), column \(column)" }
}

private struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var offset = 0
    /// Deeper nesting than any real file has is refused rather than overflowing the stack.
    static let maxDepth = 256

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    func error(_ problem: String) -> JSONError {
        var line = 1
        var lineStart = 0
        let end = min(offset, bytes.count)
        for i in 0..<end where bytes[i] == UInt8(ascii: "\n") {
            line += 1
            lineStart = i + 1
        }
        // Columns count characters: UTF-8 continuation bytes are skipped.
        let column = bytes[lineStart..<end].filter { $0 & 0xC0 != 0x80 }.count + 1
        return JSONError(problem: problem, offset: offset, line: line, column: column)
    }

    mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x0A, 0x0D, 0x09: offset += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        guard depth < Self.maxDepth else { throw error("JSON nested deeper than \(Self.maxDepth) levels") }
        guard offset < bytes.count else { throw error("unexpected end of JSON") }
        switch bytes[offset] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        // Python's json reads these non-standard words too.
        case UInt8(ascii: "N"): try expectWord("NaN"); return .double(.nan)
        case UInt8(ascii: "I"): try expectWord("Infinity"); return .double(.infinity)
        case UInt8(ascii: "-") where offset + 1 < bytes.count && bytes[offset + 1] == UInt8(ascii: "I"):
            offset += 1
            try expectWord("Infinity")
            return .double(-.infinity)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character '\(Unicode.Scalar(bytes[offset]))'")
        }
    }

    mutating func expectWord(_ word: StaticString) throws(JSONError) {
        let length = word.utf8CodeUnitCount
        guard offset + length <= bytes.count,
              UnsafeBufferPointer(start: word.utf8Start, count: length).elementsEqual(bytes[offset..<(offset + length)])
        else { throw error("invalid literal") }
        offset += length
    }

    mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
        offset += 1
        var object = JSONObject()
        skipWhitespace()
        if offset < bytes.count && bytes[offset] == UInt8(ascii: "}") {
            offset += 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { throw error("expected a member name") }
            let key = try parseString()
            skipWhitespace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: ":") else { throw error("expected ':'") }
            offset += 1
            skipWhitespace()
            object.appendParsed(key, try parseValue(depth: depth + 1))
            skipWhitespace()
            guard offset < bytes.count else { throw error("unexpected end of JSON in an object") }
            if bytes[offset] == UInt8(ascii: ",") {
                offset += 1
            } else if bytes[offset] == UInt8(ascii: "}") {
                offset += 1
                return .object(object)
            } else {
                throw error("expected ',' or '}'")
            }
        }
    }

    mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
        offset += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if offset < bytes.count && bytes[offset] == UInt8(ascii: "]") {
            offset += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard offset < bytes.count else { throw error("unexpected end of JSON in an array") }
            if bytes[offset] == UInt8(ascii: ",") {
                offset += 1
            } else if bytes[offset] == UInt8(ascii: "]") {
                offset += 1
                return .array(elements)
            } else {
                throw error("expected ',' or ']'")
            }
        }
    }

    /// `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`: an integer without fraction or
    /// exponent (a float if it does not fit in 64 bits), else a float.
    mutating func parseNumber() throws(JSONError) -> JSONValue {
        let start = offset
        let negative = bytes[offset] == UInt8(ascii: "-")
        if negative { offset += 1 }
        let integerStart = offset
        // The integer part is accumulated as it is scanned: token ids are most numbers read.
        var magnitude = 0
        var overflow = false
        while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) {
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(bytes[offset] - UInt8(ascii: "0")))
            overflow = overflow || o1 || o2
            magnitude = sum
            offset += 1
        }
        let integerDigits = offset - integerStart
        guard integerDigits > 0 else { throw error("invalid number") }
        guard bytes[integerStart] != UInt8(ascii: "0") || integerDigits == 1 else { throw error("invalid number (leading zero)") }
        var isInteger = true
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            offset += 1
            isInteger = false
            guard skipDigits() > 0 else { throw error("invalid number") }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
            offset += 1
            isInteger = false
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            guard skipDigits() > 0 else { throw error("invalid number") }
        }
        if isInteger && !overflow { return .int(negative ? -magnitude : magnitude) }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw error("invalid number '\(text)'") }
        return .double(value)
    }

    private mutating func skipDigits() -> Int {
        let from = offset
        while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) { offset += 1 }
        return offset - from
    }

    mutating func parseString() throws(JSONError) -> String {
        offset += 1  // opening quote
        let start = offset
        // Fast path: no escapes, the bytes are the string.
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                let raw = UnsafeBufferPointer(rebasing: bytes[start..<offset])
                guard UTF8Validation.isValid(raw) else { throw error("string is not valid UTF-8") }
                offset += 1
                return String(decoding: raw, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw error("control character in a string") }
            offset += 1
        }
        var out = Array(UnsafeBufferPointer(rebasing: bytes[start..<offset]))
        while offset < bytes.count {
            let byte = bytes[offset]
            offset += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard out.withUnsafeBufferPointer(UTF8Validation.isValid) else { throw error("string is not valid UTF-8") }
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard offset < bytes.count else { throw error("unexpected end of JSON in a string") }
                let escape = bytes[offset]
                offset += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var value = try parseHex4()
                    if (0xD800..<0xDC00).contains(value) {
                        guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u")
                        else { throw error("unpaired surrogate escape") }
                        offset += 2
                        let low = try parseHex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate escape") }
                        value = 0x10000 + (value - 0xD800) << 10 + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(value) else { throw error("unpaired surrogate escape") }
                    out += Array(String(scalar).utf8)
                default:
                    throw error("invalid escape '\\\(Unicode.Scalar(escape))'")
                }
            default:
                guard byte >= 0x20 else { throw error("control character in a string") }
                out.append(byte)
            }
        }
        throw error("unterminated string")
    }

    mutating func parseHex4() throws(JSONError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            offset += 1
        }
        return value
    }
}

/// Whether bytes are well-formed UTF-8 (no overlong forms, surrogates or values past
/// U+10FFFF), checked without the generic machinery of `String(validating:)`, which costs
/// more than the check itself for the 300k short strings of a tokenizer.json.
public enum UTF8Validation {
    public static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = bytes.count
        while i < n {
            let lead = bytes[i]
            if lead < 0x80 {
                i += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF  // allowed range of the second byte
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE, 0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return false
            }
            guard i + length <= n, (low...high).contains(bytes[i + 1]) else { return false }
            for k in 2..<length where bytes[i + k] & 0xC0 != 0x80 { return false }
            i += length
        }
        return true
    }
}
