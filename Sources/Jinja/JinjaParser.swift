extension Jinja {
    /// Recursive descent over the lexer's tokens, following Jinja2's `parser.py` grammar and
    /// operator precedence: conditional < or < and < not < comparison < `+ -` < `~` <
    /// `* / // %` < `**` < unary minus < postfix (`.a`, `[i]`, calls) < filters and tests.
    struct Parser {
        /// Deeper nesting of blocks or brackets is refused: real templates nest a handful of
        /// levels, and a hostile one must not exhaust the stack of the parser or interpreter.
        static let maxNesting = 100

        /// Tags that only close or continue a block, reported as misplaced rather than unknown.
        private static let closingTags: Set<String> = [
            "elif", "else", "endif", "endfor", "endset", "endmacro", "endfilter", "endwith", "endgeneration", "endraw",
        ]

        private let tokens: [Token]
        private var index = 0
        private var nesting = 0
        /// Open `for` loops, to refuse `break`/`continue` outside one (a macro body starts afresh).
        private var loopDepth = 0

        static func parse(_ source: String) throws -> [Node] {
            var parser = Parser(tokens: try Lexer.tokenize(source))
            let (body, _) = try parser.parseBody(until: [])
            return body
        }

        private init(tokens: [Token]) { self.tokens = tokens }

        // MARK: token stream

        private var current: Token { tokens[index] }

        private func peek(_ offset: Int = 1) -> Token {
            tokens[min(index + offset, tokens.count - 1)]
        }

        private mutating func advance() -> Token {
            let token = tokens[index]
            if index < tokens.count - 1 { index += 1 }
            return token
        }

        private func failure(_ message: String, at location: Location? = nil) -> ChatTemplateError {
            let l = location ?? current.location
            return ChatTemplateError(.syntax, message, line: l.line, column: l.column)
        }

        private func describe(_ token: Token) -> String {
            switch token.kind {
            case .text: return "template text"
            case .variableBegin: return "'{{'"
            case .variableEnd: return "end of print statement '}}'"
            case .blockBegin: return "'{%'"
            case .blockEnd: return "end of statement block '%}'"
            case .name(let n): return "'\(n)'"
            case .string: return "string literal"
            case .integer(let v): return "integer \(v)"
            case .float(let v): return "number \(v)"
            case .op(let o): return "'\(o)'"
            case .end: return "end of template"
            }
        }

        private func isOp(_ op: String, _ token: Token? = nil) -> Bool {
            if case .op(let o) = (token ?? current).kind { return o == op }
            return false
        }

        private func isName(_ name: String, _ token: Token? = nil) -> Bool {
            if case .name(let n) = (token ?? current).kind { return n == name }
            return false
        }

        private mutating func skipOp(_ op: String) -> Bool {
            guard isOp(op) else { return false }
            _ = advance()
            return true
        }

        private mutating func skipName(_ name: String) -> Bool {
            guard isName(name) else { return false }
            _ = advance()
            return true
        }

        private mutating func expectOp(_ op: String) throws {
            guard skipOp(op) else { throw failure("expected '\(op)', got \(describe(current))") }
        }

        private mutating func expectName() throws -> String {
            guard case .name(let n) = current.kind else { throw failure("expected a name, got \(describe(current))") }
            _ = advance()
            return n
        }

        private mutating func expectBlockEnd() throws {
            guard case .blockEnd = current.kind else {
                throw failure("expected end of statement block '%}', got \(describe(current))")
            }
            _ = advance()
        }

        private mutating func nested<T>(at location: Location, _ body: (inout Parser) throws -> T) throws -> T {
            nesting += 1
            defer { nesting -= 1 }
            guard nesting <= Parser.maxNesting else {
                throw ChatTemplateError(.limitExceeded, "the template nests more than \(Parser.maxNesting) levels deep",
                                        line: location.line, column: location.column)
            }
            return try body(&self)
        }

        // MARK: statements

        /// Template text, prints and statements up to one of the `until` tags, which is
        /// consumed (its arguments and `%}` are left for the caller).
        private mutating func parseBody(until endTags: [String]) throws -> (body: [Node], end: String) {
            var body: [Node] = []
            while true {
                let token = current
                switch token.kind {
                case .text(let text):
                    _ = advance()
                    body.append(Node(kind: .text(text), location: token.location))
                case .variableBegin:
                    _ = advance()
                    let expression = try parseTuple()
                    guard case .variableEnd = current.kind else {
                        throw failure("expected end of print statement '}}', got \(describe(current))")
                    }
                    _ = advance()
                    body.append(Node(kind: .output(expression), location: token.location))
                case .blockBegin:
                    if case .name(let name) = peek().kind {
                        if endTags.contains(name) {
                            _ = advance()
                            _ = advance()
                            return (body, name)
                        }
                        if Parser.closingTags.contains(name) {
                            let expected = endTags.isEmpty ? "there is no block to close"
                                : "expected " + endTags.map { "'\($0)'" }.joined(separator: " or ")
                            throw failure("unexpected '\(name)', \(expected)", at: peek().location)
                        }
                    }
                    _ = advance()
                    body.append(try parseStatement(at: token.location))
                case .end:
                    if endTags.isEmpty { return (body, "") }
                    let expected = endTags.map { "'\($0)'" }.joined(separator: " or ")
                    throw failure("unexpected end of template, expected \(expected)")
                default:
                    throw failure("unexpected \(describe(token))")
                }
            }
        }

        private mutating func parseStatement(at location: Location) throws -> Node {
            let token = current
            guard case .name(let tag) = token.kind else { throw failure("expected a statement name, got \(describe(token))") }
            _ = advance()
            return try nested(at: location) { parser in
                switch tag {
                case "if": return try parser.parseIf(at: location)
                case "for": return try parser.parseFor(at: location)
                case "set": return try parser.parseSet(at: location)
                case "macro": return try parser.parseMacro(at: location)
                case "filter": return try parser.parseFilterBlock(at: location)
                case "with": return try parser.parseWith(at: location)
                case "generation":
                    try parser.expectBlockEnd()
                    let (body, _) = try parser.parseBody(until: ["endgeneration"])
                    try parser.expectBlockEnd()
                    return Node(kind: .generation(body: body), location: location)
                case "break", "continue":
                    guard parser.loopDepth > 0 else { throw parser.failure("'\(tag)' outside a for loop", at: token.location) }
                    try parser.expectBlockEnd()
                    return Node(kind: tag == "break" ? .breakLoop : .continueLoop, location: location)
                case "extends", "include", "import", "from", "block", "call", "autoescape":
                    throw parser.failure("the '\(tag)' tag is not supported in chat templates", at: token.location)
                default:
                    throw parser.failure("unknown tag '\(tag)'", at: token.location)
                }
            }
        }

        private mutating func parseIf(at location: Location) throws -> Node {
            var branches: [(test: Expression, body: [Node])] = []
            var otherwise: [Node] = []
            var test = try parseTuple(conditional: false)
            while true {
                try expectBlockEnd()
                let (body, end) = try parseBody(until: ["elif", "else", "endif"])
                branches.append((test, body))
                if end == "elif" {
                    test = try parseTuple(conditional: false)
                    continue
                }
                if end == "else" {
                    try expectBlockEnd()
                    (otherwise, _) = try parseBody(until: ["endif"])
                }
                try expectBlockEnd()
                return Node(kind: .ifStatement(branches: branches, otherwise: otherwise), location: location)
            }
        }

        private mutating func parseFor(at location: Location) throws -> Node {
            let target = try parseAssignTarget(endNames: ["in"])
            guard skipName("in") else { throw failure("expected 'in' in a for loop, got \(describe(current))") }
            let iterable = try parseTuple(conditional: false, endNames: ["recursive"])
            var condition: Expression?
            if skipName("if") { condition = try parseExpression() }
            if isName("recursive") { throw failure("recursive for loops are not supported") }
            try expectBlockEnd()
            loopDepth += 1
            let (body, end) = try parseBody(until: ["endfor", "else"])
            loopDepth -= 1
            var otherwise: [Node] = []
            if end == "else" {
                try expectBlockEnd()
                (otherwise, _) = try parseBody(until: ["endfor"])
            }
            try expectBlockEnd()
            let loop = ForLoop(target: target, iterable: iterable, condition: condition, body: body, otherwise: otherwise)
            return Node(kind: .forLoop(loop), location: location)
        }

        private mutating func parseSet(at location: Location) throws -> Node {
            let target = try parseAssignTarget(allowNamespace: true)
            if skipOp("=") {
                let value = try parseTuple()
                try expectBlockEnd()
                return Node(kind: .set(target, value), location: location)
            }
            let filters = try parseFilterChain()
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endset"])
            try expectBlockEnd()
            return Node(kind: .setBlock(target, filters: filters, body: body), location: location)
        }

        private mutating func parseMacro(at location: Location) throws -> Node {
            let name = try expectName()
            try expectOp("(")
            var parameters: [(name: String, defaultValue: Expression?)] = []
            while !isOp(")") {
                if !parameters.isEmpty { try expectOp(",") }
                if isOp(")") { break }
                let parameterLocation = current.location
                let parameter = try expectName()
                if skipOp("=") {
                    parameters.append((parameter, try parseExpression()))
                } else {
                    if parameters.last?.defaultValue != nil {
                        throw failure("non-default argument follows default argument", at: parameterLocation)
                    }
                    parameters.append((parameter, nil))
                }
            }
            try expectOp(")")
            try expectBlockEnd()
            let outerLoops = loopDepth
            loopDepth = 0
            let (body, _) = try parseBody(until: ["endmacro"])
            loopDepth = outerLoops
            try expectBlockEnd()
            return Node(kind: .macro(MacroDefinition(name: name, parameters: parameters, body: body)), location: location)
        }

        private mutating func parseFilterBlock(at location: Location) throws -> Node {
            var filters = [try parseFilterCall()]
            filters += try parseFilterChain()
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endfilter"])
            try expectBlockEnd()
            return Node(kind: .filterBlock(filters: filters, body: body), location: location)
        }

        private mutating func parseWith(at location: Location) throws -> Node {
            var assignments: [(AssignTarget, Expression)] = []
            while !isBlockEnd {
                if !assignments.isEmpty { try expectOp(",") }
                let target = try parseAssignTarget()
                try expectOp("=")
                assignments.append((target, try parseExpression()))
            }
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endwith"])
            try expectBlockEnd()
            return Node(kind: .with(assignments: assignments, body: body), location: location)
        }

        private var isBlockEnd: Bool {
            if case .blockEnd = current.kind { return true }
            return false
        }

        /// A name, `ns.attribute` (for `set`) or a tuple of names, as Jinja2's `parse_assign_target`.
        private mutating func parseAssignTarget(allowNamespace: Bool = false, endNames: Set<String> = []) throws -> AssignTarget {
            let first = try parseSingleTarget(allowNamespace: allowNamespace)
            guard isOp(",") else { return first }
            var targets = [first]
            while skipOp(",") {
                if isBlockEnd || isOp("=") || isOp("|") { break }
                if case .name(let n) = current.kind, endNames.contains(n) { break }
                targets.append(try parseSingleTarget(allowNamespace: allowNamespace))
            }
            return .tuple(targets)
        }

        private mutating func parseSingleTarget(allowNamespace: Bool) throws -> AssignTarget {
            if skipOp("(") {
                let inner = try parseAssignTarget(allowNamespace: allowNamespace)
                try expectOp(")")
                return inner
            }
            let location = current.location
            let name = try expectName()
            if ["true", "false", "none", "True", "False", "None"].contains(name) {
                throw failure("cannot assign to '\(name)'", at: location)
            }
            if allowNamespace && skipOp(".") {
                return .namespaceAttribute(namespace: name, attribute: try expectName())
            }
            return .name(name)
        }

        // MARK: expressions

        /// Expressions separated by commas make a tuple (`{% set a, b = 1, 2 %}`, `{{ 1, 2 }}`).
        private mutating func parseTuple(conditional: Bool = true, endNames: Set<String> = [],
                                         explicitParentheses: Bool = false) throws -> Expression {
            let location = current.location
            var items: [Expression] = []
            var isTuple = false
            while true {
                if !items.isEmpty { try expectOp(",") }
                if isTupleEnd(endNames) { break }
                items.append(conditional ? try parseExpression() : try parseOr())
                guard isOp(",") else { break }
                isTuple = true
            }
            if !isTuple {
                if let only = items.first { return only }
                if !explicitParentheses { throw failure("expected an expression, got \(describe(current))") }
            }
            return Expression(kind: .tuple(items), location: location)
        }

        private func isTupleEnd(_ endNames: Set<String>) -> Bool {
            switch current.kind {
            case .variableEnd, .blockEnd, .end: return true
            case .op(let o): return o == ")"
            case .name(let n): return endNames.contains(n)
            default: return false
            }
        }

        private mutating func parseExpression() throws -> Expression {
            try nested(at: current.location) { parser in
                var expression = try parser.parseOr()
                while parser.isName("if") {
                    let location = parser.advance().location
                    let test = try parser.parseOr()
                    let otherwise = parser.skipName("else") ? try parser.parseExpression() : nil
                    expression = Expression(kind: .conditional(test: test, then: expression, otherwise: otherwise), location: location)
                }
                return expression
            }
        }

        private mutating func parseOr() throws -> Expression {
            var left = try parseAnd()
            while isName("or") {
                let location = advance().location
                left = Expression(kind: .or(left, try parseAnd()), location: location)
            }
            return left
        }

        private mutating func parseAnd() throws -> Expression {
            var left = try parseNot()
            while isName("and") {
                let location = advance().location
                left = Expression(kind: .and(left, try parseNot()), location: location)
            }
            return left
        }

        private mutating func parseNot() throws -> Expression {
            if isName("not") {
                let location = advance().location
                return try nested(at: location) { parser in
                    Expression(kind: .not(try parser.parseNot()), location: location)
                }
            }
            return try parseCompare()
        }

        private mutating func parseCompare() throws -> Expression {
            let left = try parseMath1()
            var operations: [(CompareOperator, Expression)] = []
            while true {
                if case .op(let o) = current.kind, let op = CompareOperator(rawValue: o), op != .in, op != .notIn {
                    _ = advance()
                    operations.append((op, try parseMath1()))
                } else if skipName("in") {
                    operations.append((.in, try parseMath1()))
                } else if isName("not") && isName("in", peek()) {
                    _ = advance()
                    _ = advance()
                    operations.append((.notIn, try parseMath1()))
                } else {
                    break
                }
            }
            return operations.isEmpty ? left : Expression(kind: .compare(left, operations), location: left.location)
        }

        private mutating func parseMath1() throws -> Expression {
            var left = try parseConcat()
            while case .op(let o) = current.kind, o == "+" || o == "-" {
                let location = advance().location
                left = Expression(kind: .binary(BinaryOperator(rawValue: o)!, left, try parseConcat()), location: location)
            }
            return left
        }

        private mutating func parseConcat() throws -> Expression {
            let first = try parseMath2()
            var parts = [first]
            while skipOp("~") { parts.append(try parseMath2()) }
            return parts.count == 1 ? first : Expression(kind: .concat(parts), location: first.location)
        }

        private mutating func parseMath2() throws -> Expression {
            var left = try parsePow()
            while case .op(let o) = current.kind, ["*", "/", "//", "%"].contains(o) {
                let location = advance().location
                left = Expression(kind: .binary(BinaryOperator(rawValue: o)!, left, try parsePow()), location: location)
            }
            return left
        }

        private mutating func parsePow() throws -> Expression {
            var left = try parseUnary()
            while isOp("**") {
                let location = advance().location
                left = Expression(kind: .binary(.power, left, try parseUnary()), location: location)
            }
            return left
        }

        private mutating func parseUnary(withFilters: Bool = true) throws -> Expression {
            let location = current.location
            var expression: Expression
            if skipOp("-") {
                expression = try nested(at: location) { Expression(kind: .negate(try $0.parseUnary(withFilters: false)), location: location) }
            } else if skipOp("+") {
                expression = try nested(at: location) { Expression(kind: .plus(try $0.parseUnary(withFilters: false)), location: location) }
            } else {
                expression = try parsePrimary()
            }
            expression = try parsePostfix(expression)
            if withFilters { expression = try parseFilterAndTests(expression) }
            return expression
        }

        private mutating func parsePrimary() throws -> Expression {
            let token = current
            let location = token.location
            switch token.kind {
            case .name(let name):
                _ = advance()
                switch name {
                case "true", "True": return Expression(kind: .literal(.bool(true)), location: location)
                case "false", "False": return Expression(kind: .literal(.bool(false)), location: location)
                case "none", "None": return Expression(kind: .literal(.null), location: location)
                default: return Expression(kind: .name(name), location: location)
                }
            case .string(let value):
                _ = advance()
                // Adjacent string literals join, as in Python.
                var joined = value
                while case .string(let next) = current.kind {
                    joined += next
                    _ = advance()
                }
                return Expression(kind: .literal(.string(joined)), location: location)
            case .integer(let value):
                _ = advance()
                return Expression(kind: .literal(.int(value)), location: location)
            case .float(let value):
                _ = advance()
                return Expression(kind: .literal(.float(value)), location: location)
            case .op("("):
                _ = advance()
                return try nested(at: location) { parser in
                    let inner = try parser.parseTuple(explicitParentheses: true)
                    try parser.expectOp(")")
                    return inner
                }
            case .op("["):
                _ = advance()
                return try nested(at: location) { parser in
                    var items: [Expression] = []
                    while !parser.isOp("]") {
                        if !items.isEmpty { try parser.expectOp(",") }
                        if parser.isOp("]") { break }
                        items.append(try parser.parseExpression())
                    }
                    try parser.expectOp("]")
                    return Expression(kind: .list(items), location: location)
                }
            case .op("{"):
                _ = advance()
                return try nested(at: location) { parser in
                    var pairs: [(key: Expression, value: Expression)] = []
                    while !parser.isOp("}") {
                        if !pairs.isEmpty { try parser.expectOp(",") }
                        if parser.isOp("}") { break }
                        let key = try parser.parseExpression()
                        try parser.expectOp(":")
                        pairs.append((key, try parser.parseExpression()))
                    }
                    try parser.expectOp("}")
                    return Expression(kind: .dict(pairs), location: location)
                }
            default:
                throw failure("unexpected \(describe(token))")
            }
        }

        private mutating func parsePostfix(_ base: Expression) throws -> Expression {
            var expression = base
            while true {
                if isOp(".") {
                    let location = advance().location
                    switch current.kind {
                    case .name(let name):
                        _ = advance()
                        expression = Expression(kind: .attribute(expression, name), location: location)
                    case .integer(let i):
                        _ = advance()
                        expression = Expression(kind: .item(expression, Expression(kind: .literal(.int(i)), location: location)), location: location)
                    default:
                        throw failure("expected a name or number after '.', got \(describe(current))")
                    }
                } else if isOp("[") {
                    let location = advance().location
                    var subscripts: [Expression] = []
                    while !isOp("]") {
                        if !subscripts.isEmpty { try expectOp(",") }
                        subscripts.append(try parseSubscript())
                    }
                    try expectOp("]")
                    guard !subscripts.isEmpty else { throw failure("expected a subscript expression", at: location) }
                    let index = subscripts.count == 1 ? subscripts[0] : Expression(kind: .tuple(subscripts), location: location)
                    expression = Expression(kind: .item(expression, index), location: location)
                } else if isOp("(") {
                    let location = current.location
                    expression = Expression(kind: .call(expression, try parseCallArguments()), location: location)
                } else {
                    return expression
                }
            }
        }

        /// An index or a `start:stop:step` slice, each part optional.
        private mutating func parseSubscript() throws -> Expression {
            let location = current.location
            var parts: [Expression?] = []
            if isOp(":") {
                parts.append(nil)
            } else {
                let first = try parseExpression()
                guard isOp(":") else { return first }
                parts.append(first)
            }
            _ = advance()
            if isOp("]") || isOp(",") || isOp(":") {
                parts.append(nil)
            } else {
                parts.append(try parseExpression())
            }
            if skipOp(":") {
                parts.append(isOp("]") || isOp(",") ? nil : try parseExpression())
            } else {
                parts.append(nil)
            }
            return Expression(kind: .slice(parts[0], parts[1], parts[2]), location: location)
        }

        private mutating func parseCallArguments() throws -> Arguments {
            let open = current.location
            try expectOp("(")
            var arguments = Arguments()
            while !isOp(")") {
                if !arguments.positional.isEmpty || !arguments.keywords.isEmpty {
                    try expectOp(",")
                    if isOp(")") { break }
                }
                if isOp("*") || isOp("**") { throw failure("*args and **kwargs in calls are not supported") }
                if case .name(let name) = current.kind, isOp("=", peek()) {
                    _ = advance()
                    _ = advance()
                    arguments.keywords.append((name, try parseExpression()))
                } else {
                    guard arguments.keywords.isEmpty else {
                        throw failure("positional argument follows keyword argument", at: current.location)
                    }
                    arguments.positional.append(try parseExpression())
                }
            }
            guard skipOp(")") else { throw failure("expected ')' to close the call opened here", at: open) }
            return arguments
        }

        private mutating func parseFilterAndTests(_ base: Expression) throws -> Expression {
            var expression = base
            while true {
                if isOp("|") {
                    _ = advance()
                    let filter = try parseFilterCall()
                    expression = Expression(kind: .filter(expression, filter), location: filter.location)
                } else if isName("is") {
                    expression = try parseTest(expression)
                } else if isOp("(") {
                    let location = current.location
                    expression = Expression(kind: .call(expression, try parseCallArguments()), location: location)
                } else {
                    return expression
                }
            }
        }

        /// `| name(args)` after the pipe (the pipe already consumed).
        private mutating func parseFilterCall() throws -> FilterCall {
            let location = current.location
            let name = try expectName()
            guard Filters.names.contains(name) else { throw failure("no filter named '\(name)'", at: location) }
            let arguments = isOp("(") ? try parseCallArguments() : Arguments()
            return FilterCall(name: name, arguments: arguments, location: location)
        }

        /// Filters after `{% set x | f %}` or `{% filter f | g %}`.
        private mutating func parseFilterChain() throws -> [FilterCall] {
            var filters: [FilterCall] = []
            while skipOp("|") { filters.append(try parseFilterCall()) }
            return filters
        }

        private mutating func parseTest(_ subject: Expression) throws -> Expression {
            let location = advance().location
            let negated = skipName("not")
            let nameLocation = current.location
            // `is none`, `is true`, `is false` are names here even though they read as literals.
            let name = try expectName()
            guard Tests.names.contains(name) else { throw failure("no test named '\(name)'", at: nameLocation) }
            var arguments = Arguments()
            if isOp("(") {
                arguments = try parseCallArguments()
            } else if startsTestArgument() {
                if isName("is") { throw failure("you cannot chain multiple tests with 'is'") }
                arguments.positional = [try parsePostfix(try parsePrimary())]
            }
            let test = Expression(kind: .test(subject, name: name, arguments), location: location)
            return negated ? Expression(kind: .not(test), location: location) : test
        }

        /// `x is divisibleby 3`: a test may take one argument without parentheses.
        private func startsTestArgument() -> Bool {
            switch current.kind {
            case .name(let n): return !["else", "or", "and"].contains(n)
            case .string, .integer, .float: return true
            case .op(let o): return o == "[" || o == "{"
            default: return false
            }
        }
    }
}
