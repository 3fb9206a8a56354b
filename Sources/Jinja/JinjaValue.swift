extension Jinja {
    /// A value during rendering, with Python's semantics since templates are written for
    /// Jinja2 running on Python: dictionaries keep insertion order, `1 == 1.0 == True`,
    /// strings are sequences of Unicode code points.
    indirect enum Value {
        /// Jinja2's default `Undefined`: prints as "", is falsy, iterates as empty, and fails
        /// (with `message`) when used as a value (attribute, arithmetic, call).
        case undefined(message: String)
        case null
        case bool(Bool)
        case int(Int)
        case float(Double)
        case string(String)
        /// A string marked safe (`|safe`). As markupsafe's `Markup`, `markup + str` escapes
        /// the plain string's HTML characters; everything else treats it as a string.
        case markup(String)
        case list([Value])
        case tuple([Value])
        case dict(Dict)
        case namespace(Namespace)
        case function(Function)
        case loop(LoopState)
        /// A one-pass iterator: what `map`, `select`, `unique`, the `items` filter and
        /// `reverse` return in Jinja2 (Python generators). See `IteratorState`.
        case iterator(IteratorState)

        /// The message Jinja2 gives for a name that was never set.
        static func undefinedName(_ name: String) -> Value {
            .undefined(message: "'\(name)' is undefined")
        }

        var isUndefined: Bool {
            if case .undefined = self { return true }
            return false
        }

        /// The text of a string or markup value.
        var stringValue: String? {
            switch self {
            case .string(let s), .markup(let s): return s
            default: return nil
            }
        }

        /// Python's truth value.
        var isTruthy: Bool {
            switch self {
            case .undefined, .null: return false
            case .bool(let b): return b
            case .int(let i): return i != 0
            case .float(let f): return f != 0
            case .string(let s), .markup(let s): return !s.isEmpty
            case .list(let items), .tuple(let items): return !items.isEmpty
            case .dict(let d): return d.count > 0
            case .namespace, .function, .loop, .iterator: return true
            }
        }

        /// Python's type name, for error messages as Jinja2 words them.
        var typeName: String {
            switch self {
            case .undefined: return "Undefined"
            case .null: return "NoneType"
            case .bool: return "bool"
            case .int: return "int"
            case .float: return "float"
            case .string: return "str"
            case .markup: return "Markup"
            case .list: return "list"
            case .tuple: return "tuple"
            case .dict: return "dict"
            case .namespace: return "Namespace"
            case .function(let f): return f.isMacro ? "Macro" : "function"
            case .loop: return "LoopContext"
            case .iterator(let state): return state.typeName
            }
        }

        /// Jinja2's `object_type_repr`, used in "has no attribute" messages.
        var objectDescription: String {
            if case .null = self { return "None" }
            return "\(typeName) object"
        }

        /// A number as Double (bools count as integers, as in Python).
        var number: Double? {
            switch self {
            case .bool(let b): return b ? 1 : 0
            case .int(let i): return Double(i)
            case .float(let f): return f
            default: return nil
            }
        }

        /// An integer, bools included.
        var integer: Int? {
            switch self {
            case .bool(let b): return b ? 1 : 0
            case .int(let i): return i
            default: return nil
            }
        }
    }

    /// An error raised while evaluating, before the interpreter knows where: it adds the
    /// template location and turns it into a `ChatTemplateError`.
    struct Failure: Error {
        let kind: ChatTemplateError.Kind
        let message: String

        init(_ message: String, kind: ChatTemplateError.Kind = .render) {
            self.kind = kind
            self.message = message
        }
    }

    /// Containers nested deeper than this are refused (when built, printed or compared), so
    /// that a template cannot build a value whose recursive walk or release overflows the stack.
    static let maxValueDepth = 256

    /// Arguments of a call, after evaluation.
    struct CallArguments {
        var positional: [Value] = []
        var keywords: [(name: String, value: Value)] = []

        /// Binds the arguments to named parameters as Python does: positionally, then by keyword;
        /// a missing parameter takes its default, and one without a default is an error.
        func bind(_ function: String, _ parameters: [(name: String, defaultValue: Value?)]) throws -> [Value] {
            guard positional.count <= parameters.count else {
                throw Failure("\(function)() takes at most \(parameters.count) argument\(parameters.count == 1 ? "" : "s") (\(positional.count) given)")
            }
            var bound: [Value?] = positional.map { $0 } + Array(repeating: nil, count: parameters.count - positional.count)
            for (name, value) in keywords {
                guard let i = parameters.firstIndex(where: { $0.name == name }) else {
                    throw Failure("\(function)() got an unexpected keyword argument '\(name)'")
                }
                guard bound[i] == nil else { throw Failure("\(function)() got multiple values for argument '\(name)'") }
                bound[i] = value
            }
            return try zip(bound, parameters).map { value, parameter in
                guard let v = value ?? parameter.defaultValue else {
                    throw Failure("\(function)() missing required argument '\(parameter.name)'")
                }
                return v
            }
        }
    }

    /// Something callable from a template: a macro, a global such as `namespace`, or a
    /// method bound to its receiver (`'a b'.split`).
    final class Function {
        let name: String
        let isMacro: Bool
        let body: (Interpreter, CallArguments) throws -> Value

        init(_ name: String, isMacro: Bool = false, _ body: @escaping (Interpreter, CallArguments) throws -> Value) {
            self.name = name
            self.isMacro = isMacro
            self.body = body
        }
    }

    /// `namespace(...)`: the one mutable object templates have, so that a value set inside a
    /// loop body (a scope of its own) survives the loop.
    final class Namespace {
        var attributes = Dict()
    }

    /// The `loop` variable of a for loop.
    final class LoopState {
        let items: [Value]
        var index0 = 0
        /// Last arguments of `loop.changed(...)`.
        var lastChanged: [Value]?

        init(items: [Value]) { self.items = items }
    }

    /// A Python iterator, reproduced because templates observe its quirks: it is true even
    /// when empty, has no length, `tojson` refuses it, and iterating it consumes it.
    final class IteratorState {
        let typeName: String
        var remaining: ArraySlice<Value>

        init(typeName: String = "generator", _ items: [Value]) {
            self.typeName = typeName
            remaining = items[...]
        }

        /// Takes the items not consumed yet.
        func consume() -> [Value] {
            defer { remaining = [] }
            return Array(remaining)
        }
    }

    /// A Python dict: insertion-ordered, keyed by value with Python's equality (`1`, `1.0` and
    /// `True` are one key). Setting an existing key keeps the key's place and first spelling.
    struct Dict {
        private(set) var keys: [Value] = []
        private(set) var values: [Value] = []
        private var index: [HashKey: Int] = [:]

        var count: Int { keys.count }

        var pairs: Zip2Sequence<[Value], [Value]> { zip(keys, values) }

        /// Fails for unhashable keys (lists, dicts), as Python does.
        mutating func set(_ key: Value, _ value: Value) throws {
            let hashKey = try HashKey(key)
            if let i = index[hashKey] {
                values[i] = value
            } else {
                index[hashKey] = keys.count
                keys.append(key)
                values.append(value)
            }
        }

        /// Nil when absent or unhashable (Jinja2 turns both into undefined).
        func get(_ key: Value) -> Value? {
            guard let hashKey = try? HashKey(key), let i = index[hashKey] else { return nil }
            return values[i]
        }

        func get(_ key: String) -> Value? {
            index[.string(ExactString(key))].map { values[$0] }
        }
    }

    /// Python's hash equality for dict keys.
    enum HashKey: Hashable {
        /// Every undefined value is equal to every other (Jinja2's `Undefined.__eq__`).
        case undefined
        case null
        case integer(Int)
        case float(UInt64)
        case string(ExactString)
        case tuple([HashKey])

        init(_ value: Value) throws {
            switch value {
            case .undefined: self = .undefined
            case .null: self = .null
            case .bool(let b): self = .integer(b ? 1 : 0)
            case .int(let i): self = .integer(i)
            case .float(let f):
                if f == f.rounded(), let i = Int(exactly: f) { self = .integer(i) } else { self = .float(f.bitPattern) }
            case .string(let s), .markup(let s): self = .string(ExactString(s))
            case .tuple(let items): self = .tuple(try items.map(HashKey.init))
            default: throw Failure("unhashable type: '\(value.typeName)'")
            }
        }
    }
}
