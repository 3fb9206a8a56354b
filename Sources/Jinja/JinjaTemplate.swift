import Foundation

/// A Jinja template, parsed once and rendered any number of times: the module's entry point.
///
/// The interpreter is written to match Jinja2 as Hugging Face `transformers` configures it for
/// chat templates (`trim_blocks`, `lstrip_blocks`, the immutable sandbox, `loopcontrols`, and
/// transformers' `tojson`, `raise_exception` and `strftime_now`). Values come in as `JSONValue`s.
///
/// ```swift
/// let template = try JinjaTemplate(source: "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}")
/// let text = try template.render(variables: ["messages": [["role": "user", "content": "Hello!"]]])
/// ```
///
/// Rendering is cheap and the value can be shared across threads.
public struct JinjaTemplate: Sendable {
    /// Bounds on one render, so that a hostile template fails with a
    /// ``ChatTemplateError/Kind/limitExceeded`` error instead of exhausting memory, time or
    /// the stack.
    public struct Limits: Sendable, Equatable {
        /// Largest output (and largest string built along the way), in UTF-8 bytes.
        public var maxOutputBytes: Int
        /// Units of work: statements, loop iterations, calls, items walked by filters.
        public var maxSteps: Int
        /// Deepest nesting of macro calls (a recursive macro).
        public var maxCallDepth: Int

        /// Generous for real templates (a long conversation renders in a few thousand steps).
        public init(maxOutputBytes: Int = 16 << 20, maxSteps: Int = 5_000_000, maxCallDepth: Int = 128) {
            self.maxOutputBytes = maxOutputBytes
            self.maxSteps = maxSteps
            self.maxCallDepth = maxCallDepth
        }
    }

    /// The Jinja source.
    public let source: String
    private let program: [Jinja.Node]

    /// Parses `source`. Throws a ``ChatTemplateError`` of kind `.syntax` with the line and
    /// column of the problem.
    public init(source: String) throws {
        self.source = source
        program = try Jinja.Stack.run { try Jinja.Parser.parse(source) }
    }

    /// Renders the template with `variables` in scope (and Jinja's global functions).
    /// - Parameters:
    ///   - now: the time `strftime_now` formats (in the local time zone, as transformers does).
    /// - Throws: ``ChatTemplateError``: `.raised` when the template calls `raise_exception`,
    ///   `.render` for errors such as using an undefined value, `.limitExceeded`.
    public func render(variables: [String: JSONValue], limits: Limits = Limits(), now: Date = Date()) throws -> String {
        let values = variables.mapValues(Jinja.Value.init)
        let interpreter = Jinja.Interpreter(limits: limits, now: now)
        return try Jinja.Stack.run { try interpreter.render(program, variables: values) }
    }
}
