import Foundation
import Testing
@testable import InferKit

/// Generation under a grammar, logit bias and logprobs, over a real tiny model.
@Suite(.enabled(if: SharedData.available, SharedData.missingMessage))
struct GrammarGenerationTests {
    static let model: Model = try! Model(path: SharedData.path("models/stories260K.gguf"))

    static func generate(_ prompt: String, _ parameters: GenerateParameters) throws -> (text: String, tokens: [Int], reason: FinishReason, logprobs: [TokenLogprob]) {
        let session = try Session(model: model)
        var tokens = model.tokenizer.encode(prompt, options: EncodeOptions(parseSpecial: true))
        if tokens.isEmpty { tokens = [model.tokenizer.special.bos!] }
        var generator = try Generator(session: session, prompt: tokens, parameters: parameters)
        var text = "", generated: [Int] = [], logprobs: [TokenLogprob] = []
        while let event = try generator.next() {
            switch event {
            case .text(let piece, let ids):
                text += piece
                generated += ids
                #expect(generator.logprobs.count == (parameters.logprobs == nil ? 0 : ids.count))
                logprobs += generator.logprobs
            case .finished(let reason, _):
                return (text, generated, reason, logprobs)
            }
        }
        Issue.record("no finish event")
        return (text, generated, .stop, logprobs)
    }

    static let record = try! Grammar(gbnf: #"""
        root ::= "{\"name\": \"" [A-Z] [a-z]{1,8} "\", \"age\": " [1-9] [0-9]? ", \"tags\": [" (tag (", " tag){0,2})? "]}"
        tag  ::= "\"" [a-z]{2,6} "\""
        """#)

    /// At temperature 1 with any seed, the text is a sentence of the grammar, and generation
    /// ends because the grammar is complete.
    @Test(arguments: 1...6)
    func sampledTextFollowsTheGrammar(seed: UInt64) throws {
        let parameters = GenerateParameters(maxTokens: 200, temperature: 1, topK: 0, topP: 1, minP: 0, seed: seed,
                                            grammar: Self.record)
        let result = try Self.generate("Once upon a time", parameters)
        #expect(result.reason == .stop, "\(result.text)")
        #expect(Self.record.matches(result.text), "\(result.text.debugDescription)")
        #expect((try? JSONValue(parsing: result.text))?["tags"]?.array != nil)
    }

    /// Greedy decoding under a grammar picks, at each step, the most likely token among those
    /// whose text keeps the output a prefix of a sentence: checked against a brute-force run
    /// that tries every vocabulary entry.
    @Test func greedyPicksTheBestAllowedToken() throws {
        let grammar = try Grammar(gbnf: #"root ::= "Tom " ("was" | "had" | "saw") " a " [a-z]{3,12} "." "#)
        let result = try Self.generate("Once upon a time", GenerateParameters(maxTokens: 40, temperature: 0, grammar: grammar))
        #expect(grammar.matches(result.text), "\(result.text.debugDescription)")

        let session = try Session(model: Self.model)
        let tokenizer = Self.model.tokenizer
        try session.append(tokenizer.encode("Once upon a time", options: EncodeOptions(parseSpecial: true)))
        let automaton = GrammarAutomaton(grammar.compiled)
        var text: [UInt8] = [], expected: [Int] = []
        while !automaton.isFinished(automaton.step(automaton.start, text)) && expected.count < 40 {
            let logits = Array(session.logits)
            var best: Int?
            for id in 0..<tokenizer.vocabularySize {
                let bytes = tokenizer.bytes(of: id)
                guard !bytes.isEmpty, automaton.step(automaton.start, text + bytes) != GrammarAutomaton.dead else { continue }
                if best == nil || logits[id] > logits[best!] { best = id }
            }
            let token = try #require(best)
            expected.append(token)
            text += tokenizer.bytes(of: token)
            try session.append([token])
        }
        #expect(result.tokens == expected)
    }

    /// At the start of a SentencePiece text the first token's space is not text: the grammar
    /// must not see it either.
    @Test func grammarFromTheStartOfAText() throws {
        let grammar = try Grammar(gbnf: #"root ::= "Once" [a-z ,]{5,40} "." "#)
        for seed: UInt64 in 1...3 {
            let result = try Self.generate("", GenerateParameters(maxTokens: 60, temperature: 1, seed: seed, grammar: grammar))
            #expect(grammar.matches(result.text), "\(result.text.debugDescription)")
            #expect(result.reason == .stop)
        }
    }

    @Test func chatAnswersFollowTheGrammar() throws {
        var parameters = GenerateParameters(maxTokens: 60, temperature: 1, seed: 7)
        parameters.grammar = try Grammar(gbnf: #"root ::= ("Yes" | "No") ", " [a-z ]{3,20} "." "#)
        let chat = try ChatSession(model: Self.model, parameters: parameters)
        var generator = try chat.beginTurn(.user("Is the sky blue?"))
        var answer = ""
        while let event = try generator.next() { if case .text(let piece, _) = event { answer += piece } }
        #expect(parameters.grammar!.matches(answer), "\(answer.debugDescription)")
    }

    @Test func logitBiasBansAndForcesTokens() throws {
        let plain = try Self.generate("Once upon a time", GenerateParameters(maxTokens: 8, temperature: 0))
        let first = plain.tokens[0]
        let banned = try Self.generate("Once upon a time", GenerateParameters(maxTokens: 8, temperature: 0, logitBias: [first: -100]))
        #expect(banned.tokens[0] != first)
        let forced = try Self.generate("Once upon a time", GenerateParameters(maxTokens: 3, temperature: 0, logitBias: [300: 100]))
        #expect(forced.tokens == [300, 300, 300])
        #expect(throws: InferError.self) {
            try Self.generate("Once", GenerateParameters(maxTokens: 3, logitBias: [100_000: 1]))
        }
        #expect(throws: InferError.self) {
            try Self.generate("Once", GenerateParameters(maxTokens: 3, logitBias: [3: 101]))
        }
    }

    /// Each token's log-probability is the log-softmax of the model's logits at its place,
    /// computed here in double precision from a separate run.
    @Test func logprobsAreTheModelsLogSoftmax() throws {
        let result = try Self.generate("Once upon a time", GenerateParameters(maxTokens: 6, temperature: 1, seed: 3, logprobs: 5))
        #expect(result.logprobs.map(\.token) == result.tokens)
        let session = try Session(model: Self.model)
        try session.append(Self.model.tokenizer.encode("Once upon a time", options: EncodeOptions(parseSpecial: true)))
        for (record, token) in zip(result.logprobs, result.tokens) {
            let logits = Array(session.logits).map(Double.init)
            let maximum = logits.max()!
            let logSum = log(logits.map { exp($0 - maximum) }.reduce(0, +)) + maximum
            #expect(abs(Double(record.logprob) - (logits[token] - logSum)) < 1e-4)
            let ranked = logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }.prefix(5)
            #expect(record.top.map(\.token) == Array(ranked))
            for alternative in record.top {
                #expect(abs(Double(alternative.logprob) - (logits[alternative.token] - logSum)) < 1e-4)
            }
            try session.append([token])
        }
        let none = try Self.generate("Once upon a time", GenerateParameters(maxTokens: 3, temperature: 0))
        #expect(none.logprobs.isEmpty)
        #expect(throws: InferError.self) { try GenerateParameters(logprobs: 21).validate() }
    }
}
