import Foundation
import Testing
@testable import InferKit

/// The committed default model, Models/horatio-q8_0.gguf, against its PyTorch reference and
/// its SentencePiece tokenizer. Fixtures come from Models/train/make_fixtures.py.
struct DefaultModelTests {
    static let repository = TestPaths.repository
    static let modelPath = repository.appendingPathComponent("Models/horatio-q8_0.gguf").path

    static func fixture<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        let url = repository.appendingPathComponent("Tests/InferKitTests/Fixtures/\(name)")
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }

    // MARK: logits

    struct LogitsCase: Decodable, CustomTestStringConvertible {
        let name: String
        let text: String
        let tokens: [Int]
        let top_ids: [[Int]]      // per position, the reference's five largest logits
        let top_logits: [[Float]]
        let last_logits: [Float]? // every logit of the last position
        var testDescription: String { "\(name) (\(tokens.count) tokens)" }
    }

    struct LogitsFixture: Decodable {
        let model: String
        let cases: [LogitsCase]
    }

    /// Empty if the fixture cannot be read; `fixturesAreReadable` then fails.
    static let logitsCases = (try? fixture("default-model-logits.json", as: LogitsFixture.self))?.cases ?? []

    /// The reference is model.py in float64 over the Q8_0 weights exactly as stored. infer's
    /// kernels, like llama.cpp's, first round each product's input to int8 blocks of 32 (scale
    /// max|x|/127), which moves logits by a few hundredths (measured: at most 0.14). So the
    /// Q8_0 bound: no logit further than 0.25 from the reference, and a normalized squared
    /// error Σ(a−b)²/Σb² of all last-position logits within 5e-4 (llama.cpp's
    /// test-backend-ops bound for quantized products). A wrong forward pass (RoPE, attention,
    /// norms, a kernel) misses both by orders of magnitude. (With the model exported as F32 the
    /// same comparison gives at most 8.6e-6; as F16, 5.0e-3, because F16 products read their
    /// inputs rounded to fp16, as llama.cpp's do.)
    static let maxAbsTolerance: Float = 0.25
    static let nmseTolerance = 5e-4

    @Test func fixturesAreReadable() throws {
        let logits = try Self.fixture("default-model-logits.json", as: LogitsFixture.self)
        #expect(logits.model == "horatio-q8_0.gguf")
        #expect(logits.cases.count == 4)
    }

    @Test(arguments: logitsCases)
    func logitsMatchPyTorch(_ c: LogitsCase) throws {
        let model = try Model(path: Self.modelPath)
        let session = try Session(model: model)
        var maxError: Float = 0
        var worst = ""
        func check(position: Int, id: Int, expected: Float) {
            let error = abs(session.logits[id] - expected)
            if error > maxError { maxError = error; worst = "position \(position), token \(id)" }
        }
        for (position, token) in c.tokens.enumerated() {
            try session.append([token])
            for (id, expected) in zip(c.top_ids[position], c.top_logits[position]) {
                check(position: position, id: id, expected: expected)
            }
        }
        var squaredError = 0.0, squaredReference = 0.0
        for (id, expected) in (c.last_logits ?? []).enumerated() {
            check(position: c.tokens.count - 1, id: id, expected: expected)
            squaredError += Double(session.logits[id] - expected) * Double(session.logits[id] - expected)
            squaredReference += Double(expected) * Double(expected)
        }
        #expect(maxError <= Self.maxAbsTolerance, "max abs error \(maxError) at \(worst)")
        if squaredReference > 0 {
            let nmse = squaredError / squaredReference
            #expect(nmse <= Self.nmseTolerance, "normalized squared error \(nmse) of the last position")
        }
    }

    /// Trained on scenes whose speeches end with EOS, the model answers the chat prompt with
    /// a speech and stops by itself.
    @Test func answersTheChatPromptAndStops() throws {
        let model = try Model(path: Self.modelPath)
        let chat = try #require(Self.logitsCases.first { $0.name == "chat" })
        let eos = try #require(model.tokenizer.special.eos)
        let session = try Session(model: model)
        try session.append(chat.tokens)
        var reply: [Int] = []
        while reply.count < 100 {
            let logits = session.logits
            let next = logits.indices.max { logits[$0] < logits[$1] }!
            if next == eos { break }
            reply.append(next)
            try session.append([next])
        }
        #expect(reply.count < 100, "no EOS after 100 tokens: \(model.tokenizer.decode(reply).debugDescription)")
        #expect(!model.tokenizer.decode(reply).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
    }

    // MARK: tokenizer

    struct TokenizerCase: Decodable {
        let text: String
        let ids: [Int]
        let decoded: String
    }

    struct TokenizerFixture: Decodable {
        let cases: [TokenizerCase]
    }

    @Test func tokenizerMatchesSentencePiece() throws {
        let tokenizer = try Model(path: Self.modelPath).tokenizer
        let cases = try Self.fixture("default-model-tokenizer.json", as: TokenizerFixture.self).cases
        #expect(cases.count > 100)
        for c in cases {
            let ids = tokenizer.encode(c.text, options: EncodeOptions(addBOS: false))
            #expect(ids == c.ids, "encoding \(c.text.debugDescription)")
            #expect(tokenizer.decode(c.ids) == c.decoded, "decoding \(c.ids)")
        }
    }

    /// The chat prompt as llama.cpp tokenizes rendered templates: `<s>` and `</s>` in the
    /// text become their ids, and each text part between them is encoded on its own.
    @Test func chatPromptTokenizesLikeLlamaCpp() throws {
        let model = try Model(path: Self.modelPath)
        let chat = try #require(Self.logitsCases.first { $0.name == "chat" })
        let special = ["<s>": try #require(model.tokenizer.special.bos), "</s>": try #require(model.tokenizer.special.eos)]
        var ids: [Int] = []
        var rest = Substring(chat.text)
        while !rest.isEmpty {
            if let (marker, id) = special.first(where: { rest.hasPrefix($0.key) }) {
                ids.append(id)
                rest = rest.dropFirst(marker.count)
            } else {
                let end = special.keys.compactMap { rest.range(of: $0)?.lowerBound }.min() ?? rest.endIndex
                ids += model.tokenizer.encode(String(rest[..<end]), options: EncodeOptions(addBOS: false))
                rest = rest[end...]
            }
        }
        #expect(ids == chat.tokens)
    }

    // MARK: metadata

    @Test func carriesItsChatTemplateAndShape() throws {
        let model = try Model(path: Self.modelPath)
        let template = try String(contentsOf: Self.repository.appendingPathComponent("Models/train/chat_template.jinja"), encoding: .utf8)
        #expect(model.chatTemplate == template.trimmingCharacters(in: .whitespacesAndNewlines))
        let c = model.config
        let shape: [Int] = [c.dim, c.hiddenDim, c.layerCount, c.headCount, c.kvHeadCount, c.vocabularySize, c.contextLength]
        #expect(shape == [256, 768, 4, 8, 4, 2048, 512])
        #expect(model.weightBytesByType.map(\.type) == ["Q8_0"])
    }
}
