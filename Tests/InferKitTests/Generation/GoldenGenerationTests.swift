import Foundation
import Testing
@testable import InferKit

/// Greedy generation compared byte for byte with llama2.c's run.c.
@Suite(.enabled(if: SharedData.available, SharedData.missingMessage))
struct GoldenGenerationTests {
    struct RunCCase: Decodable, CustomTestStringConvertible {
        let model: String
        let tokenizer: String
        let prompt: String
        let runc_steps: Int
        let output: String
        var testDescription: String { "\(model) \"\(prompt)\"" }
    }

    static let runcCases: [RunCCase] = {
        guard let data = FileManager.default.contents(atPath: SharedData.path("reference/greedy-runc.json")) else { return [] }
        return (try? JSONDecoder().decode([RunCCase].self, from: data)) ?? []
    }()

    /// Greedy text after `prompt`, as `infer generate` prints it (prompt, then continuation).
    static func greedy(model: Model, prompt: String, maxTokens: Int) throws -> String {
        let session = try Session(model: model, cacheType: .f32)
        var tokens = model.tokenizer.encode(prompt, options: EncodeOptions(addBOS: true))
        if tokens.isEmpty, let bos = model.tokenizer.special.bos { tokens = [bos] }
        var parameters = GenerateParameters.greedy
        parameters.maxTokens = maxTokens
        var generator = try Generator(session: session, prompt: tokens, parameters: parameters)
        var text = prompt
        while let event = try generator.next() {
            if case .text(let piece, _) = event { text += piece }
        }
        return text
    }

    @Test func stories260KBinMatchesReference() throws {
        let model = try Model(path: SharedData.path("models/stories260K.bin"),
                              tokenizerPath: SharedData.path("models/tok512.bin"))
        let expected = try String(contentsOfFile: SharedData.path("reference/stories260K-greedy.txt"), encoding: .utf8)
        #expect(try Self.greedy(model: model, prompt: "", maxTokens: 200) == expected)
    }

    @Test func stories260KGGUFMatchesReference() throws {
        let model = try Model(path: SharedData.path("models/stories260K.gguf"))
        let expected = try String(contentsOfFile: SharedData.path("reference/stories260K-greedy.txt"), encoding: .utf8)
        #expect(try Self.greedy(model: model, prompt: "", maxTokens: 200) == expected)
    }

    @Test(arguments: runcCases)
    func matchesRunC(_ c: RunCCase) throws {
        let model = try Model(path: SharedData.path("models/\(c.model)"),
                              tokenizerPath: SharedData.path("models/\(c.tokenizer)"))
        // run.c's steps count every position, BOS and prompt included.
        let promptTokens = max(1, model.tokenizer.encode(c.prompt, options: EncodeOptions(addBOS: true)).count)
        let text = try Self.greedy(model: model, prompt: c.prompt, maxTokens: c.runc_steps - promptTokens + 1)
        #expect(c.output.hasPrefix(text))
        #expect(text.count * 10 >= c.output.count * 9, "reproduced only \(text.count) of \(c.output.count) characters")
    }

    @Test func q80CheckpointIsFluent() throws {
        let model = try Model(path: SharedData.path("models/stories260K_q80.bin"),
                              tokenizerPath: SharedData.path("models/tok512.bin"))
        let text = try Self.greedy(model: model, prompt: "", maxTokens: 40)
        #expect(text.hasPrefix("Once upon a time, there was a little girl named Lily. She loved to play outside in the park."))
    }

    @Test func runCPromptEncoding() throws {
        let model = try Model(path: SharedData.path("models/stories260K.bin"),
                              tokenizerPath: SharedData.path("models/tok512.bin"))
        #expect(model.tokenizer.encode("Once upon a time", options: EncodeOptions(addBOS: true)) == [1, 403, 407, 261, 378])
    }
}
