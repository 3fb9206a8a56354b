import Foundation
import Testing
@testable import InferKit

/// JSON Schema → grammar: every document the grammar allows is one the schema accepts
/// (judged by Python's jsonschema), and keywords that cannot be honoured are refused.
struct JSONSchemaGrammarTests {
    static let folder = TestPaths.tests
        .appendingPathComponent("Fixtures/json-schemas")

    static let schemaFiles: [String] = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?
        .filter { $0.hasSuffix(".json") }.sorted() ?? []

    static func schema(_ file: String) throws -> (text: String, value: JSONValue) {
        let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
        return (text, try JSONValue(parsing: text))
    }

    static func error(_ schema: String) -> String? {
        do {
            _ = try Grammar(jsonSchema: JSONValue(parsing: schema))
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func atLeastTwentySchemas() {
        #expect(Self.schemaFiles.count >= 20)
    }

    /// Random documents of each schema's grammar all validate.
    @Test(.enabled(if: PythonJSONSchema.available, "python3 with the jsonschema package not found"))
    func randomDocumentsValidate() throws {
        var cases: [(schema: String, document: String, file: String)] = []
        for file in Self.schemaFiles {
            let (text, value) = try Self.schema(file)
            let grammar = try Grammar(jsonSchema: value)
            let documents = RandomSentences.draw(grammar, seed: 42, count: 25)
            #expect(documents.count >= 20, "\(file): only \(documents.count) walks ended")
            cases += documents.map { (text, $0, file) }
        }
        // The judge can say no: a wrong type and a bad date are refused.
        let person = try Self.schema("01-person.json").text, formats = try Self.schema("13-formats.json").text
        let refused = try PythonJSONSchema.validate([(person, #"{"name": 1, "age": 2}"#), (formats, #"{"day": "2023-02-30", "id": "0", "at": "x", "mail": "m", "host": "1.2.3.4"}"#)])
        #expect(refused.allSatisfy { $0 != nil })
        let results = try PythonJSONSchema.validate(cases.map { ($0.schema, $0.document) })
        for (result, item) in zip(results, cases) {
            #expect(result == nil, "\(item.file): \(item.document.debugDescription): \(result ?? "")")
        }
    }

    @Test func documentsTheSchemaAcceptsAndRefuses() throws {
        let person = try Grammar(jsonSchema: Self.schema("01-person.json").value)
        #expect(person.matches(#"{"name": "Ada", "age": 36}"#))
        #expect(person.matches("{\n  \"name\": \"Ada\",\n  \"age\": 36\n}"))
        #expect(!person.matches(#"{"name": "Ada"}"#))            // age is required
        #expect(!person.matches(#"{"name": "Ada", "age": 121}"#)) // above the maximum
        #expect(!person.matches(#"{"name": "Ada", "age": 3, "x": 1}"#))
        #expect(!person.matches(#"{"name": "Ada", "age": 036}"#))
        let optional = try Grammar(jsonSchema: Self.schema("15-optional-properties.json").value)
        for document in ["{}", #"{"a": 1}"#, #"{"b": true, "d": null}"#, #"{"a": 1, "b": false, "c": "x", "d": null}"#] {
            #expect(optional.matches(document), "\(document)")
        }
        #expect(!optional.matches(#"{"b": true, "a": 1}"#))  // members keep the schema's order
        let extra = try Grammar(jsonSchema: Self.schema("16-additional-properties.json").value)
        #expect(extra.matches(#"{"name": "x", "n": 3, "nam": 4, "names": 5}"#))
        #expect(!extra.matches(#"{"name": "x", "name": 3}"#))  // an extra member may not reuse a name
        let tuple = try Grammar(jsonSchema: Self.schema("12-tuple.json").value)
        #expect(tuple.matches(#"["a", 3, true]"#) && !tuple.matches(#"["a", 3]"#) && !tuple.matches(#"["a", 3, true, 1]"#))
        let recursive = try Grammar(jsonSchema: Self.schema("09-recursive-tree.json").value)
        #expect(recursive.matches(#"{"label": "a", "children": [{"label": "b", "children": [{"label": "c"}]}, {"label": "d"}]}"#))
        let escapes = try Grammar(jsonSchema: Self.schema("20-unicode-and-escapes.json").value)
        #expect(escapes.matches(#"{"café": "ok", "quote \"q\"": "line\nbreak"}"#))
        #expect(Grammar.jsonObject.matches(#"{"a": [1, {"b": null}]}"#) && !Grammar.jsonObject.matches("[1]"))
    }

    @Test func unsupportedKeywordsAreNamed() {
        for (schema, keyword) in [
            (#"{"type": "integer", "multipleOf": 3}"#, "'multipleOf'"),
            (#"{"not": {"type": "string"}}"#, "'not'"),
            (#"{"type": "object", "if": {}, "then": {}}"#, "'if'"),
            (#"{"type": "object", "patternProperties": {"^x": {}}}"#, "'patternProperties'"),
            (#"{"type": "array", "uniqueItems": true}"#, "'uniqueItems'"),
            (#"{"type": "string", "format": "uri"}"#, "'uri'"),
            (#"{"type": "object", "minProperties": 1}"#, "'minProperties'"),
            (#"{"$ref": "https://example.com/schema.json"}"#, "only local references"),
            (##"{"$ref": "#/$defs/missing"}"##, "points to nothing"),
            (#"{"type": "string", "pattern": "^(?=a)b$"}"#, "lookahead"),
            (#"{"type": "string", "pattern": "^(a)\\1$"}"#, "backreference"),
            (#"{"type": "string", "pattern": "^a\\bc$"}"#, "word boundary"),
            (#"{"oneOf": [{"type": "integer"}, {"type": "number"}]}"#, "oneOf alternatives 0 and 1"),
            (#"{"type": "integer", "minimum": 5, "maximum": 4}"#, "no integer lies"),
            (#"{"type": "widget"}"#, "unknown type 'widget'"),
            (#"{"allOf": [{"type": "string"}, {"type": "integer"}]}"#, "nothing in common"),
            (#"false"#, "accepts nothing"),
            (#"{"type": "object", "properties": {"a": {"type": "string", "maxLenght": 3}}}"#, "'maxLenght' is not supported"),
        ] {
            let error = Self.error(schema)
            #expect(error?.contains(keyword) == true, "\(schema): \(error ?? "accepted")")
        }
        // Where in the schema the problem is.
        #expect(Self.error(#"{"properties": {"a": {"properties": {"b": {"not": {}}}}}}"#)?.contains("#/properties/a/properties/b") == true)
        // Annotations and extensions are fine.
        #expect(Self.error(#"{"title": "T", "description": "d", "default": 1, "examples": [1], "x-vendor": 1, "type": "integer"}"#) == nil)
    }

    /// Integer ranges match exactly the integers inside, written as JSON writes them.
    @Test(arguments: [(-123, 456), (0, 0), (1, 9), (7, 1000), (-1000, -7), (-5, 5), (99, 101), (100, 999), (0, 1), (-1, 0)])
    func integerRanges(low: Int, high: Int) throws {
        let grammar = try Grammar(gbnf: "root ::= " + IntegerRangeGrammar.expression(min: Int64(low), max: Int64(high))!)
        for n in -1100...1100 {
            #expect(grammar.matches(String(n)) == (low...high).contains(n), "\(n) in \(low)...\(high)")
        }
        for text in ["-0", "007", "+1", "1.0", ""] where text != "\(low)" {
            #expect(!grammar.matches(text), "\(text)")
        }
    }

    @Test func openIntegerRanges() throws {
        let atLeast = try Grammar(gbnf: "root ::= " + IntegerRangeGrammar.expression(min: 42, max: nil)!)
        #expect(atLeast.matches("42") && atLeast.matches("43") && atLeast.matches("100000") && !atLeast.matches("41") && !atLeast.matches("-50"))
        #expect(atLeast.matches("9999999999999999") && !atLeast.matches("10000000000000000"))
        let atMost = try Grammar(gbnf: "root ::= " + IntegerRangeGrammar.expression(min: nil, max: -3)!)
        #expect(atMost.matches("-3") && atMost.matches("-123456") && !atMost.matches("-2") && !atMost.matches("0"))
    }

    /// Numbers with bounds: whole numbers and fractions inside them only.
    @Test func numberRanges() throws {
        let grammar = try Grammar(jsonSchema: JSONValue(parsing: #"{"type": "number", "minimum": -2, "exclusiveMaximum": 3}"#))
        for (text, inside) in [("-2", true), ("-1.5", true), ("-0.25", true), ("0", true), ("2.999", true), ("2", true),
                               ("3", false), ("3.0", false), ("-2.5", false), ("-3", false), ("1e2", false)] {
            #expect(grammar.matches(text) == inside, "\(text)")
        }
        let open = try Grammar(jsonSchema: JSONValue(parsing: #"{"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}"#))
        for (text, inside) in [("0.5", true), ("0.001", true), ("0", false), ("0.0", false), ("1", false), ("1.5", false), ("-0.5", false)] {
            #expect(open.matches(text) == inside, "\(text)")
        }
        let negative = try Grammar(jsonSchema: JSONValue(parsing: #"{"type": "number", "minimum": -1, "exclusiveMaximum": 0}"#))
        for (text, inside) in [("-0.5", true), ("-1", true), ("-1.0", false), ("0", false), ("-0.0", false), ("-1.5", false)] {
            #expect(negative.matches(text) == inside, "\(text)")
        }
    }

    /// Strings made from a pattern match it (judged by Foundation's ICU regular expressions)
    /// once their JSON escapes are decoded.
    @Test(arguments: [
        "^[A-Z]{3}-[0-9]{3}$", "^\\+?[0-9]{2,3}[ -]?[0-9]{3,4}(-[0-9]{2})?$", "^(low|mid|high)$", "^\\w{2,8}$",
        "^[^a-z]{1,5}$", "^a.c$", "^\"quoted\"\\\\$", "^(?:ab|cd)*x?$", "^[\\s\\d]{3}$", "^[^\\d]{2}\\D\\S$", "abc", "^\\u00e9{2}[\\t\\n]$",
    ])
    func patterns(pattern: String) throws {
        let schema = JSONValue.object(JSONObject([("type", "string"), ("pattern", .string(pattern))]))
        let grammar = try Grammar(jsonSchema: schema)
        let regex = try NSRegularExpression(pattern: pattern)
        for document in RandomSentences.draw(grammar, seed: 7, count: 40) {
            let text = try #require(try JSONValue(parsing: document).string, "\(document)")
            let range = NSRange(text.startIndex..., in: text)
            #expect(regex.firstMatch(in: text, range: range) != nil, "\(pattern): \(document)")
        }
    }

    @Test func enumsAndConstsAreWrittenAsJSON() throws {
        let grammar = try Grammar(jsonSchema: JSONValue(parsing: #"{"enum": ["a\"b", 1.5, null, {"k": [true]}, 7]}"#))
        for document in [#""a\"b""#, "1.5", "null", #"{"k":[true]}"#, "7"] {
            #expect(grammar.matches(document), "\(document)")
        }
        #expect(!grammar.matches("8"))
    }
}
