import Foundation
import Testing

/// The README's batched-generation example is the `infer-batch-example` target: it compiles
/// with the package, runs, each prompt gets the text `infer generate` gives it alone, and the
/// README shows exactly its code.
struct BatchExampleTests {
    @Test(.enabled(if: InferBinary.sharedAvailable, "shared test data not found: set INFER_SHARED (default ../shared)"))
    func exampleRunsAndEachPromptGetsItsTextAlone() throws {
        let model = InferBinary.shared("models/stories260K.gguf")
        let example = InferBinary.url.deletingLastPathComponent().appendingPathComponent("infer-batch-example")
        let result = try CommandRunner.run(example, [model], stdin: nil, timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        for prompt in ["Once upon a time", "The little dog", "One day, a big bird"] {
            let alone = try InferBinary.run(["generate", model, "-p", prompt, "-t", "0", "-n", "24"])
            let text = String(alone.stdout.dropLast())  // the final newline infer adds
            #expect(result.stdout.contains(text + "\n  [length, 24 tokens]"), "\(prompt): \(result.stdout)")
        }
    }

    @Test func readmeShowsTheExampleCode() throws {
        let readme = try String(contentsOf: LibraryExampleTests.repository.appendingPathComponent("README.md"), encoding: .utf8)
        let code = try String(contentsOf: LibraryExampleTests.repository.appendingPathComponent("Examples/Batch/main.swift"), encoding: .utf8)
        #expect(readme.contains("```swift\n" + code + "```"), "README.md's batch example differs from Examples/Batch/main.swift")
    }
}
