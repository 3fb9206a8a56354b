/// Jinja2's tests (`x is defined`, `x is string`, `x is divisibleby 3`), also used by
/// `select`, `reject`, `selectattr` and `rejectattr`.
extension Jinja {
    enum Tests {
        static let names: Set<String> = [
            "odd", "even", "divisibleby", "defined", "undefined", "filter", "test", "none", "boolean", "false",
            "true", "integer", "float", "lower", "upper", "string", "mapping", "number", "sequence", "iterable",
            "callable", "sameas", "escaped", "in", "==", "eq", "equalto", "!=", "ne", ">", "gt", "greaterthan",
            "ge", ">=", "<", "lt", "lessthan", "<=", "le",
        ]
    }
}

extension Jinja.Interpreter {
    func applyTest(_ name: String, to value: Value, _ arguments: Jinja.CallArguments) throws -> Bool {
        func argument() throws -> Value {
            try arguments.bind(name, [("other", nil)])[0]
        }
        func noArguments() throws {
            _ = try arguments.bind(name, [])
        }
        switch name {
        case "defined": try noArguments(); return !value.isUndefined
        case "undefined": try noArguments(); return value.isUndefined
        case "none": try noArguments(); if case .null = value { return true } else { return false }
        case "boolean": try noArguments(); if case .bool = value { return true } else { return false }
        case "true": try noArguments(); if case .bool(true) = value { return true } else { return false }
        case "false": try noArguments(); if case .bool(false) = value { return true } else { return false }
        case "integer": try noArguments(); if case .int = value { return true } else { return false }
        case "float": try noArguments(); if case .float = value { return true } else { return false }
        case "number": try noArguments(); return value.number != nil
        case "string": try noArguments(); return value.stringValue != nil
        case "escaped": try noArguments(); if case .markup = value { return true } else { return false }
        case "mapping": try noArguments(); if case .dict = value { return true } else { return false }
        case "iterable", "sequence":
            // Undefined counts: Jinja2's Undefined has __iter__, __len__ and __getitem__.
            try noArguments()
            switch value {
            case .list, .tuple, .string, .markup, .dict, .undefined: return true
            case .iterator: return name == "iterable"
            default: return false
            }
        case "callable":
            try noArguments()
            switch value {
            case .function, .undefined: return true
            default: return false
            }
        case "lower", "upper":
            try noArguments()
            let text = try string(of: value)
            let cased = text.unicodeScalars.contains { $0.properties.isCased }
            return cased && !text.unicodeScalars.contains { name == "lower" ? $0.properties.isUppercase : $0.properties.isLowercase }
        case "odd", "even":
            try noArguments()
            let remainder = try binary(.modulo, value, .int(2))
            return try equal(remainder, .int(name == "odd" ? 1 : 0))
        case "divisibleby":
            return try equal(try binary(.modulo, value, try argument()), .int(0))
        case "sameas":
            // Python identity: the same object, which for None and booleans means equal.
            switch (value, try argument()) {
            case (.null, .null): return true
            case (.bool(let a), .bool(let b)): return a == b
            case (.namespace(let a), .namespace(let b)): return a === b
            case (.function(let a), .function(let b)): return a === b
            default: return false
            }
        case "in": return try contains(try argument(), value)
        case "filter": try noArguments(); return value.stringValue.map { Jinja.Filters.names.contains($0) } ?? false
        case "test": try noArguments(); return value.stringValue.map { Jinja.Tests.names.contains($0) } ?? false
        case "==", "eq", "equalto": return try equal(value, try argument())
        case "!=", "ne": return !(try equal(value, try argument()))
        case ">", "gt", "greaterthan": return try order(value, try argument(), .greater) > 0
        case ">=", "ge": return try order(value, try argument(), .greaterOrEqual) >= 0
        case "<", "lt", "lessthan": return try order(value, try argument(), .less) < 0
        case "<=", "le": return try order(value, try argument(), .lessOrEqual) <= 0
        default: throw Failure("no test named '\(name)'")
        }
    }
}
