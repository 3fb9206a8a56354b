import Foundation
import InferKit
import Testing

/// `--grammar`, `--json` and `--json-schema` on `infer generate` and `infer chat`.
@Suite(.enabled(if: InferBinary.sharedAvailable, "shared test data not found: set INFER_SHARED (default ../shared)"))
struct StructuredOutputCommandTests {
    static let model = InferBinary.shared("models/stories260K.gguf")

    static let schema = #"""
        {"type": "object", "properties": {"name": {"type": "string", "maxLength": 12},
         "age": {"type": "integer", "minimum": 1, "maximum": 99}, "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "maxItems": 3}},
         "required": ["name", "age", "tags"]}
        """#

    @Test(arguments: [1, 2, 3] as [UInt64])
    func generateFollowsTheSchema(seed: UInt64) throws {
        let path = try InferBinary.scratchFile("person.json", Self.schema)
        let result = try InferBinary.run(["generate", Self.model, "-p", "Lily", "--json-schema", path, "-t", "1", "-s", "\(seed)", "-n", "200"])
        #expect(result.status == 0, "\(result.stderr)")
        let text = String(result.stdout.dropFirst("Lily".count).dropLast())  // the prompt, and the newline infer adds
        let value = try JSONValue(parsing: text)
        #expect(value["name"]?.string.map { $0.count <= 12 } == true, "\(text)")
        #expect(value["age"]?.int.map { (1...99).contains($0) } == true, "\(text)")
        #expect(value["tags"]?.array?.allSatisfy { $0 == "a" || $0 == "b" } == true, "\(text)")
    }

    @Test func generateFollowsAGrammarFile() throws {
        let grammar = #"root ::= "Tom " ("ran" | "sat") " to the " [a-z]{3,8} "." "#
        let path = try InferBinary.scratchFile("story.gbnf", grammar)
        let result = try InferBinary.run(["generate", Self.model, "-p", "Once upon a time, ", "--grammar", path, "-t", "1", "-s", "5"])
        #expect(result.status == 0, "\(result.stderr)")
        let text = String(result.stdout.dropFirst("Once upon a time, ".count).dropLast())
        #expect(try Grammar(gbnf: grammar).matches(text), "\(text.debugDescription)")
    }

    @Test func jsonFlagGivesAnObject() throws {
        let result = try InferBinary.run(["generate", Self.model, "--json", "-t", "1", "-s", "9", "-n", "300"])
        #expect(result.status == 0)
        let text = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try JSONValue(parsing: text).object != nil, "\(text)")
        // The report keeps its own flag.
        let report = try InferBinary.run(["generate", Self.model, "-n", "4", "--json-report", "--json"])
        #expect(report.status == 0)
        let fields = try JSONValue(parsing: report.stdout)
        #expect(fields["finish_reason"] == "length" && fields["text"]?.string?.hasPrefix("{") == true, "\(report.stdout)")
    }

    @Test func chatAnswersFollowTheSchema() throws {
        let path = try InferBinary.scratchFile("person.json", Self.schema)
        let result = try InferBinary.run(["chat", Self.model, "--json-schema", path, "-t", "1", "-s", "4"], stdin: "Who are you?\n")
        #expect(result.status == 0, "\(result.stderr)")
        let value = try JSONValue(parsing: result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(value["age"]?.int != nil && value["tags"]?.array != nil, "\(result.stdout)")
    }

    @Test func badGrammarsAndSchemasAreOneLine() throws {
        let grammar = try InferBinary.scratchFile("bad.gbnf", "root ::= \"a\" (\n")
        let badGrammar = try InferBinary.run(["generate", Self.model, "--grammar", grammar])
        BadInputTests.expectOneErrorLine(badGrammar, naming: grammar, "expected ')'")
        #expect(badGrammar.status == 1)
        let undefined = try InferBinary.scratchFile("undefined.gbnf", "root ::= item\n")
        BadInputTests.expectOneErrorLine(try InferBinary.run(["chat", Self.model, "--grammar", undefined]), naming: undefined, "'item'")
        let schema = try InferBinary.scratchFile("bad.json", #"{"type": "integer", "multipleOf": 5}"#)
        let badSchema = try InferBinary.run(["generate", Self.model, "--json-schema", schema])
        BadInputTests.expectOneErrorLine(badSchema, naming: schema, "'multipleOf'")
        #expect(badSchema.status == 1)
        let notJSON = try InferBinary.scratchFile("not.json", "{type: integer}")
        BadInputTests.expectOneErrorLine(try InferBinary.run(["generate", Self.model, "--json-schema", notJSON]), naming: notJSON, "not JSON")
        let missing = InferBinary.scratchDirectory.appendingPathComponent("missing.gbnf").path
        BadInputTests.expectOneErrorLine(try InferBinary.run(["generate", Self.model, "--grammar", missing]), naming: missing, "cannot open")
        let both = try InferBinary.run(["generate", Self.model, "--json", "--grammar", grammar])
        #expect(both.status == 64 && both.stderr.contains("cannot be used together"))
    }
}
