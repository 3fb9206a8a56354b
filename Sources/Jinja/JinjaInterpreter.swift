import Foundation

extension Jinja {
    /// Variables visible at one point of a template. Jinja2 gives every for-loop iteration,
    /// macro call and `with` block a scope of its own: a `set` inside one is not seen
    /// outside it (only a namespace attribute is), while `if` shares its enclosing scope.
    final class Scope {
        private(set) var variables: [String: Value] = [:]
        let parent: Scope?

        init(parent: Scope?) { self.parent = parent }

        func lookup(_ name: String) -> Value? {
            var scope: Scope? = self
            while let current = scope {
                if let value = current.variables[name] { return value }
                scope = current.parent
            }
            return nil
        }

        func set(_ name: String, _ value: Value) { variables[name] = value }

        /// Drops every variable, breaking reference cycles (a macro refers to the scope it
        /// was defined in, and that scope holds the macro).
        func clear() { variables = [:] }
    }

    /// Renders a parsed template. One interpreter renders once: it holds the output buffer
    /// and the counters that bound a hostile template.
    final class Interpreter {
        let limits: JinjaTemplate.Limits
        /// What `strftime_now` formats.
        let now: Date
        private var output = ""
        private var steps = 0
        private var callDepth = 0
        /// Scopes that hold macros and every namespace created, cleared after rendering to
        /// break the reference cycles they can form.
        private var scopesWithMacros: [Scope] = []
        private var namespaces: [Namespace] = []

        init(limits: JinjaTemplate.Limits, now: Date) {
            self.limits = limits
            self.now = now
        }

        /// Renders `nodes` with `variables` (and the global functions) in scope.
        func render(_ nodes: [Node], variables: [String: Value]) throws -> String {
            let globals = Scope(parent: nil)
            for (name, value) in Globals.functions() { globals.set(name, value) }
            let root = Scope(parent: globals)
            for (name, value) in variables { root.set(name, value) }
            defer {
                for scope in scopesWithMacros + [root] { scope.clear() }
                for namespace in namespaces { namespace.attributes = Dict() }
            }
            _ = try execute(nodes, in: root)
            return output
        }

        // MARK: limits

        /// Counts one unit of work; every statement, loop iteration, call and element walked
        /// by a filter counts, so that no template runs unbounded.
        func tick(_ count: Int = 1) throws {
            steps += count
            if steps > limits.maxSteps {
                throw Failure("rendering took more than \(limits.maxSteps) steps", kind: .limitExceeded)
            }
        }

        /// Fails when a string being built would exceed the output limit.
        func checkSize(_ text: String) throws {
            if text.utf8.count > limits.maxOutputBytes {
                throw Failure("the output would exceed \(limits.maxOutputBytes) bytes", kind: .limitExceeded)
            }
        }

        private func write(_ text: String) throws {
            output += text
            try checkSize(output)
        }

        /// Renders `body` into a string of its own (macro calls, `set` and `filter` blocks).
        func capture(_ body: () throws -> Void) throws -> String {
            let saved = output
            output = ""
            defer { output = saved }
            try body()
            return output
        }

        func register(_ namespace: Namespace) {
            namespaces.append(namespace)
        }

        // MARK: statements

        enum Flow { case normal, breakLoop, continueLoop }

        func execute(_ nodes: [Node], in scope: Scope) throws -> Flow {
            for node in nodes {
                let flow: Flow
                do {
                    try tick()
                    flow = try execute(node, in: scope)
                } catch let failure as Failure {
                    throw ChatTemplateError(failure.kind, failure.message, line: node.location.line, column: node.location.column)
                }
                if flow != .normal { return flow }
            }
            return .normal
        }

