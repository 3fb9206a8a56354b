extension Jinja {
    /// A constant written in the template.
    enum Literal: Sendable {
        case null
        case bool(Bool)
        case int(Int)
        case float(Double)
        case string(String)
    }

    struct Expression: Sendable {
        indirect enum Kind: Sendable {
            case literal(Literal)
            case name(String)
            case list([Expression])
            case tuple([Expression])
            case dict([(key: Expression, value: Expression)])
            /// `a.b` (attribute first, then item, as Jinja2's `getattr`).
            case attribute(Expression, String)
            /// `a[b]` (item first, then attribute, as Jinja2's `getitem`).
            case item(Expression, Expression)
            /// `start:stop:step` inside a subscript.
            case slice(Expression?, Expression?, Expression?)
            case call(Expression, Arguments)
            case filter(Expression, FilterCall)
            /// `a is name(args)`; `is not` is a `not` around it.
            case test(Expression, name: String, Arguments)
            case not(Expression)
            case negate(Expression)
            case plus(Expression)
            case binary(BinaryOperator, Expression, Expression)
            case and(Expression, Expression)
            case or(Expression, Expression)
            /// `a < b < c` chains as in Python.
            case compare(Expression, [(CompareOperator, Expression)])
            /// `a ~ b ~ c`
            case concat([Expression])
            /// `a if test else b`; without `else` the result is undefined when the test fails.
            case conditional(test: Expression, then: Expression, otherwise: Expression?)
        }

        let kind: Kind
        let location: Location
    }

    struct Arguments: Sendable {
        var positional: [Expression] = []
        var keywords: [(name: String, value: Expression)] = []
    }

    struct FilterCall: Sendable {
        let name: String
        let arguments: Arguments
        let location: Location
    }

    enum BinaryOperator: String, Sendable {
        case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%", power = "**"
    }

    enum CompareOperator: String, Sendable {
        case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
        case `in` = "in", notIn = "not in"
    }

    /// Where `set`, `for` and `with` store values.
    indirect enum AssignTarget: Sendable {
        case name(String)
        /// `ns.attribute`: the only way to change a value outside a loop body (a namespace).
        case namespaceAttribute(namespace: String, attribute: String)
        case tuple([AssignTarget])
    }

    struct Node: Sendable {
        indirect enum Kind: Sendable {
            case text(String)
            case output(Expression)
            case ifStatement(branches: [(test: Expression, body: [Node])], otherwise: [Node])
            case forLoop(ForLoop)
            case set(AssignTarget, Expression)
            /// `{% set x %}...{% endset %}`: the rendered body, through optional filters.
            case setBlock(AssignTarget, filters: [FilterCall], body: [Node])
            case macro(MacroDefinition)
            /// `{% filter f %}...{% endfilter %}`
            case filterBlock(filters: [FilterCall], body: [Node])
            case with(assignments: [(AssignTarget, Expression)], body: [Node])
            /// transformers' `{% generation %}` tag, which marks assistant text for training
            /// masks; for rendering it is its body, in a scope of its own.
            case generation(body: [Node])
            case breakLoop
            case continueLoop
        }

        let kind: Kind
        let location: Location
    }

    struct ForLoop: Sendable {
        let target: AssignTarget
        let iterable: Expression
        /// `for x in xs if condition`: skipped items do not count in `loop`.
        let condition: Expression?
        let body: [Node]
        /// Rendered when no item was iterated.
        let otherwise: [Node]
    }

    struct MacroDefinition: Sendable {
        let name: String
        let parameters: [(name: String, defaultValue: Expression?)]
        let body: [Node]
    }
}
