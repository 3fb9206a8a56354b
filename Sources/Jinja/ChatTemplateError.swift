/// Why a chat template could not be parsed or rendered. Every error says where in the
/// template it happened (1-based line and column) when that is known, so a user can find
/// the construct in a template of hundreds of lines.
public struct ChatTemplateError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The source is not valid Jinja, or uses a construct infer does not implement.
        case syntax
        /// Rendering failed: an undefined value was used, a type mismatch, a bad argument.
        case render
        /// The template itself called `raise_exception(message)`: it refuses these messages
        /// (for example a system message where the model has no system role).
        case raised
        /// The template went past a resource limit (output size, steps, call depth, nesting).
        case limitExceeded
    }

    public let kind: Kind
    /// What went wrong, worded as Jinja2 words it where Jinja2 has an equivalent error; for
    /// `.raised`, the template's own message.
    public let message: String
    /// Where in the template source (1-based), when known.
    public let line: Int?
    public let column: Int?

    public init(_ kind: Kind, _ message: String, line: Int? = nil, column: Int? = nil) {
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column
    }

    public var description: String {
        let location = line.map { line in " at line \(line)" + (column.map { ", column \($0)" } ?? "") } ?? ""
        switch kind {
        case .syntax: return "chat template syntax error\(location): \(message)"
        case .render: return "chat template error\(location): \(message)"
        case .raised: return "the chat template refused the conversation\(location): \(message)"
        case .limitExceeded: return "chat template limit exceeded\(location): \(message)"
        }
    }
}
