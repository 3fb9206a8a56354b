extension Jinja.Interpreter {
    typealias Value = Jinja.Value
    typealias Failure = Jinja.Failure

    /// Evaluates an expression; a failure is reported at the innermost expression that
    /// raised it.
    func evaluate(_ expression: Jinja.Expression, in scope: Jinja.Scope) throws -> Value {
        do {
            return try evaluateUnlocated(expression, in: scope)
        } catch let failure as Failure {
            throw ChatTemplateError(failure.kind, failure.message,
                                    line: expression.location.line, column: expression.location.column)
        }
    }

    private func evaluateUnlocated(_ expression: Jinja.Expression, in scope: Jinja.Scope) throws -> Value {
        switch expression.kind {
        case .literal(let literal):
            switch literal {
            case .null: return .null
            case .bool(let b): return .bool(b)
            case .int(let i): return .int(i)
            case .float(let f): return .float(f)
            case .string(let s): return .string(s)
            }
        case .name(let name):
            return scope.lookup(name) ?? .undefinedName(name)
        case .list(let items):
            let values = try items.map { try evaluate($0, in: scope) }
            try checkNesting(values)
            return .list(values)
        case .tuple(let items):
            let values = try items.map { try evaluate($0, in: scope) }
            try checkNesting(values)
            return .tuple(values)
        case .dict(let pairs):
            var dict = Jinja.Dict()
            for (key, value) in pairs {
                try dict.set(try evaluate(key, in: scope), try evaluate(value, in: scope))
            }
            try checkNesting(dict.values)
            return .dict(dict)
        case .attribute(let object, let name):
            return try attribute(name, of: try evaluate(object, in: scope))
        case .item(let object, let index):
            let container = try evaluate(object, in: scope)
            if case .slice(let start, let stop, let step) = index.kind {
                func bound(_ e: Jinja.Expression?) throws -> Value { try e.map { try evaluate($0, in: scope) } ?? .null }
                return try slice(container, start: try bound(start), stop: try bound(stop), step: try bound(step))
            }
            return try item(try evaluate(index, in: scope), of: container)
        case .slice:
            throw Failure("a slice is only valid inside []")
        case .call(let callee, let arguments):
            let function = try evaluate(callee, in: scope)
            return try call(function, try evaluate(arguments, in: scope))
        case .filter(let value, let filter):
            return try applyFilter(filter, to: try evaluate(value, in: scope), in: scope)
        case .test(let subject, let name, let arguments):
            return .bool(try applyTest(name, to: try evaluate(subject, in: scope), try evaluate(arguments, in: scope)))
        case .not(let operand):
            return .bool(!(try evaluate(operand, in: scope).isTruthy))
        case .negate(let operand):
            return try negate(try evaluate(operand, in: scope))
        case .plus(let operand):
            let value = try evaluate(operand, in: scope)
            guard value.number != nil else { throw unsupportedUnary("+", value) }
            return value.integer.map { .int($0) } ?? value
        case .binary(let op, let left, let right):
            let result = try binary(op, try evaluate(left, in: scope), try evaluate(right, in: scope))
            if let text = result.stringValue { try checkSize(text) }
            return result
        case .and(let left, let right):
            let l = try evaluate(left, in: scope)
            return l.isTruthy ? try evaluate(right, in: scope) : l
        case .or(let left, let right):
            let l = try evaluate(left, in: scope)
            return l.isTruthy ? l : try evaluate(right, in: scope)
        case .compare(let first, let operations):
            var left = try evaluate(first, in: scope)
            for (op, rightExpression) in operations {
                let right = try evaluate(rightExpression, in: scope)
                guard try compare(op, left, right) else { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .concat(let parts):
            var text = ""
            for part in parts {
                text += try string(of: try evaluate(part, in: scope))
                try checkSize(text)
            }
            return .string(text)
        case .conditional(let test, let then, let otherwise):
            if try evaluate(test, in: scope).isTruthy { return try evaluate(then, in: scope) }
            if let otherwise { return try evaluate(otherwise, in: scope) }
            return .undefined(message: "the inline if-expression on line \(expression.location.line) evaluated to false and no else section was defined")
        }
    }

    func evaluate(_ arguments: Jinja.Arguments, in scope: Jinja.Scope) throws -> Jinja.CallArguments {
        Jinja.CallArguments(
            positional: try arguments.positional.map { try evaluate($0, in: scope) },
            keywords: try arguments.keywords.map { ($0.name, try evaluate($0.value, in: scope)) })
    }

    func call(_ callee: Value, _ arguments: Jinja.CallArguments) throws -> Value {
        switch callee {
        case .function(let function):
            try tick()
            return try function.body(self, arguments)
        case .undefined(let message):
            throw Failure(message)
        default:
            throw Failure("'\(callee.typeName)' object is not callable")
        }
    }

    // MARK: attributes and items

    /// `object.name`, as the sandbox's `getattr`: a Python attribute (a method such as
    /// `dict.items` or `str.strip`) first, then the item `object['name']`, else undefined.
    /// Only an undefined object fails.
    func attribute(_ name: String, of object: Value) throws -> Value {
        if case .undefined(let message) = object { throw Failure(message) }
        if let method = try method(name, of: object) { return method }
        switch object {
        case .dict(let d):
            if let value = d.get(name) { return value }
        case .namespace(let ns):
            if let value = ns.attributes.get(name) { return value }
        case .loop(let state):
            if let value = loopAttribute(name, state) { return value }
        default:
            break
        }
        return .undefined(message: "'\(object.objectDescription)' has no attribute '\(name)'")
    }

    /// `object[key]`, as the sandbox's `getitem`: the item first, then for a string key the
    /// attribute, else undefined. Only an undefined object fails.
    func item(_ key: Value, of object: Value) throws -> Value {
        switch object {
        case .undefined(let message):
            throw Failure(message)
        case .list(let items), .tuple(let items):
            if let i = key.integer {
                let index = i < 0 ? i + items.count : i
                if items.indices.contains(index) { return items[index] }
            }
        case .string(let s), .markup(let s):
            if let i = key.integer {
                let scalars = Array(s.unicodeScalars)
                let index = i < 0 ? i + scalars.count : i
                if scalars.indices.contains(index) { return .string(String(scalars[index])) }
            }
        case .dict(let d):
            if let value = d.get(key) { return value }
        default:
            break
        }
        if let name = key.stringValue { return try attribute(name, of: object) }
        return .undefined(message: "\(object.objectDescription) has no element \(try repr(key))")
    }

    /// Python slicing of lists, tuples and strings. Jinja2 compiles slices to plain Python
    /// subscripts (not through its forgiving `getitem`), so anything else is a TypeError.
    func slice(_ object: Value, start: Value, stop: Value, step: Value) throws -> Value {
        switch object {
        case .undefined(let message): throw Failure(message)
        case .list, .tuple, .string, .markup: break
        case .dict: throw Failure("unhashable type: 'slice'")
        default: throw Failure("'\(object.typeName)' object is not subscriptable")
        }
        func bound(_ v: Value) throws -> Int? {
            if case .null = v { return nil }
            guard let i = v.integer else { throw Failure("slice indices must be integers or None or have an __index__ method") }
            return i
        }
        let startBound = try bound(start)
        let stopBound = try bound(stop)
        let stepBound = try bound(step)
        let stepValue = stepBound ?? 1
        guard stepValue != 0 else { throw Failure("slice step cannot be zero") }
        func indices(_ count: Int) -> [Int] {
            let (lower, upper) = stepValue > 0 ? (0, count) : (-1, count - 1)
            func clamp(_ value: Int?, default fallback: Int) -> Int {
                guard var v = value else { return fallback }
                if v < 0 { v += count }
                return min(max(v, lower), upper)
            }
            var i = clamp(startBound, default: stepValue > 0 ? lower : upper)
            let end = clamp(stopBound, default: stepValue > 0 ? upper : lower)
            var result: [Int] = []
            while stepValue > 0 ? i < end : i > end {
                result.append(i)
                i += stepValue
            }
            return result
        }
        switch object {
        case .list(let items): return .list(indices(items.count).map { items[$0] })
        case .tuple(let items): return .tuple(indices(items.count).map { items[$0] })
        default:
            let scalars = Array((object.stringValue ?? "").unicodeScalars)
            var view = String.UnicodeScalarView()
            for i in indices(scalars.count) { view.append(scalars[i]) }
            if case .markup = object { return .markup(String(view)) }
            return .string(String(view))
        }
    }

    private func loopAttribute(_ name: String, _ state: Jinja.LoopState) -> Value? {
        let count = state.items.count
        let i = state.index0
        switch name {
        case "index": return .int(i + 1)
        case "index0": return .int(i)
        case "revindex": return .int(count - i)
        case "revindex0": return .int(count - i - 1)
        case "first": return .bool(i == 0)
        case "last": return .bool(i == count - 1)
        case "length": return .int(count)
        case "depth": return .int(1)
        case "depth0": return .int(0)
        case "previtem": return i > 0 ? state.items[i - 1] : .undefined(message: "there is no previous item")
        case "nextitem": return i + 1 < count ? state.items[i + 1] : .undefined(message: "there is no next item")
        case "cycle":
            return .function(Jinja.Function("loop.cycle") { _, arguments in
                guard !arguments.positional.isEmpty else { throw Failure("no items for cycling given") }
                return arguments.positional[i % arguments.positional.count]
            })
        case "changed":
            return .function(Jinja.Function("loop.changed") { interpreter, arguments in
                defer { state.lastChanged = arguments.positional }
                guard let last = state.lastChanged else { return .bool(true) }
                return .bool(!(try interpreter.equal(.list(last), .list(arguments.positional))))
            })
        default: return nil
        }
    }
}
