import Foundation
import Testing
@testable import InferKit

/// The real models of ../shared/tools/fetch-models.sh (INFER_MODELS, default /tmp/infer-models):
/// tokenization and perplexity against llama.cpp's (Tests/Fixtures/real-models, made by
/// `make_goldens.py` with llama-tokenize and llama-perplexity), and the instruct models answering
/// in their own templates. A model that is not there is skipped with a message.
struct RealModelTests {
    static let folder = ProcessInfo.processInfo.environment["INFER_MODELS"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp/infer-models"
    static let goldens = TestPaths.tests.appendingPathComponent("Fixtures/real-models")
    static let root = goldens.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let files = ["SmolLM2-135M-Instruct-Q4_1.gguf", "Qwen2.5-Coder-0.5B-Instruct.gguf",
                        "Qwen2.5-Coder-1.5B-Instruct-Q4_K_M.gguf", "gemma-3-270m-Q4_K_M.gguf"]
    static let instruct = ["SmolLM2-135M-Instruct-Q4_1.gguf", "Qwen2.5-Coder-0.5B-Instruct.gguf",
                           "Qwen2.5-Coder-1.5B-Instruct-Q4_K_M.gguf"]

    struct Golden: Decodable {
        struct Case: Decodable { let text: String, ids: [Int], ids_plain: [Int] }
        struct Perplexity: Decodable { let text_file: String, ctx: Int, chunks: Int, llama_cpp_ppl: Double }
        let tokenize: [Case]
        let perplexity: Perplexity
    }

    /// The model, or nil (and a message) when the file is not there.
    static func model(_ file: String) throws -> Model? {
        let path = folder + "/" + file
        guard FileManager.default.fileExists(atPath: path) else {
            print("skipping \(file): not in \(folder) (../shared/tools/fetch-models.sh fetches it)")
            return nil
        }
        return try Model(path: path)
    }

    static func golden(_ file: String) throws -> Golden {
        let url = goldens.appendingPathComponent((file as NSString).deletingPathExtension + ".json")
        return try JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
    }

    /// llama.cpp's tokenizer suite and the model's chat markup give llama-tokenize's ids, with and
    /// without special tokens parsed.
    @Test(arguments: files)
    func tokenizesLikeLlamaTokenize(_ file: String) throws {
        guard let model = try Self.model(file) else { return }
        for c in try Self.golden(file).tokenize {
            let special = model.tokenizer.encode(c.text, options: EncodeOptions(parseSpecial: true))
            #expect(special == c.ids, "\(file): \(c.text.debugDescription)")
            let plain = model.tokenizer.encode(c.text, options: EncodeOptions(parseSpecial: false))
            #expect(plain == c.ids_plain, "\(file), special tokens as text: \(c.text.debugDescription)")
        }
    }

    /// Perplexity over the committed story within 1% of llama-perplexity's (the kernels round the
    /// quantized products' activations differently from llama.cpp's).
    @Test(arguments: files)
    func perplexityMatchesLlamaCpp(_ file: String) throws {
        guard let model = try Self.model(file) else { return }
        let golden = try Self.golden(file).perplexity
        let text = try String(contentsOf: Self.root.appendingPathComponent(golden.text_file), encoding: .utf8)
        let tokens = model.tokenizer.encode(text)
        let session = try Session(model: model, contextLength: golden.ctx)
        var evaluation = PerplexityEvaluation(context: golden.ctx)
        for chunk in 0..<golden.chunks { try evaluation.evaluate(chunk: chunk, of: tokens, session: session) }
        let relative = abs(evaluation.perplexity / golden.llama_cpp_ppl - 1)
        #expect(relative < 0.01, "\(file): \(evaluation.perplexity) against llama-perplexity's \(golden.llama_cpp_ppl)")
    }

    /// An instruct model, greedy, in its own chat template, knows the capital of France.
    @Test(arguments: instruct)
    func answersInItsOwnTemplate(_ file: String) async throws {
        guard let model = try Self.model(file) else { return }
        let chat = try ChatSession(model: model, parameters: GenerateParameters(maxTokens: 24, temperature: 0))
        #expect(chat.templateOrigin == "model")
        var answer = ""
        for try await event in chat.respond(to: "What is the capital of France? Answer in one sentence.") {
            if case .text(let piece, _) = event { answer += piece }
        }
        #expect(answer.contains("Paris"), "\(file): \(answer)")
    }

    /// Gemma 3's base model carries no template: the built-in Gemma one renders its turns, and a
    /// second turn reuses the first from the cache (its sliding-window layers keep their window).
    @Test func gemmaWithoutTemplateGetsGemmaTurnsAndReusesTheConversation() async throws {
        guard let model = try Self.model("gemma-3-270m-Q4_K_M.gguf") else { return }
        let chat = try ChatSession(model: model, parameters: GenerateParameters(maxTokens: 8, temperature: 0))
        #expect(chat.templateOrigin.hasPrefix("gemma"))
        #expect(try chat.prompt(adding: .user("Hi")).contains("<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n"))
        for question in ["Name a color.", "Name another."] {
            for try await _ in chat.respond(to: question) {}
        }
        #expect(chat.lastStats.reusedTokens > 0)
    }
}
