import Foundation

/// Arithmetic, comparison and membership with Python's semantics: `/` always gives a float,
/// `//` and `%` round toward negative infinity, `+` concatenates strings and lists, `*`
/// repeats them, `in` searches substrings, list items and dict keys.
extension Jinja.Interpreter {
    func binary(_ op: Jinja.BinaryOperator, _ a: Value, _ b: Value) throws -> Value {
        // `str % anything` formats, even with an undefined argument (as Python does).
        if op == .modulo, let format = a.stringValue { return .string(try percentFormat(format, b)) }
        if case .undefined(let message) = a { throw Failure(message) }
        if case .undefined(let message) = b { throw Failure(message) }
        switch op {
        case .add: return try add(a, b)
        case .subtract:
            return try arithmetic(op, a, b, integer: { try checked($0.subtractingReportingOverflow($1)) }, float: { $0 - $1 })
        case .multiply: return try multiply(a, b)
        case .divide:
            guard let x = a.number, let y = b.number else { throw unsupported(op, a, b) }
            guard y != 0 else { throw Failure(a.integer != nil && b.integer != nil ? "division by zero" : "float division by zero") }
            return .float(x / y)
        case .floorDivide:
            return try arithmetic(op, a, b, integer: { x, y in
                guard y != 0 else { throw Failure("integer division or modulo by zero") }
                return floorDivide(x, y)
            }, float: { x, y in
                guard y != 0 else { throw Failure("float floor division by zero") }
                return pythonFloatDivmod(x, y).quotient
            })
        case .modulo:
            return try arithmetic(op, a, b, integer: { x, y in
                guard y != 0 else { throw Failure("integer modulo by zero") }
                let r = x % y
                return r != 0 && (r < 0) != (y < 0) ? r + y : r
            }, float: { x, y in
                guard y != 0 else { throw Failure("float modulo") }
                return pythonFloatDivmod(x, y).remainder
            })
        case .power:
            if let x = a.integer, let y = b.integer, y >= 0 {
                // Exponentiation by squaring; a square that overflows means the result would.
                var result = 1
                var base = x
                var exponent = y
                while exponent > 0 {
                    if exponent & 1 == 1 { result = try checked(result.multipliedReportingOverflow(by: base)) }
                    exponent >>= 1
                    if exponent > 0 { base = try checked(base.multipliedReportingOverflow(by: base)) }
                }
                return .int(result)
            }
            guard let x = a.number, let y = b.number else { throw unsupported(op, a, b) }
            if x == 0 && y < 0 { throw Failure("0.0 cannot be raised to a negative power") }
            let result = Foundation.pow(x, y)
            // Python raises where C's pow overflows to infinity (`*` does not).
            if result.isInfinite && x.isFinite && y.isFinite { throw Failure("(34, 'Numerical result out of range')") }
            return .float(result)
        }
    }

    private func add(_ a: Value, _ b: Value) throws -> Value {
        switch (a, b) {
        case (.markup(let x), .markup(let y)): return .markup(x + y)
        case (.markup(let x), .string(let y)): return .markup(x + escapeHTML(y))
        case (.string(let x), .markup(let y)): return .markup(escapeHTML(x) + y)
        case (.string(let x), .string(let y)): return .string(x + y)
        case (.string, _): throw Failure("can only concatenate str (not \"\(b.typeName)\") to str")
        case (.list(let x), .list(let y)): return .list(x + y)
        case (.list, _): throw Failure("can only concatenate list (not \"\(b.typeName)\") to list")
        case (.tuple(let x), .tuple(let y)): return .tuple(x + y)
        default:
            return try arithmetic(.add, a, b, integer: { try checked($0.addingReportingOverflow($1)) }, float: { $0 + $1 })
        }
    }

    private func multiply(_ a: Value, _ b: Value) throws -> Value {
        if let n = b.integer, let repeated = try repeatSequence(a, n) { return repeated }
        if let n = a.integer, let repeated = try repeatSequence(b, n) { return repeated }
        return try arithmetic(.multiply, a, b, integer: { try checked($0.multipliedReportingOverflow(by: $1)) }, float: { $0 * $1 })
    }