        private func execute(_ node: Node, in scope: Scope) throws -> Flow {
            switch node.kind {
            case .text(let text):
                try write(text)
            case .output(let expression):
                try write(try string(of: try evaluate(expression, in: scope)))
            case .ifStatement(let branches, let otherwise):
                for branch in branches where try evaluate(branch.test, in: scope).isTruthy {
                    return try execute(branch.body, in: scope)
                }
                return try execute(otherwise, in: scope)
            case .forLoop(let loop):
                return try executeFor(loop, in: scope)
            case .set(let target, let expression):
                try assign(target, try evaluate(expression, in: scope), in: scope)
            case .setBlock(let target, let filters, let body):
                var value = Value.string(try capture { _ = try execute(body, in: scope) })
                for filter in filters { value = try applyFilter(filter, to: value, in: scope) }
                try assign(target, value, in: scope)
            case .macro(let definition):
                scope.set(definition.name, .function(macro(definition, closure: scope)))
                scopesWithMacros.append(scope)
            case .filterBlock(let filters, let body):
                var value = Value.string(try capture { _ = try execute(body, in: scope) })
                for filter in filters { value = try applyFilter(filter, to: value, in: scope) }
                try write(try string(of: value))
            case .with(let assignments, let body):
                let inner = Scope(parent: scope)
                for (target, expression) in assignments {
                    try assign(target, try evaluate(expression, in: scope), in: inner)
                }
                return try execute(body, in: inner)
            case .generation(let body):
                return try execute(body, in: Scope(parent: scope))
            case .breakLoop:
                return .breakLoop
            case .continueLoop:
                return .continueLoop
            }
            return .normal
        }

        private func executeFor(_ loop: ForLoop, in scope: Scope) throws -> Flow {
            var items = try iterate(try evaluate(loop.iterable, in: scope))
            if let condition = loop.condition {
                items = try items.filter { item in
                    try tick()
                    let probe = Scope(parent: scope)
                    try assign(loop.target, item, in: probe)
                    return try evaluate(condition, in: probe).isTruthy
                }
            }
            guard !items.isEmpty else {
                return try execute(loop.otherwise, in: Scope(parent: scope))
            }
            let state = LoopState(items: items)
            for (index, item) in items.enumerated() {
                try tick()
                state.index0 = index
                let iteration = Scope(parent: scope)
                try assign(loop.target, item, in: iteration)
                iteration.set("loop", .loop(state))
                if try execute(loop.body, in: iteration) == .breakLoop { break }
            }
            return .normal
        }

        func assign(_ target: AssignTarget, _ value: Value, in scope: Scope) throws {
            switch target {
            case .name(let name):
                scope.set(name, value)
            case .namespaceAttribute(let name, let attribute):
                guard case .namespace(let namespace) = scope.lookup(name) ?? .undefinedName(name) else {
                    throw Failure("cannot assign attribute on non-namespace object '\(name)'")
                }
                try Globals.checkNamespaceAttribute(attribute)
                try checkNesting([value])
                try namespace.attributes.set(.string(attribute), value)
            case .tuple(let targets):
                let items = try unpack(value, count: targets.count)
                for (target, item) in zip(targets, items) { try assign(target, item, in: scope) }
            }
        }

        private func unpack(_ value: Value, count: Int) throws -> [Value] {
            switch value {
            case .list, .tuple, .string, .markup, .dict, .undefined, .iterator: break
            default: throw Failure("cannot unpack non-iterable \(value.typeName) object")
            }
            let items = try iterate(value)
            if items.count > count { throw Failure("too many values to unpack (expected \(count))") }
            if items.count < count { throw Failure("not enough values to unpack (expected \(count), got \(items.count))") }
            return items
        }

        /// Python iteration: a string yields its characters, a dict its keys, undefined nothing.
        func iterate(_ value: Value) throws -> [Value] {
            switch value {
            case .list(let items), .tuple(let items): return items
            case .string(let s), .markup(let s):
                // A string is walked character by character: bounded by the steps left before
                // a value is made for each (strings can be megabytes; the caller counts the steps).
                // (The UTF-8 length bounds the character count and is known without a walk.)
                if steps + s.utf8.count > limits.maxSteps && steps + s.unicodeScalars.count > limits.maxSteps {
                    throw Failure("rendering took more than \(limits.maxSteps) steps", kind: .limitExceeded)
                }
                return s.unicodeScalars.map { .string(String($0)) }
            case .dict(let d): return d.keys
            case .iterator(let state): return state.consume()
            case .undefined: return []
            default: throw Failure("'\(value.typeName)' object is not iterable")
            }
        }

