import Foundation
import Testing

/// The README's library example is the `infer-example` target: it compiles with the
/// package, runs, and the README shows exactly its code.
struct LibraryExampleTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    @Test(.enabled(if: InferBinary.sharedAvailable, "shared test data not found: set INFER_SHARED (default ../shared)"))
    func exampleRunsAndPrintsGeneratedText() throws {
        let example = InferBinary.url.deletingLastPathComponent().appendingPathComponent("infer-example")
        let result = try CommandRunner.run(example, [InferBinary.shared("models/stories260K.gguf")], stdin: nil, timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix(", there was a little girl named Lily."))
        #expect(result.stdout.contains("> What did the cat do next?"))
        #expect(result.stdout.contains("reused from the cache]"))
        let reuse = result.stdout.split(separator: "\n").filter { $0.hasSuffix("reused from the cache]") }
        #expect(reuse.count == 2 && reuse[0].hasSuffix(" 0 reused from the cache]") && !reuse[1].hasSuffix(" 0 reused from the cache]"))
    }

    @Test(.enabled(if: InferBinary.sharedAvailable, "shared test data not found: set INFER_SHARED (default ../shared)"))
    func structuredExampleRunsAndPrintsJSONAndACall() throws {
        let example = InferBinary.url.deletingLastPathComponent().appendingPathComponent("infer-structured-example")
        let result = try CommandRunner.run(example, [InferBinary.shared("models/stories260K.gguf")], stdin: nil, timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let callLine = try #require(lines.firstIndex { $0.hasPrefix("get_weather(") }, "\(result.stdout)")
        let document = lines[..<callLine].joined(separator: "\n")
        let person = try JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any]
        let hasFields = person?["name"] is String && person?["age"] is Int
        #expect(hasFields, "\(result.stdout)")
        let call = try #require(lines.first { $0.hasPrefix("get_weather(") })
        let arguments = try JSONSerialization.jsonObject(with: Data(call.dropFirst("get_weather(".count).dropLast().utf8)) as? [String: Any]
        let hasCity = arguments?["city"] is String
        #expect(hasCity, "\(call)")
    }

    @Test func readmeShowsTheStructuredExampleCode() throws {
        let readme = try String(contentsOf: Self.repository.appendingPathComponent("README.md"), encoding: .utf8)
        let code = try String(contentsOf: Self.repository.appendingPathComponent("Examples/StructuredOutput/main.swift"), encoding: .utf8)
        #expect(readme.contains("```swift\n" + code + "```"), "README.md's structured output example differs from Examples/StructuredOutput/main.swift")
    }

    @Test func readmeShowsTheExampleCode() throws {
        let readme = try String(contentsOf: Self.repository.appendingPathComponent("README.md"), encoding: .utf8)
        let code = try String(contentsOf: Self.repository.appendingPathComponent("Examples/Chat/main.swift"), encoding: .utf8)
        #expect(readme.contains("```swift\n" + code + "```"), "README.md's library example differs from Examples/Chat/main.swift")
    }
}
