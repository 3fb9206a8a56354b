// The JSON parser (request bodies, tokenizer.json, tokenizer_config.json, messages given to
// templates). The input is a document. One that parses is written back out as JSON and parsed
// again: the value must be the same (strings byte for byte, numbers exactly, members in order).

import FuzzSupport
import InferKit

func fuzzJSON(_ data: UnsafeRawPointer?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: data, count: size))
    guard let value = try? JSONValue(parsing: bytes) else { return 0 }
    let written = JSONWriter.write(value)
    do {
        let again = try JSONValue(parsing: Array(written.utf8))
        fuzzCheck(JSONWriter.same(value, again), "\(written) reads back as a different value")
    } catch {
        fuzzCheck(false, "\(written) (written from a parsed value) does not parse: \(error)")
    }
    return 0
}

/// Writes JSON values as text, and compares them exactly.
enum JSONWriter {
    static func write(_ value: JSONValue) -> String {
        var out = ""
        write(value, to: &out)
        return out
    }

    private static func write(_ value: JSONValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            // The parser reads Python's non-standard words for the values JSON has no number for.
            if d.isNaN { out += "NaN" } else if d.isInfinite { out += d < 0 ? "-Infinity" : "Infinity" } else {
                // Swift's shortest exact spelling; a whole value keeps its ".0" so it stays a float.
                out += "\(d)"
            }
        case .string(let s): writeString(s, to: &out)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                write(item, to: &out)
            }
            out += "]"
        case .object(let object):
            out += "{"
            for (index, member) in object.members.enumerated() {
                if index > 0 { out += "," }
                writeString(member.key, to: &out)
                out += ":"
                write(member.value, to: &out)
            }
            out += "}"
        }
    }

    private static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// Equal as the parser's values: strings by their bytes, NaN equal to NaN.
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y || (x.isNaN && y.isNaN)
        case (.string(let x), .string(let y)): return x.utf8.elementsEqual(y.utf8)
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy(same)
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x.members, y.members).allSatisfy { $0.key.utf8.elementsEqual($1.key.utf8) && same($0.value, $1.value) }
        default: return false
        }
    }
}
