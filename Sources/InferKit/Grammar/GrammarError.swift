/// A grammar that cannot be used: a syntax error (with its line and column), an undefined or
/// left-recursive rule, a JSON Schema keyword infer cannot honour, a token the vocabulary
/// does not have.
public struct GrammarError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    /// 1-based position in the grammar text, when the problem has one.
    public let line: Int?
    public let column: Int?
    /// A rule can begin with itself (in a grammar made from a JSON Schema: a `$ref` that
    /// comes back to itself before any value is written).
    let isLeftRecursion: Bool

    public init(_ message: String, line: Int? = nil, column: Int? = nil) {
        self.init(message, line: line, column: column, isLeftRecursion: false)
    }

    init(_ message: String, line: Int? = nil, column: Int? = nil, isLeftRecursion: Bool) {
        self.message = message
        self.line = line
        self.column = column
        self.isLeftRecursion = isLeftRecursion
    }

    public var description: String {
        guard let line else { return message }
        return "\(message) at line \(line), column \(column ?? 1)"
    }
}
