import Foundation

/// Jinja2's built-in filters that chat templates use, with their Python behaviour (including
/// how each treats an undefined value), and transformers' `tojson`.
extension Jinja {
    enum Filters {
        static let names: Set<String> = [
            "abs", "attr", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape", "first",
            "float", "format", "indent", "int", "items", "join", "last", "length", "list", "lower", "map", "max",
            "min", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr", "sort",
            "string", "sum", "title", "tojson", "trim", "truncate", "unique", "upper", "wordcount",
        ]
    }
}

extension Jinja.Interpreter {
    func applyFilter(_ filter: Jinja.FilterCall, to value: Value, in scope: Jinja.Scope) throws -> Value {
        do {
            let result = try applyFilter(filter.name, to: value, try evaluate(filter.arguments, in: scope))
            if let text = result.stringValue { try checkSize(text) }
            return result
        } catch let failure as Failure {
            throw ChatTemplateError(failure.kind, failure.message, line: filter.location.line, column: filter.location.column)
        }
    }

    /// Python `str()` for string filters (`soft_str`), which leaves markup as it is.
    private func text(_ value: Value) throws -> String {
        try string(of: value)
    }

    /// Python `len()`.
    func length(_ value: Value) throws -> Int {
        switch value {
        case .string(let s), .markup(let s): return s.scalarCount
        case .list(let items), .tuple(let items): return items.count
        case .dict(let d): return d.count
        case .undefined: return 0
        default: throw Failure("object of type '\(value.typeName)' has no len()")
        }
    }

    /// Iterates a filter's input, counting its items as steps.
    func filterIterate(_ value: Value) throws -> [Value] {
        let items = try iterate(value)
        try tick(items.count)
        return items
    }

