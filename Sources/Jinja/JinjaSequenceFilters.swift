/// What the sorting, selecting and mapping filters share: Python's stable `sorted`,
/// Jinja2's attribute paths, and `map`/`select`/`reject` with their (generator) results.
extension Jinja.Interpreter {
    func ignoringCase(_ value: Value) -> Value {
        if case .string(let s) = value { return .string(s.lowercased()) }
        return value
    }

    /// Python's `sorted` (stable, `reverse` keeping equal items in order) by a key.
    func sorted(_ items: [Value], reverse: Bool, key: (Value) throws -> Value) throws -> [Value] {
        try tick(items.count)
        let keyed = try items.enumerated().map { (key: try key($1), index: $0, item: $1) }
        return try keyed.sorted { a, b in
            let ordering = reverse ? try order(b.key, a.key) : try order(a.key, b.key)
            return ordering != 0 ? ordering < 0 : a.index < b.index
        }.map(\.item)
    }

    /// Jinja2's attribute paths (`attribute='function.name'`, `'0'` for an index).
    func attributePath(_ path: Value, of item: Value, default fallback: Value? = nil) throws -> Value {
        var current = item
        switch path {
        case .null: return item
        case .string(let s), .markup(let s):
            for part in s.split(separator: ".", omittingEmptySubsequences: false) {
                let isIndex = !part.isEmpty && part.allSatisfy { $0.isASCII && $0.isNumber }
                let key: Value = isIndex ? .int(Int(part) ?? 0) : .string(String(part))
                current = try self.item(key, of: current)
                if let fallback, current.isUndefined { current = fallback }
            }
        default:
            current = try self.item(path, of: current)
            if let fallback, current.isUndefined { current = fallback }
        }
        return current
    }

    /// `sort(attribute='a,b')` sorts by several attributes.
    func attributeList(_ attribute: Value) throws -> [Value] {
        guard let s = attribute.stringValue else { return [attribute] }
        return s.split(separator: ",", omittingEmptySubsequences: false).map { .string(String($0)) }
    }

    func mapFilter(_ value: Value, _ arguments: Jinja.CallArguments) throws -> Value {
        guard value.isTruthy else { return .iterator(Jinja.IteratorState([])) }
        let items = try filterIterate(value)
        if arguments.positional.isEmpty, let attribute = arguments.keywords.first(where: { $0.name == "attribute" }) {
            // `default=None` means no default, as in Jinja2.
            var fallback = arguments.keywords.first { $0.name == "default" }?.value
            if case .null? = fallback { fallback = nil }
            if let unexpected = arguments.keywords.first(where: { $0.name != "attribute" && $0.name != "default" }) {
                throw Failure("Unexpected keyword argument '\(unexpected.name)'")
            }
            return .iterator(Jinja.IteratorState(try items.map { try attributePath(attribute.value, of: $0, default: fallback) }))
        }
        guard let filterName = arguments.positional.first?.stringValue else { throw Failure("map requires a filter argument") }
        guard Jinja.Filters.names.contains(filterName) else { throw Failure("no filter named '\(filterName)'") }
        let rest = Jinja.CallArguments(positional: Array(arguments.positional.dropFirst()), keywords: arguments.keywords)
        return .iterator(Jinja.IteratorState(try items.map { try applyFilter(filterName, to: $0, rest) }))
    }

    /// `select(test, args)`, `reject`, `selectattr(attribute, test, args)`, `rejectattr`;
    /// without a test, an item's truth decides.
    func selectFilter(_ name: String, _ value: Value, _ arguments: Jinja.CallArguments) throws -> Value {
        guard value.isTruthy else { return .iterator(Jinja.IteratorState([])) }
        var positional = arguments.positional
        var attribute: Value?
        if name.hasSuffix("attr") {
            guard !positional.isEmpty else { throw Failure("Missing parameter for attribute name") }
            attribute = positional.removeFirst()
        }
        var testName: String?
        if !positional.isEmpty {
            guard let t = positional.removeFirst().stringValue else { throw Failure("test name must be a string") }
            guard Jinja.Tests.names.contains(t) else { throw Failure("no test named '\(t)'") }
            testName = t
        }
        let testArguments = Jinja.CallArguments(positional: positional, keywords: arguments.keywords)
        let keep = name.hasPrefix("select")
        return .iterator(Jinja.IteratorState(try filterIterate(value).filter { item in
            let subject = try attribute.map { try attributePath($0, of: item) } ?? item
            let passes = try testName.map { try applyTest($0, to: subject, testArguments) } ?? subject.isTruthy
            return passes == keep
        }))
    }
}