    /// `'ab' * 3`, `[1] * 3`: bounded before anything is allocated.
    private func repeatSequence(_ sequence: Value, _ count: Int) throws -> Value? {
        let n = max(count, 0)
        switch sequence {
        case .string(let s), .markup(let s):
            let (size, overflow) = s.utf8.count.multipliedReportingOverflow(by: n)
            if overflow || size > limits.maxOutputBytes {
                throw Failure("the string would exceed \(limits.maxOutputBytes) bytes", kind: .limitExceeded)
            }
            let repeated = String(repeating: s, count: n)
            if case .markup = sequence { return .markup(repeated) }
            return .string(repeated)
        case .list(let items), .tuple(let items):
            let (size, overflow) = items.count.multipliedReportingOverflow(by: n)
            if overflow { throw Failure("the list would be too long", kind: .limitExceeded) }
            try tick(size)
            let repeated = Array([[Value]](repeating: items, count: n).joined())
            if case .tuple = sequence { return .tuple(repeated) }
            return .list(repeated)
        default:
            return nil
        }
    }

    /// Integer arithmetic when both sides are integers (or bools), float otherwise.
    private func arithmetic(_ op: Jinja.BinaryOperator, _ a: Value, _ b: Value,
                            integer: (Int, Int) throws -> Int, float: (Double, Double) throws -> Double) throws -> Value {
        if let x = a.integer, let y = b.integer { return .int(try integer(x, y)) }
        guard let x = a.number, let y = b.number else { throw unsupported(op, a, b) }
        return .float(try float(x, y))
    }

    private func checked(_ result: (partialValue: Int, overflow: Bool)) throws -> Int {
        if result.overflow { throw integerOverflow() }
        return result.partialValue
    }

    private func integerOverflow() -> Failure {
        Failure("integer overflow: the result does not fit in 64 bits")
    }

    private func unsupported(_ op: Jinja.BinaryOperator, _ a: Value, _ b: Value) -> Failure {
        Failure("unsupported operand type(s) for \(op.rawValue): '\(a.typeName)' and '\(b.typeName)'")
    }

    func unsupportedUnary(_ op: String, _ value: Value) -> Failure {
        if case .undefined(let message) = value { return Failure(message) }
        return Failure("bad operand type for unary \(op): '\(value.typeName)'")
    }

    func negate(_ value: Value) throws -> Value {
        if let i = value.integer { return .int(try checked((0).subtractingReportingOverflow(i))) }
        if case .float(let f) = value { return .float(-f) }
        throw unsupportedUnary("-", value)
    }

    // MARK: comparison

    func compare(_ op: Jinja.CompareOperator, _ a: Value, _ b: Value) throws -> Bool {
        switch op {
        case .equal: return try equal(a, b)
        case .notEqual: return !(try equal(a, b))
        case .less: return try order(a, b, op) < 0
        case .lessOrEqual: return try order(a, b, op) <= 0
        case .greater: return try order(a, b, op) > 0
        case .greaterOrEqual: return try order(a, b, op) >= 0
        case .in: return try contains(b, a)
        case .notIn: return !(try contains(b, a))
        }
    }

