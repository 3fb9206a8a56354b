/// Python methods templates call on values: `content.strip()`, `content.split('</think>')`,
/// `message.get('name')`, `tool.items()`. As in Jinja2's immutable sandbox, methods that
/// would change a list or dict (`append`, `pop`, `update`...) are refused.
extension Jinja.Interpreter {
    /// The method `name` of `object` bound to it, an unsafe placeholder for a mutating
    /// method, or nil when the object has no such method.
    func method(_ name: String, of object: Value) throws -> Value? {
        switch object {
        case .string(let s), .markup(let s): return stringMethod(name, s)
        case .dict(let d): return dictMethod(name, d)
        case .list(let items):
            if ["append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"].contains(name) {
                return unsafe(name, object)
            }
            return sequenceMethod(name, items)
        case .tuple(let items): return sequenceMethod(name, items)
        default: return nil
        }
    }

    private func unsafe(_ name: String, _ object: Value) -> Value {
        .undefined(message: "access to attribute '\(name)' of '\(object.typeName)' object is unsafe.")
    }

    private func bound(_ name: String, _ parameters: [(name: String, defaultValue: Value?)],
                       _ body: @escaping (Jinja.Interpreter, [Value]) throws -> Value) -> Value {
        .function(Jinja.Function(name) { interpreter, arguments in
            try body(interpreter, try arguments.bind(name, parameters))
        })
    }

    private func stringMethod(_ name: String, _ s: String) -> Value? {
        func text(_ v: Value) throws -> String {
            guard let t = v.stringValue else { throw Failure("\(name)() argument must be str, not \(v.typeName)") }
            return t
        }
        func optionalText(_ v: Value) throws -> String? {
            if case .null = v { return nil }
            return try text(v)
        }
        switch name {
        case "strip", "lstrip", "rstrip":
            return bound(name, [("chars", .null)]) { _, a in
                .string(s.pythonStrip(try optionalText(a[0]), leading: name != "rstrip", trailing: name != "lstrip"))
            }
        case "split", "rsplit":
            return bound(name, [("sep", .null), ("maxsplit", .int(-1))]) { _, a in
                guard let maxSplit = a[1].integer else { throw Failure("maxsplit must be an integer") }
                return .list(try s.pythonSplit(try optionalText(a[0]), maxSplit: maxSplit, fromEnd: name == "rsplit").map { .string($0) })
            }
        case "splitlines":
            return bound(name, []) { _, _ in .list(s.pythonSplitLines().map { .string($0) }) }
        case "startswith", "endswith":
            return bound(name, [("prefix", nil)]) { _, a in
                let candidates: [Value]
                if case .tuple(let items) = a[0] { candidates = items } else { candidates = [a[0]] }
                for candidate in candidates {
                    let affix = try text(candidate)
                    let matches = name == "startswith" ? s.utf8.starts(with: affix.utf8)
                        : s.utf8.reversed().starts(with: affix.utf8.reversed())
                    if matches { return .bool(true) }
                }
                return .bool(false)
            }
        case "upper": return bound(name, []) { _, _ in .string(s.uppercased()) }
        case "lower": return bound(name, []) { _, _ in .string(s.lowercased()) }
        case "title": return bound(name, []) { _, _ in .string(s.pythonTitle()) }
        case "capitalize": return bound(name, []) { _, _ in .string(s.pythonCapitalize()) }
        case "replace":
            return bound(name, [("old", nil), ("new", nil), ("count", .int(-1))]) { interpreter, a in
                let new = try text(a[1])
                guard let count = a[2].integer else { throw Failure("count must be an integer") }
                let result = s.pythonReplace(try text(a[0]), new, count: count)
                try interpreter.checkSize(result)
                return .string(result)
            }
        case "find", "rfind", "index", "rindex":
            return bound(name, [("sub", nil)]) { _, a in
                let i = s.pythonFind(try text(a[0]), fromEnd: name.hasPrefix("r"))
                if i < 0 && name.hasSuffix("index") { throw Failure("substring not found") }
                return .int(i)
            }
        case "count": return bound(name, [("sub", nil)]) { _, a in .int(s.pythonCount(try text(a[0]))) }
        case "join":
            return bound(name, [("iterable", nil)]) { interpreter, a in
                let parts = try interpreter.iterate(a[0]).map { item in
                    guard let t = item.stringValue else {
                        throw Failure("sequence item: expected str instance, \(item.typeName) found")
                    }
                    return t
                }
                let result = parts.joined(separator: s)
                try interpreter.checkSize(result)
                return .string(result)
            }
        case "isdigit", "isalpha", "isalnum", "isspace", "islower", "isupper":
            return bound(name, []) { _, _ in .bool(Self.classify(name, s)) }
        case "removeprefix", "removesuffix":
            return bound(name, [("affix", nil)]) { _, a in
                let affix = try text(a[0])
                if name == "removeprefix", s.utf8.starts(with: affix.utf8) {
                    return .string(String(decoding: s.utf8.dropFirst(affix.utf8.count), as: UTF8.self))
                }
                if name == "removesuffix", s.utf8.reversed().starts(with: affix.utf8.reversed()) {
                    return .string(String(decoding: s.utf8.dropLast(affix.utf8.count), as: UTF8.self))
                }
                return .string(s)
            }
        case "format":
            return .function(Jinja.Function(name) { interpreter, arguments in
                .string(try interpreter.braceFormat(s, arguments))
            })
        default:
            return nil
        }
    }

