/// JSON in and out of templates: messages and tools come in as `JSONValue`, and `tojson` is
/// transformers' override, Python's `json.dumps(x, ensure_ascii=False, indent=None,
/// separators=None, sort_keys=False)`, not Jinja2's HTML-safe one.
extension Jinja.Value {
    init(_ json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .float(d)
        case .string(let s): self = .string(s)
        case .array(let items): self = .list(items.map(Jinja.Value.init))
        case .object(let object):
            var dict = Jinja.Dict()
            // String keys are always hashable.
            for (key, value) in object { try! dict.set(.string(key), Jinja.Value(value)) }
            self = .dict(dict)
        }
    }
}

extension Jinja.Interpreter {
    /// Python's `json.dumps` with its defaults: separators `", "`/`": "` (`","` between
    /// items once indenting), non-ASCII kept unless `ensureASCII`, floats as `repr`.
    func toJSON(_ value: Value, ensureASCII: Bool, indent: Value, separators: Value, sortKeys: Bool) throws -> String {
        var indentUnit: String?
        switch indent {
        case .null: indentUnit = nil
        case .string(let s), .markup(let s): indentUnit = s
        default:
            guard let n = indent.integer else { throw Failure("indent must be an integer or a string") }
            indentUnit = String(repeating: " ", count: max(0, n))
        }
        var itemSeparator = indentUnit == nil ? ", " : ","
        var keySeparator = ": "
        if case .null = separators {} else {
            let parts = try iterate(separators)
            guard parts.count == 2, let item = parts[0].stringValue, let key = parts[1].stringValue else {
                throw Failure("separators must be a pair of strings")
            }
            (itemSeparator, keySeparator) = (item, key)
        }
        var out = ""
        func newline(_ level: Int) -> String {
            guard let unit = indentUnit else { return "" }
            return "\n" + String(repeating: unit, count: level)
        }
        func encode(_ value: Value, level: Int) throws {
            guard level < Jinja.maxValueDepth else {
                throw Failure("values nest deeper than \(Jinja.maxValueDepth) levels", kind: .limitExceeded)
            }
            try tick()
            switch value {
            case .null: out += "null"
            case .bool(let b): out += b ? "true" : "false"
            case .int(let i): out += String(i)
            case .float(let f): out += jsonFloat(f)
            case .string(let s), .markup(let s): out += jsonString(s, ensureASCII: ensureASCII)
            case .list(let items), .tuple(let items):
                guard !items.isEmpty else { out += "[]"; return }
                out += "[" + newline(level + 1)
                for (i, item) in items.enumerated() {
                    if i > 0 { out += itemSeparator + newline(level + 1) }
                    try encode(item, level: level + 1)
                    try checkSize(out)
                }
                out += newline(level) + "]"
            case .dict(let d):
                guard d.count > 0 else { out += "{}"; return }
                var pairs = Array(d.pairs)
                if sortKeys {
                    pairs = try pairs.enumerated().sorted { a, b in
                        let ordering = try order(a.element.0, b.element.0)
                        return ordering != 0 ? ordering < 0 : a.offset < b.offset
                    }.map(\.element)
                }
                out += "{" + newline(level + 1)
                for (i, (key, item)) in pairs.enumerated() {
                    if i > 0 { out += itemSeparator + newline(level + 1) }
                    out += jsonString(try jsonKey(key), ensureASCII: ensureASCII) + keySeparator
                    try encode(item, level: level + 1)
                    try checkSize(out)
                }
                out += newline(level) + "}"
            default:
                throw Failure("Object of type \(value.typeName) is not JSON serializable")
            }
        }
        try encode(value, level: 0)
        return out
    }

    /// Python's json turns non-string keys into strings: `1` → "1", `True` → "true".
    private func jsonKey(_ key: Value) throws -> String {
        switch key {
        case .string(let s), .markup(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .float(let f): return jsonFloat(f)
        default: throw Failure("keys must be str, int, float, bool or None, not \(key.typeName)")
        }
    }

    private func jsonFloat(_ f: Double) -> String {
        if f.isNaN { return "NaN" }
        if f.isInfinite { return f < 0 ? "-Infinity" : "Infinity" }
        return pythonFloatRepr(f)
    }

    /// A JSON string literal as Python's `json` writes it.
    private func jsonString(_ s: String, ensureASCII: Bool) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        func hex4(_ v: UInt32) -> String { "\\u" + hexDigits(v, width: 4) }
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if c.value < 0x20 || (ensureASCII && c.value > 0x7E) {
                    if c.value > 0xFFFF {
                        let v = c.value - 0x10000
                        out += hex4(0xD800 + (v >> 10)) + hex4(0xDC00 + (v & 0x3FF))
                    } else {
                        out += hex4(c.value)
                    }
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out + "\""
    }
}