    /// Python `==`: numbers by value across int/float/bool, strings by code points, lists and
    /// tuples element-wise (a list never equals a tuple), dicts regardless of order.
    func equal(_ a: Value, _ b: Value, depth: Int = 0) throws -> Bool {
        guard depth < Jinja.maxValueDepth else {
            throw Failure("values nest deeper than \(Jinja.maxValueDepth) levels", kind: .limitExceeded)
        }
        switch (a, b) {
        case (.undefined, .undefined), (.null, .null): return true
        case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
            guard x.count == y.count else { return false }
            try tick(x.count)
            for (u, v) in zip(x, y) where !(try equal(u, v, depth: depth + 1)) { return false }
            return true
        case (.dict(let x), .dict(let y)):
            guard x.count == y.count else { return false }
            try tick(x.count)
            for (key, value) in x.pairs {
                guard let other = y.get(key), try equal(value, other, depth: depth + 1) else { return false }
            }
            return true
        case (.namespace(let x), .namespace(let y)): return x === y
        case (.function(let x), .function(let y)): return x === y
        case (.loop(let x), .loop(let y)): return x === y
        case (.iterator(let x), .iterator(let y)): return x === y
        default:
            if let x = a.stringValue, let y = b.stringValue { return x.utf8.elementsEqual(y.utf8) }
            if let x = a.integer, let y = b.integer { return x == y }
            if let x = a.number, let y = b.number { return x == y }
            return false
        }
    }

    /// Python ordering (`<`): numbers, strings by code point, lists and tuples
    /// lexicographically; other pairs are a TypeError.
    func order(_ a: Value, _ b: Value, _ op: Jinja.CompareOperator = .less, depth: Int = 0) throws -> Int {
        if case .undefined(let message) = a { throw Failure(message) }
        if case .undefined(let message) = b { throw Failure(message) }
        guard depth < Jinja.maxValueDepth else {
            throw Failure("values nest deeper than \(Jinja.maxValueDepth) levels", kind: .limitExceeded)
        }
        switch (a, b) {
        case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
            try tick(min(x.count, y.count))
            for (u, v) in zip(x, y) where !(try equal(u, v, depth: depth + 1)) {
                return try order(u, v, op, depth: depth + 1)
            }
            return x.count < y.count ? -1 : x.count > y.count ? 1 : 0
        default:
            if let x = a.stringValue, let y = b.stringValue {
                return x.utf8.lexicographicallyPrecedes(y.utf8) ? -1 : x.utf8.elementsEqual(y.utf8) ? 0 : 1
            }
            if let x = a.integer, let y = b.integer { return x < y ? -1 : x > y ? 1 : 0 }
            if let x = a.number, let y = b.number { return x < y ? -1 : x > y ? 1 : 0 }
            throw Failure("'\(op.rawValue)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
        }
    }

    /// Python `item in container`.
    func contains(_ container: Value, _ item: Value) throws -> Bool {
        switch container {
        case .string(let s), .markup(let s):
            guard let needle = item.stringValue else {
                if case .undefined(let message) = item { throw Failure(message) }
                throw Failure("'in <string>' requires string as left operand, not \(item.typeName)")
            }
            return needle.isEmpty || s.utf8.firstRange(of: needle.utf8) != nil
        case .list(let items), .tuple(let items):
            try tick(items.count)
            return try items.contains { try equal($0, item) }
        case .dict(let d):
            _ = try Jinja.HashKey(item)
            return d.get(item) != nil
        case .iterator(let state):
            // Python consumes an iterator up to the first match.
            while let next = state.remaining.popFirst() {
                try tick()
                if try equal(next, item) { return true }
            }
            return false
        case .undefined:
            return false
        default:
            throw Failure("argument of type '\(container.typeName)' is not iterable")
        }
    }
}

private func floorDivide(_ x: Int, _ y: Int) -> Int {
    let q = x / y
    return (x % y != 0) && ((x < 0) != (y < 0)) ? q - 1 : q
}

/// CPython's `float_divmod`, so `//` and `%` on floats give Python's results and signs.
private func pythonFloatDivmod(_ x: Double, _ y: Double) -> (quotient: Double, remainder: Double) {
    var mod = fmod(x, y)
    var div = (x - mod) / y
    if mod != 0 {
        if (y < 0) != (mod < 0) {
            mod += y
            div -= 1
        }
    } else {
        mod = copysign(0, y)
    }
    var floorDiv: Double
    if div != 0 {
        floorDiv = floor(div)
        if div - floorDiv > 0.5 { floorDiv += 1 }
    } else {
        floorDiv = copysign(0, x / y)
    }
    return (floorDiv, mod)
}
