/// The GBNF rules for JSON values that every JSON grammar shares (the JSON Schema converter
/// adds those it uses). Values carry no whitespace of their own: `space` goes after `{`,
/// `[`, `,` and `:` and before `}` and `]`, so a document ends with its last character and
/// the grammar is complete there.
enum JSONGrammarRules {
    /// Rule bodies by name; `dependencies` lists what each needs.
    static let bodies: [String: String] = [
        // Optional whitespace: a space, or a newline and an indentation (bounded, so that a
        // model cannot pad forever). Before a colon, at most one space.
        "space": #"| " " | "\n" [ \t]{0,20}"#,
        "value": "object | array | string | number | boolean | null",
        "object": #""{" space ( string " "? ":" space value ("," space string " "? ":" space value)* )? space "}""#,
        "array": #""[" space ( value ("," space value)* )? space "]""#,
        "string": #""\"" char* "\"""#,
        "char": JSONStringGrammar.char,
        "number": #"integer ("." decimal-part)? ([eE] [-+]? [0-9]{1,2})?"#,
        "integer": #""-"? integral-part"#,
        "integral-part": "[0] | [1-9] [0-9]{0,15}",
        "decimal-part": "[0-9]{1,16}",
        "boolean": #""true" | "false""#,
        "null": #""null""#,
        // String formats (inside the quotes). Dates are real dates (February has 28 days:
        // the 29th is valid only in leap years); years from 1000.
        "date": #"[1-9] [0-9]{3} "-" ( ("0" [13578] | "1" [02]) "-" ("0" [1-9] | [12] [0-9] | "3" [01]) | ("0" [469] | "11") "-" ("0" [1-9] | [12] [0-9] | "30") | "02-" ("0" [1-9] | "1" [0-9] | "2" [0-8]) )"#,
        "time": #"([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ("." [0-9]{1,6})? ("Z" | [+-] ([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9])"#,
        "date-time": #"date "T" time"#,
        "uuid": #"[0-9a-f]{8} "-" [0-9a-f]{4} "-" [1-5] [0-9a-f]{3} "-" [89ab] [0-9a-f]{3} "-" [0-9a-f]{12}"#,
        "email": #"[a-zA-Z0-9] [a-zA-Z0-9._+-]{0,30} "@" [a-zA-Z0-9] [a-zA-Z0-9-]{0,20} ("." [a-zA-Z]{2,10}){1,2}"#,
        "ipv4": #"ipv4-part "." ipv4-part "." ipv4-part "." ipv4-part"#,
        "ipv4-part": #""25" [0-5] | "2" [0-4] [0-9] | "1" [0-9]{2} | [1-9]? [0-9]"#,
    ]

    static let dependencies: [String: [String]] = [
        "value": ["object", "array", "string", "number", "boolean", "null"],
        "object": ["space", "string", "value"],
        "array": ["space", "value"],
        "string": ["char"],
        "number": ["integer", "decimal-part"],
        "integer": ["integral-part"],
        "date-time": ["date", "time"],
        "ipv4": ["ipv4-part"],
    ]

    /// The string formats JSON Schema names that the converter honours.
    static let formats: Set<String> = ["date", "time", "date-time", "uuid", "email", "ipv4"]

    /// `name` and every rule it needs, in a stable order.
    static func closure(of names: [String]) -> [String] {
        var result: [String] = []
        var pending = names
        while let name = pending.popLast() {
            guard !result.contains(name) else { continue }
            result.append(name)
            pending += dependencies[name] ?? []
        }
        return result.sorted()
    }

    /// A grammar for any JSON value of one kind: "object" (OpenAI's `json_object`) or "value".
    static func grammar(root: String) -> String {
        "root ::= \(root)\n" + closure(of: [root]).map { "\($0) ::= \(bodies[$0]!)\n" }.joined()
    }
}
