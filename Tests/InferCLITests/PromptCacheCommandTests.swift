import Foundation
import InferKit
import Testing

/// `--prompt-cache FILE`: a second run starts from the saved prompt; a file that cannot be
/// trusted is passed over with a note (the answer is the same); a run killed at any moment
/// leaves a file that loads right, or none.
@Suite(.enabled(if: InferBinary.sharedAvailable, "shared test data not found: set INFER_SHARED (default ../shared)"))
struct PromptCacheCommandTests {
    static let model = InferBinary.shared("models/stories260K.gguf")
    static let prompts = ["Once upon a time there was a little dog named Max. Max liked to run in the park every day.",
                          "Lily had a red ball. She played with it in the garden with her brother Tom."]

    static func file() -> String {
        InferBinary.scratchDirectory.appendingPathComponent(UUID().uuidString + ".kv").path
    }

    static func generate(_ prompt: String, cache: String) throws -> InferBinary.Result {
        try InferBinary.run(["generate", model, "-p", prompt, "-n", "16", "-t", "0", "--prompt-cache", cache])
    }

    @Test func secondRunStartsFromTheSavedPrompt() throws {
        let cache = Self.file()
        let first = try Self.generate(Self.prompts[0], cache: cache)
        let second = try Self.generate(Self.prompts[0], cache: cache)
        #expect(first.status == 0 && second.status == 0)
        #expect(second.stdout == first.stdout)
        #expect(!first.stderr.contains("prompt: 0 tokens"), "\(first.stderr)")
        #expect(second.stderr.contains("prompt: 0 tokens"), "\(second.stderr)")
        // A prompt that shares only a prefix computes the rest.
        let longer = try Self.generate(Self.prompts[0] + " One day", cache: cache)
        #expect(longer.status == 0 && longer.stderr.contains("prompt: 2 tokens"), "\(longer.stderr)")
    }

    @Test func untrustedFileIsPassedOverWithANote() throws {
        let reference = try Self.generate(Self.prompts[1], cache: Self.file())
        let cache = Self.file()
        _ = try Self.generate(Self.prompts[0], cache: cache)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: cache))
        bytes[bytes.count / 3] ^= 1
        try bytes.write(to: URL(fileURLWithPath: cache))
        let result = try Self.generate(Self.prompts[1], cache: cache)
        #expect(result.status == 0 && result.stdout == reference.stdout)
        #expect(result.stderr.contains("not using the prompt cache") && result.stderr.contains("checksum"), "\(result.stderr)")
        // Another cache type: refused by name, and replaced by this run's.
        let retyped = try InferBinary.run(["generate", Self.model, "-p", Self.prompts[1], "-n", "16", "-t", "0",
                                           "--prompt-cache", cache, "--cache-type", "f32"])
        #expect(retyped.stdout == reference.stdout && retyped.stderr.contains("its KV cache is f16"), "\(retyped.stderr)")
    }

    /// SIGKILL at random moments of 50 runs that save the cache: afterwards the file is one of the
    /// two prompts' states, whole, or there is none yet. The moments are spread over the time a
    /// whole run takes here (a sanitized build takes several times longer).
    @Test func killedAtAnyMomentLeavesAFileThatLoadsRight() throws {
        let cache = Self.file()
        let model = try Model(path: Self.model)
        let expected = Self.prompts.map { model.tokenizer.encode($0, options: EncodeOptions(parseSpecial: true)) }
        let arguments = { (prompt: String, cache: String) in ["generate", Self.model, "-p", prompt, "-n", "200", "--prompt-cache", cache] }
        let start = ContinuousClock.now
        let whole = try CommandRunner.start(InferBinary.url, arguments(Self.prompts[0], Self.file()))
        _ = try whole.wait(timeout: 120)
        let span = ContinuousClock.now - start
        let spanMicroseconds = UInt32(clamping: max(span.components.seconds * 1_000_000 + span.components.attoseconds / 1_000_000_000_000, 10_000))
        var generator = SystemRandomNumberGenerator()
        var loaded = 0
        for run in 0..<50 {
            let process = try CommandRunner.start(InferBinary.url, arguments(Self.prompts[run % 2], cache))
            usleep(UInt32.random(in: 0..<spanMicroseconds, using: &generator))
            process.send(SIGKILL)
            _ = try process.wait(timeout: 30)
            guard FileManager.default.fileExists(atPath: cache) else { continue }
            let session = try Session(restoring: cache, model: model, contextLength: 512)
            #expect(expected.contains(session.tokens), "run \(run): the file holds \(session.tokens.count) tokens of neither prompt")
            loaded += 1
        }
        #expect(loaded > 0, "no run got as far as saving")
    }
}