    private static func classify(_ name: String, _ s: String) -> Bool {
        let scalars = s.unicodeScalars
        switch name {
        case "isdigit": return !scalars.isEmpty && scalars.allSatisfy { $0.properties.numericType != nil && $0.properties.numericType != .numeric }
        case "isalpha": return !scalars.isEmpty && scalars.allSatisfy { $0.properties.isAlphabetic }
        case "isalnum": return !scalars.isEmpty && scalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil }
        case "isspace": return !scalars.isEmpty && scalars.allSatisfy { $0.isPythonWhitespace }
        case "islower": return scalars.contains { $0.properties.isCased } && !scalars.contains { $0.properties.isUppercase }
        default: return scalars.contains { $0.properties.isCased } && !scalars.contains { $0.properties.isLowercase }
        }
    }

    private func dictMethod(_ name: String, _ d: Jinja.Dict) -> Value? {
        switch name {
        case "items":
            return bound(name, []) { interpreter, _ in
                let pairs = d.pairs.map { Value.tuple([$0, $1]) }
                try interpreter.checkNesting(pairs)
                return .list(pairs)
            }
        case "keys": return bound(name, []) { _, _ in .list(d.keys) }
        case "values": return bound(name, []) { _, _ in .list(d.values) }
        case "get": return bound(name, [("key", nil), ("default", .null)]) { _, a in d.get(a[0]) ?? a[1] }
        case "copy": return bound(name, []) { _, _ in .dict(d) }
        case "pop", "popitem", "setdefault", "update", "clear": return unsafe(name, .dict(d))
        default: return nil
        }
    }

    private func sequenceMethod(_ name: String, _ items: [Value]) -> Value? {
        switch name {
        case "count":
            return bound(name, [("value", nil)]) { interpreter, a in
                try interpreter.tick(items.count)
                return .int(try items.filter { try interpreter.equal($0, a[0]) }.count)
            }
        case "index":
            return bound(name, [("value", nil)]) { interpreter, a in
                try interpreter.tick(items.count)
                guard let i = try items.firstIndex(where: { try interpreter.equal($0, a[0]) }) else {
                    throw Failure("\(try interpreter.repr(a[0])) is not in list")
                }
                return .int(i)
            }
        case "copy": return bound(name, []) { _, _ in .list(items) }
        default: return nil
        }
    }

    /// `str.format` with `{}`, `{0}`, `{name}`, `{{`/`}}` and `!r`/`!s` conversions (no
    /// format specs, which chat templates do not use).
    func braceFormat(_ format: String, _ arguments: Jinja.CallArguments) throws -> String {
        let chars = Array(format.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        var automatic = 0
        while i < chars.count {
            let c = chars[i]
            if c == "}" {
                guard i + 1 < chars.count, chars[i + 1] == "}" else { throw Failure("single '}' encountered in format string") }
                out.append("}")
                i += 2
                continue
            }
            guard c == "{" else {
                out.append(c)
                i += 1
                continue
            }
            if i + 1 < chars.count, chars[i + 1] == "{" {
                out.append("{")
                i += 2
                continue
            }
            guard let close = chars[i...].firstIndex(of: "}") else { throw Failure("single '{' encountered in format string") }
            var field = String(String.UnicodeScalarView(chars[(i + 1)..<close]))
            i = close + 1
            var conversion = "s"
            if let bang = field.firstIndex(of: "!") {
                conversion = String(field[field.index(after: bang)...])
                field = String(field[..<bang])
            }
            if field.contains(":") { throw Failure("format specifications in str.format are not supported") }
            let value: Value
            if field.isEmpty {
                guard automatic < arguments.positional.count else { throw Failure("Replacement index \(automatic) out of range for positional args tuple") }
                value = arguments.positional[automatic]
                automatic += 1
            } else if let index = Int(field) {
                guard arguments.positional.indices.contains(index) else { throw Failure("Replacement index \(index) out of range for positional args tuple") }
                value = arguments.positional[index]
            } else {
                guard let keyword = arguments.keywords.last(where: { $0.name == field }) else { throw Failure("KeyError: '\(field)'") }
                value = keyword.value
            }
            out.append(contentsOf: (conversion == "r" ? try repr(value) : try string(of: value)).unicodeScalars)
        }
        return String(out)
    }
}
