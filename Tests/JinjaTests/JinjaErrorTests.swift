import Foundation
import Testing
import Jinja

/// Errors name the construct and its place; hostile templates hit a limit, never a crash.
struct JinjaErrorTests {
    static func syntaxError(_ source: String) -> ChatTemplateError? {
        let error = #expect(throws: ChatTemplateError.self, "\(source)") { try JinjaTemplate(source: source) }
        #expect(error?.kind == .syntax || error?.kind == .limitExceeded)
        return error
    }

    /// A hostile template is refused within this: a second, or ten under a sanitizer
    /// (`make sanitize`), which slows everything several times over.
    static let quickLimit: Duration = ProcessInfo.processInfo.environment["INFER_SANITIZER"] == nil ? .seconds(1) : .seconds(10)

    static func renderError(_ source: String, limits: JinjaTemplate.Limits = .init()) -> ChatTemplateError? {
        #expect(throws: ChatTemplateError.self, "\(source)") {
            try JinjaTemplate(source: source).renderEmptyChat(limits: limits)
        }
    }

    @Test(arguments: [
        ("{% if x %}\nyes", "unexpected end of template, expected 'elif' or 'else' or 'endif'", 2, 4),
        ("{% for x in y %}{% endif %}", "unexpected 'endif', expected 'endfor' or 'else'", 1, 20),
        ("a\n  {% frobnicate %}", "unknown tag 'frobnicate'", 2, 6),
        ("{% endfor %}", "unexpected 'endfor', there is no block to close", 1, 4),
        ("{{ 1 + }}", "unexpected end of print statement '}}'", 1, 8),
        ("{{ x | nosuchfilter }}", "no filter named 'nosuchfilter'", 1, 8),
        ("{{ x is nosuchtest }}", "no test named 'nosuchtest'", 1, 9),
        ("{{ 'abc }}", "unterminated string literal", 1, 4),
        ("{# never closed", "missing end of comment tag (#})", 1, 1),
        ("{{ (1, 2 }}", "unexpected '}', expected ')'", 1, 10),
        ("{% break %}", "'break' outside a for loop", 1, 4),
        ("{% include 'other.jinja' %}", "the 'include' tag is not supported in chat templates", 1, 4),
        ("{% macro m(a=1, b) %}{% endmacro %}", "non-default argument follows default argument", 1, 17),
        ("{% set true = 1 %}", "cannot assign to 'true'", 1, 8),
        ("{{ f(a=1, 2) }}", "positional argument follows keyword argument", 1, 11),
        ("{% for x in y recursive %}{% endfor %}", "recursive for loops are not supported", 1, 15),
    ])
    func syntaxErrorsHaveLocations(_ source: String, _ message: String, _ line: Int, _ column: Int) {
        let error = Self.syntaxError(source)
        #expect(error?.message == message)
        #expect(error?.line == line)
        #expect(error?.column == column)
    }

    @Test func renderErrorsPointAtTheExpression() {
        let error = Self.renderError("line 1\n{% for m in messages %}{% endfor %}\n   {{ 1 + none }}")
        #expect(error?.kind == .render)
        #expect(error?.line == 3)
        #expect(error?.column == 9)
        #expect(error?.description == "chat template error at line 3, column 9: unsupported operand type(s) for +: 'int' and 'NoneType'")
    }

    @Test func errorsInsideMacrosPointIntoTheMacro() {
        let error = Self.renderError("{% macro m() %}\n  {{ undefined_thing.x }}\n{% endmacro %}\n{{ m() }}")
        #expect(error?.message == "'undefined_thing' is undefined")
        #expect(error?.line == 2)
    }

    @Test func runawayRecursionHitsTheCallDepthLimit() {
        let error = Self.renderError("{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}")
        #expect(error?.kind == .limitExceeded)
        #expect(error?.message.contains("macro calls nest deeper than 128") == true)
    }

    /// The deepest template the limits allow, rendered from a thread with a small stack:
    /// parsing and rendering run on a stack of their own.
    @Test func deepestAllowedTemplateRendersFromASmallStack() throws {
        let expression = String(repeating: "(", count: 40) + "n + 1" + String(repeating: ")", count: 40)
        let body = String(repeating: "{% if true %}", count: 8) + "{{ r(\(expression)) }}" + String(repeating: "{% endif %}", count: 8)
        let source = "{% macro r(n) %}{% if n < 127 %}\(body){% else %}{{ n }}{% endif %}{% endmacro %}{{ r(0) }}"
        final class Outcome: @unchecked Sendable { var result: Result<String, Error>? }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            outcome.result = Result { try JinjaTemplate(source: source).renderEmptyChat() }
            done.signal()
        }
        thread.stackSize = 256 << 10
        thread.start()
        done.wait()
        #expect(try outcome.result?.get() == "127")
    }

    @Test func hugeLoopsHitTheStepLimit() {
        let error = Self.renderError("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                                     limits: .init(maxSteps: 200_000))
        #expect(error?.kind == .limitExceeded)
        #expect(error?.message == "rendering took more than 200000 steps")
    }

    @Test func stringsWalkedByCharacterAreBoundedBeforeTheyAreWalked() throws {
        // The finding (fuzz-jinja): `join` over a string walks its characters, and with long
        // separators each join makes the string hundreds of times longer; the walk made a
        // value per character before its steps were counted. A string of 16 million
        // characters (the longest the output limit allows) is refused before it is walked.
        for source in ["{{ ('x' * 16000000) | join('-') }}", "{{ ('x' * 16000000) | list | length }}",
                       "{% for c in 'x' * 16000000 %}{% endfor %}"] {
            let start = ContinuousClock.now
            let error = Self.renderError(source)
            #expect(ContinuousClock.now - start < Self.quickLimit, "\(source)")
            #expect(error?.message == "rendering took more than 5000000 steps", "\(source)")
        }
        let joins = "{{ ['a', 'b', 'c', 'd'] | join('s' * 400) | join('t' * 400) | join('u' * 400) | first }}"
        #expect(Self.renderError(joins, limits: .init(maxSteps: 200_000))?.message == "rendering took more than 200000 steps")
        // Within the steps, the same walk renders; a string's first and last characters need none.
        #expect(try JinjaTemplate(source: "{{ ('x' * 1000) | join('-') | length }}").renderEmptyChat() == "1999")
        #expect(try JinjaTemplate(source: "{{ ('a' ~ 'x' * 16000000 ~ 'z') | first }}{{ ('a' ~ 'x' * 16000000 ~ 'z') | last }}").renderEmptyChat() == "az")
    }

    @Test func formatWidthsAndPrecisionsAreBoundedBeforeTheyPad() throws {
        // The finding (fuzz-jinja): `'%9999999999s' % x` padded to ten billion spaces.
        for source in ["{{ '%9999999999s' % 'x' }}", "{{ '%.9999999999f' % 3.14 }}", "{{ '%.99999999999999999999d' % 1 }}",
                       "{{ '%*s' % (99999999999, 'x') }}", "{{ '%0999999999d' % 1 }}",
                       "{{ '%10000000s%10000000s' % ('a', 'b') }}"] {
            let start = ContinuousClock.now
            let error = Self.renderError(source)
            #expect(ContinuousClock.now - start < Self.quickLimit, "\(source)")
            #expect(error?.kind == .limitExceeded, "\(source)")
            #expect(error?.message == "the string would exceed 16777216 bytes", "\(source)")
        }
        #expect(try JinjaTemplate(source: "{{ ('%1000s' % 'x') | length }}").renderEmptyChat() == "1000")
        // The finding (fuzz-jinja): `'%d' % 1e29` trapped converting the float to an Int.
        for source in ["{{ '%d' % 1e29 }}", "{{ '%i' % -1e300 }}"] {
            #expect(Self.renderError(source)?.message.contains("cannot convert") == true, "\(source)")
        }
        #expect(try JinjaTemplate(source: "{{ '%d|%x' % (-9223372036854775807 - 1, -9223372036854775807 - 1) }}").renderEmptyChat()
                == "-9223372036854775808|-8000000000000000")
        #expect(try JinjaTemplate(source: "{{ '%d' % 3.99 }}").renderEmptyChat() == "3")
    }

    @Test func outputIsBounded() {
        let loop = Self.renderError("{% for i in range(10000) %}{{ 'x' * 1000 }}{% endfor %}", limits: .init(maxOutputBytes: 1 << 20))
        #expect(loop?.kind == .limitExceeded)
        // Refused before anything is allocated.
        let repeated = Self.renderError("{% set s = 'x' * 1000000000000 %}")
        #expect(repeated?.kind == .limitExceeded)
        let list = Self.renderError("{% set l = [0] * 1000000000000 %}")
        #expect(list?.kind == .limitExceeded)
        let doubling = Self.renderError("{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}")
        #expect(doubling?.kind == .limitExceeded)
    }

    @Test func deeplyNestedSourceIsRefused() {
        let parentheses = Self.syntaxError("{{ " + String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000) + " }}")
        #expect(parentheses?.kind == .limitExceeded)
        let blocks = Self.syntaxError(String(repeating: "{% if true %}", count: 10_000))
        #expect(blocks?.kind == .limitExceeded)
        let nots = Self.syntaxError("{{ " + String(repeating: "not ", count: 10_000) + "x }}")
        #expect(nots?.kind == .limitExceeded)
    }

    @Test func deeplyNestedValuesAreRefused() {
        let lists = Self.renderError("{% set ns = namespace(v=[]) %}{% for i in range(100000) %}{% set ns.v = [ns.v] %}{% endfor %}")
        #expect(lists?.kind == .limitExceeded)
        let namespaces = Self.renderError("{% set ns = namespace(v=none) %}{% for i in range(100000) %}{% set ns.v = namespace(v=ns.v) %}{% endfor %}")
        #expect(namespaces?.kind == .limitExceeded)
        // A namespace holding itself cannot be printed, compared or serialized forever.
        for use in ["{{ ns }}", "{{ ns.me | string }}", "{{ [ns] }}"] {
            let cycle = Self.renderError("{% set ns = namespace() %}{% set ns.me = [ns] %}" + use)
            #expect(cycle?.kind == .limitExceeded)
        }
    }

    @Test func sharedValuesAreCheckedOnce() throws {
        // Each level holds the previous one twice: 2^40 paths, 40 distinct lists.
        let source = "{% set ns = namespace(v=[]) %}{% for i in range(40) %}{% set ns.v = [ns.v, ns.v] %}{% endfor %}{{ ns.v | length }}"
        #expect(try JinjaTemplate(source: source).renderEmptyChat() == "2")
        let printed = Self.renderError(source + "{{ ns.v }}", limits: .init(maxSteps: 100_000))
        #expect(printed?.kind == .limitExceeded)
    }
}