    func applyFilter(_ name: String, to value: Value, _ arguments: Jinja.CallArguments) throws -> Value {
        func bind(_ parameters: [(name: String, defaultValue: Value?)]) throws -> [Value] {
            try arguments.bind(name, parameters)
        }
        switch name {
        case "trim":
            let a = try bind([("chars", .null)])
            return .string(try text(value).pythonStrip(a[0].stringValue))
        case "upper": _ = try bind([]); return .string(try text(value).uppercased())
        case "lower": _ = try bind([]); return .string(try text(value).lowercased())
        case "capitalize": _ = try bind([]); return .string(try text(value).pythonCapitalize())
        case "title": _ = try bind([]); return .string(titleCase(try text(value)))
        case "string":
            _ = try bind([])
            if case .markup = value { return value }
            return .string(try text(value))
        case "safe":
            _ = try bind([])
            if case .markup = value { return value }
            return .markup(try text(value))
        case "escape", "e":
            _ = try bind([])
            if case .markup = value { return value }
            return .markup(escapeHTML(try text(value)))
        case "length", "count":
            _ = try bind([])
            return .int(try length(value))
        case "wordcount":
            _ = try bind([])
            return .int(try text(value).unicodeScalars.split { !($0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "_") }.count)
        case "default", "d":
            let a = try bind([("default_value", .string("")), ("boolean", .bool(false))])
            return value.isUndefined || (a[1].isTruthy && !value.isTruthy) ? a[0] : value
        case "first":
            _ = try bind([])
            // An iterator gives up only its first item.
            if case .iterator(let state) = value { return state.remaining.popFirst() ?? .undefined(message: "No first item, sequence was empty.") }
            // A string's first character, without walking the rest.
            if let s = value.stringValue { return s.unicodeScalars.first.map { .string(String($0)) } ?? .undefined(message: "No first item, sequence was empty.") }
            return try iterate(value).first ?? .undefined(message: "No first item, sequence was empty.")
        case "last":
            _ = try bind([])
            if case .iterator = value { throw Failure("'\(value.typeName)' object is not reversible") }
            if let s = value.stringValue { return s.unicodeScalars.last.map { .string(String($0)) } ?? .undefined(message: "No last item, sequence was empty.") }
            return try iterate(value).last ?? .undefined(message: "No last item, sequence was empty.")
        case "list":
            _ = try bind([])
            return .list(try filterIterate(value))
        case "reverse":
            _ = try bind([])
            if let s = value.stringValue { return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            return .iterator(Jinja.IteratorState(typeName: "list_reverseiterator", try filterIterate(value).reversed()))
        case "join":
            let a = try bind([("d", .string("")), ("attribute", .null)])
            let items = try filterIterate(value).map { try attributePath(a[1], of: $0) }
            let separator = try text(a[0])
            var result = ""
            for (i, item) in items.enumerated() {
                if i > 0 { result += separator }
                result += try text(item)
                try checkSize(result)
            }
            return .string(result)
        case "items":
            _ = try bind([])
            switch value {
            case .undefined: return .iterator(Jinja.IteratorState([]))
            case .dict(let d):
                let pairs = d.pairs.map { Value.tuple([$0, $1]) }
                try checkNesting(pairs)
                return .iterator(Jinja.IteratorState(pairs))
            default: throw Failure("Can only get item pairs from a mapping.")
            }
        case "dictsort":
            let a = try bind([("case_sensitive", .bool(false)), ("by", .string("key")), ("reverse", .bool(false))])
            guard case .dict(let d) = value else {
                if case .undefined(let message) = value { throw Failure(message) }
                throw Failure("dictsort needs a mapping, not \(value.typeName)")
            }
            guard let by = a[1].stringValue, by == "key" || by == "value" else {
                throw Failure("You can only sort by either \"key\" or \"value\"")
            }
            let pairs = d.pairs.map { Value.tuple([$0, $1]) }
            try checkNesting(pairs)
            return .list(try sorted(pairs, reverse: a[2].isTruthy) { pair in
                guard case .tuple(let kv) = pair else { return pair }
                let key = kv[by == "key" ? 0 : 1]
                return a[0].isTruthy ? key : ignoringCase(key)
            })
        case "sort":
            let a = try bind([("reverse", .bool(false)), ("case_sensitive", .bool(false)), ("attribute", .null)])
            let paths = try attributeList(a[2])
            return .list(try sorted(try filterIterate(value), reverse: a[0].isTruthy) { item in
                .list(try paths.map { path in
                    let key = try attributePath(path, of: item)
                    return a[1].isTruthy ? key : ignoringCase(key)
                })
            })
        case "unique":
            let a = try bind([("case_sensitive", .bool(false)), ("attribute", .null)])
            var seen = Set<Jinja.HashKey>()
            return .iterator(Jinja.IteratorState(try filterIterate(value).filter { item in
                let key = try attributePath(a[1], of: item)
                return seen.insert(try Jinja.HashKey(a[0].isTruthy ? key : ignoringCase(key))).inserted
            }))
        case "min", "max":
            let a = try bind([("case_sensitive", .bool(false)), ("attribute", .null)])
            let items = try filterIterate(value)
            guard var best = items.first else { return .undefined(message: "No aggregated item, sequence was empty.") }
            func key(_ item: Value) throws -> Value {
                let k = try attributePath(a[1], of: item)
                return a[0].isTruthy ? k : ignoringCase(k)
            }
            var bestKey = try key(best)
            for item in items.dropFirst() {
                let k = try key(item)
                let ordering = try order(k, bestKey)
                if name == "min" ? ordering < 0 : ordering > 0 {
                    best = item
                    bestKey = k
                }
            }
            return best
        case "sum":
            let a = try bind([("attribute", .null), ("start", .int(0))])
            return try filterIterate(value).reduce(a[1]) { total, item in
                try binary(.add, total, try attributePath(a[0], of: item))
            }
        case "map":
            return try mapFilter(value, arguments)
        case "select", "reject", "selectattr", "rejectattr":
            return try selectFilter(name, value, arguments)
        case "attr":
            let a = try bind([("name", nil)])
            guard let attributeName = a[0].stringValue else { throw Failure("attribute name must be a string") }
            if case .undefined(let message) = value { throw Failure(message) }
            if let method = try method(attributeName, of: value) { return method }
            if case .namespace(let ns) = value, let v = ns.attributes.get(attributeName) { return v }
            return .undefined(message: "'\(value.objectDescription)' has no attribute '\(attributeName)'")
        case "replace":
            let a = try bind([("old", nil), ("new", nil), ("count", .null)])
            let count: Int
            if case .null = a[2] { count = -1 } else {
                guard let c = a[2].integer else { throw Failure("replace count must be an integer") }
                count = c
            }
            let result = try text(value).pythonReplace(try text(a[0]), try text(a[1]), count: count)
            return .string(result)
        case "indent":
            return try indent(value, try bind([("width", .int(4)), ("first", .bool(false)), ("blank", .bool(false))]))
        case "center":
            let a = try bind([("width", .int(80))])
            guard let width = a[0].integer else { throw Failure("center width must be an integer") }
            let s = try text(value)
            let margin = width - s.scalarCount
            guard margin > 0 else { return .string(s) }
            let left = margin / 2 + (margin & width & 1)
            return .string(String(repeating: " ", count: left) + s + String(repeating: " ", count: margin - left))
        case "truncate":
            let a = try bind([("length", .int(255)), ("killwords", .bool(false)), ("end", .string("...")), ("leeway", .int(5))])
            guard let limit = a[0].integer, let leeway = a[3].integer else { throw Failure("truncate length must be an integer") }
            // Anything short enough comes back unchanged, strings or not.
            guard try length(value) > limit + leeway else { return value }
            guard let s = value.stringValue else { throw Failure("'\(value.typeName)' object has no attribute 'rsplit'") }
            let end = try text(a[2])
            let kept = String(String.UnicodeScalarView(s.unicodeScalars.prefix(max(0, limit - end.scalarCount))))
            if a[1].isTruthy { return .string(kept + end) }
            return .string((try kept.pythonSplit(" ", maxSplit: 1, fromEnd: true).first ?? kept) + end)
        case "int":
            let a = try bind([("default", .int(0)), ("base", .int(10))])
            // Undefined's __int__ and __float__ raise, which these filters do not catch.
            if case .undefined(let message) = value { throw Failure(message) }
            return toInt(value, base: a[1].integer ?? 10) ?? a[0]
        case "float":
            let a = try bind([("default", .float(0))])
            if case .undefined(let message) = value { throw Failure(message) }
            return toFloat(value).map { .float($0) } ?? a[0]
        case "round":
            let a = try bind([("precision", .int(0)), ("method", .string("common"))])
            return try round(value, precision: a[0], method: a[1])
        case "abs":
            _ = try bind([])
            if let i = value.integer { return .int(i == Int.min ? i : Swift.abs(i)) }
            if case .float(let f) = value { return .float(Swift.abs(f)) }
            throw Failure("bad operand type for abs(): '\(value.typeName)'")
        case "format":
            if !arguments.positional.isEmpty && !arguments.keywords.isEmpty {
                throw Failure("can't handle positional and keyword arguments at the same time")
            }
            var mapping = Jinja.Dict()
            for (key, v) in arguments.keywords { try mapping.set(.string(key), v) }
            let formatArguments: Value = arguments.keywords.isEmpty ? .tuple(arguments.positional) : .dict(mapping)
            return .string(try percentFormat(try text(value), formatArguments))
        case "tojson":
            let a = try bind([("ensure_ascii", .bool(false)), ("indent", .null), ("separators", .null), ("sort_keys", .bool(false))])
            return .string(try toJSON(value, ensureASCII: a[0].isTruthy, indent: a[1], separators: a[2], sortKeys: a[3].isTruthy))
        default:
            throw Failure("no filter named '\(name)'")
        }
    }

    /// The `title` filter, which differs from `str.title()`: a word starts after whitespace
    /// or one of `-({[<`, its first character upper case and the rest lower case.
    private func titleCase(_ s: String) -> String {
        var out = ""
        var atWordStart = true
        for c in s.unicodeScalars {
            let isBoundary = c.isPythonWhitespace || "-({[<".unicodeScalars.contains(c)
            if isBoundary {
                out.unicodeScalars.append(c)
                atWordStart = true
            } else {
                out += atWordStart ? String(c).uppercased() : String(c).lowercased()
                atWordStart = false
            }
        }
        return out
    }

    private func indent(_ value: Value, _ a: [Value]) throws -> Value {
        if case .undefined(let message) = value { throw Failure(message) }
        guard let s = value.stringValue else { throw Failure("can only concatenate \(value.typeName) (not \"str\")") }
        let indentation: String
        if let w = a[0].stringValue { indentation = w } else {
            guard let width = a[0].integer else { throw Failure("indent width must be an integer or a string") }
            indentation = String(repeating: " ", count: max(0, width))
        }
        var lines = (s + "\n").pythonSplitLines()
        var result: String
        if a[2].isTruthy {
            result = lines.joined(separator: "\n" + indentation)
        } else {
            result = lines.removeFirst()
            if !lines.isEmpty {
                result += "\n" + lines.map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n")
            }
        }
        if a[1].isTruthy { result = indentation + result }
        if case .markup = value { return .markup(result) }
        return .string(result)
    }

}

extension String {
    /// Python's `str.splitlines()`: every Unicode line boundary, `\r\n` as one.
    func pythonSplitLines() -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        var previousCR = false
        for c in unicodeScalars {
            if previousCR && c == "\n" {
                previousCR = false
                continue
            }
            previousCR = c == "\r"
            switch c.value {
            case 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029:
                lines.append(String(current))
                current = String.UnicodeScalarView()
            default:
                current.append(c)
            }
        }
        if !current.isEmpty { lines.append(String(current)) }
        return lines
    }
}