        // MARK: macros

        private func macro(_ definition: MacroDefinition, closure: Scope) -> Function {
            Function(definition.name, isMacro: true) { interpreter, arguments in
                try interpreter.call(definition, closure: closure, arguments)
            }
        }

        /// Binds arguments as Jinja2's `Macro.__call__` does: a parameter neither passed nor
        /// defaulted is undefined, and the result is the rendered body.
        private func call(_ definition: MacroDefinition, closure: Scope, _ arguments: CallArguments) throws -> Value {
            callDepth += 1
            defer { callDepth -= 1 }
            guard callDepth <= limits.maxCallDepth else {
                throw Failure("macro calls nest deeper than \(limits.maxCallDepth) (runaway recursion in '\(definition.name)'?)",
                              kind: .limitExceeded)
            }
            let parameters = definition.parameters
            guard arguments.positional.count <= parameters.count else {
                throw Failure("macro '\(definition.name)' takes not more than \(parameters.count) argument(s)")
            }
            let scope = Scope(parent: closure)
            var given: [String: Value] = [:]
            for (parameter, value) in zip(parameters, arguments.positional) { given[parameter.name] = value }
            for (name, value) in arguments.keywords {
                guard parameters.contains(where: { $0.name == name }) else {
                    throw Failure("macro '\(definition.name)' takes no keyword argument '\(name)'")
                }
                guard given.updateValue(value, forKey: name) == nil else {
                    throw Failure("macro '\(definition.name)' got multiple values for argument '\(name)'")
                }
            }
            for parameter in parameters {
                if let value = given[parameter.name] {
                    scope.set(parameter.name, value)
                } else if let defaultValue = parameter.defaultValue {
                    scope.set(parameter.name, try evaluate(defaultValue, in: scope))
                } else {
                    scope.set(parameter.name, .undefined(message: "parameter '\(parameter.name)' was not provided"))
                }
            }
            return .string(try capture { _ = try execute(definition.body, in: scope) })
        }

        // MARK: value nesting

        /// Fails if a container holding `elements` would nest deeper than `maxValueDepth`.
        /// Shared sub-values (the same list stored twice) are walked once, so the check costs
        /// the number of distinct containers, and a namespace that contains itself is caught.
        func checkNesting(_ elements: [Value]) throws {
            var depths: [UnsafeRawPointer: Int] = [:]
            var namespaceDepths: [ObjectIdentifier: Int] = [:]
            func depth(_ value: Value, _ level: Int) throws -> Int {
                guard level < maxValueDepth else {
                    throw Failure("values nest deeper than \(maxValueDepth) levels", kind: .limitExceeded)
                }
                func children(_ items: [Value]) throws -> Int {
                    guard !items.isEmpty else { return 1 }
                    let key = items.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress!) }
                    if let known = depths[key] { return known }
                    try tick(items.count)
                    let d = 1 + (try items.map { try depth($0, level + 1) }.max() ?? 0)
                    depths[key] = d
                    return d
                }
                switch value {
                case .list(let items), .tuple(let items): return try children(items)
                case .dict(let d): return try children(d.values)
                case .iterator(let state): return try children(Array(state.remaining))
                case .namespace(let ns):
                    let key = ObjectIdentifier(ns)
                    if let known = namespaceDepths[key] {
                        // A namespace still being walked contains itself.
                        guard known >= 0 else {
                            throw Failure("a namespace cannot contain itself", kind: .limitExceeded)
                        }
                        return known
                    }
                    namespaceDepths[key] = -1
                    let d = try children(ns.attributes.values)
                    namespaceDepths[key] = d
                    return d
                default: return 0
                }
            }
            for element in elements where try depth(element, 1) >= maxValueDepth {
                throw Failure("values nest deeper than \(maxValueDepth) levels", kind: .limitExceeded)
            }
        }
    }
}
