import Foundation
import Testing
@testable import InferKit

/// Several generations stepping together (`BatchGenerator`): each gets what it gets alone (greedy
/// and seeded sampling alike), whoever joins, leaves, pauses or is cancelled around it; prompts
/// are computed a chunk per step, the shortest first.
@Suite(.enabled(if: SharedData.available, SharedData.missingMessage))
struct BatchGeneratorTests {
    static func model() throws -> Model { try Model(path: SharedData.path("models/stories260K.gguf")) }

    static let prompts = ["Once upon a time", "The little dog", "Lily and Tom went to the park. They",
                          "One day, a big bird", "Sam had a red ball"]

    static func tokens(_ model: Model, _ text: String) -> [Int] {
        model.tokenizer.encode(text, options: EncodeOptions(parseSpecial: true))
    }

    /// What a generation gives alone: its text and finish reason.
    static func alone(_ model: Model, _ prompt: [Int], _ parameters: GenerateParameters) throws -> (String, FinishReason, Int) {
        var generator = try Generator(session: try Session(model: model, contextLength: 256, threads: 1), prompt: prompt,
                                      parameters: parameters)
        var text = ""
        while let event = try generator.next() {
            switch event {
            case .text(let piece, _): text += piece
            case .finished(let reason, let stats): return (text, reason, stats.generatedTokens)
            }
        }
        Issue.record("no .finished event")
        return (text, .cancelled, 0)
    }

    /// Collected updates: each generation's text, finish and stats, in the order they came.
    struct Outcome {
        var text: [Int: String] = [:]
        var finished: [Int: (FinishReason, GenerationStats)] = [:]
        var failures: [Int: any Error] = [:]

        mutating func take(_ updates: [BatchGenerator.Update]) {
            for update in updates {
                #expect(finished[update.id] == nil && failures[update.id] == nil, "an update after the end of \(update.id)")
                switch update.result {
                case .success(.text(let piece, _)): text[update.id, default: ""] += piece
                case .success(.finished(let reason, let stats)): finished[update.id] = (reason, stats)
                case .failure(let error): failures[update.id] = error
                }
            }
        }
    }

    static func run(_ batch: BatchGenerator, into outcome: inout Outcome, steps: Int = .max, pausing: Set<Int> = []) {
        var step = 0
        while !batch.isEmpty && step < steps {
            outcome.take(batch.step(pausing: pausing))
            step += 1
        }
    }

    static func parameters(_ i: Int, greedy: Bool) -> GenerateParameters {
        greedy ? GenerateParameters(maxTokens: 20 + 7 * i, temperature: 0)
               : GenerateParameters(maxTokens: 20 + 7 * i, temperature: 0.9, seed: UInt64(1000 + i))
    }

    @Test(arguments: [true, false])
    func everyGenerationGetsWhatItGetsAlone(greedy: Bool) throws {
        let model = try Self.model()
        let batch = try BatchGenerator(model: model, threads: 2)
        var ids: [Int] = []
        for (i, text) in Self.prompts.enumerated() {
            ids.append(try batch.add(session: try Session(model: model, contextLength: 256, threads: 1),
                                     prompt: Self.tokens(model, text), parameters: Self.parameters(i, greedy: greedy)))
        }
        var outcome = Outcome()
        Self.run(batch, into: &outcome)
        for (i, id) in ids.enumerated() {
            let (text, reason, generated) = try Self.alone(model, Self.tokens(model, Self.prompts[i]), Self.parameters(i, greedy: greedy))
            #expect(outcome.text[id, default: ""] == text, "prompt \(i)")
            #expect(outcome.finished[id]?.0 == reason)
            #expect(outcome.finished[id]?.1.generatedTokens == generated)
            #expect(outcome.finished[id]?.1.promptTokens == Self.tokens(model, Self.prompts[i]).count)
        }
        #expect(outcome.failures.isEmpty)
    }

    /// One generation cancelled mid-way ends with `.cancelled` at the next step; the others go on
    /// to their own ends, as alone.
    @Test func cancellingOneLeavesTheOthersAsAlone() throws {
        let model = try Self.model()
        let batch = try BatchGenerator(model: model, threads: 2)
        let ids = try Self.prompts.prefix(3).enumerated().map { i, text in
            try batch.add(session: try Session(model: model, contextLength: 256, threads: 1), prompt: Self.tokens(model, text),
                          parameters: Self.parameters(i, greedy: true))
        }
        var outcome = Outcome()
        Self.run(batch, into: &outcome, steps: 8)
        #expect(outcome.finished.isEmpty)
        let before = outcome.text[ids[1], default: ""]
        batch.cancel(ids[1])
        let updates = batch.step()
        outcome.take(updates)
        #expect(outcome.finished[ids[1]]?.0 == .cancelled)
        #expect(batch.ids == [ids[0], ids[2]])
        Self.run(batch, into: &outcome)
        for i in [0, 2] {
            let (text, reason, _) = try Self.alone(model, Self.tokens(model, Self.prompts[i]), Self.parameters(i, greedy: true))
            #expect(outcome.text[ids[i], default: ""] == text)
            #expect(outcome.finished[ids[i]]?.0 == reason)
        }
        // The cancelled one's text is a beginning of its text alone.
        let (whole, _, _) = try Self.alone(model, Self.tokens(model, Self.prompts[1]), Self.parameters(1, greedy: true))
        #expect(whole.hasPrefix(outcome.text[ids[1], default: ""]) && outcome.text[ids[1], default: ""].count >= before.count)
    }

    /// A generation that joins mid-batch, and generations that leave at different times (their
    /// token budgets), a removed one, a paused one: all as alone.
    @Test func joiningLeavingAndPausing() throws {
        let model = try Self.model()
        let batch = try BatchGenerator(model: model, threads: 2)
        func add(_ i: Int) throws -> Int {
            try batch.add(session: try Session(model: model, contextLength: 256, threads: 1), prompt: Self.tokens(model, Self.prompts[i]),
                          parameters: Self.parameters(i, greedy: true))
        }
        var outcome = Outcome()
        let first = try add(0), removed = try add(1)
        Self.run(batch, into: &outcome, steps: 5)
        batch.remove(removed)
        #expect(batch.ids == [first])
        let late = try add(2), paused = try add(3)
        Self.run(batch, into: &outcome, steps: 10, pausing: [paused])
        #expect(outcome.text[paused] == nil, "a paused generation does not step")
        #expect(batch.ids.contains(paused))
        Self.run(batch, into: &outcome)
        for (i, id) in [(0, first), (2, late), (3, paused)] {
            let (text, reason, _) = try Self.alone(model, Self.tokens(model, Self.prompts[i]), Self.parameters(i, greedy: true))
            #expect(outcome.text[id, default: ""] == text, "prompt \(i)")
            #expect(outcome.finished[id]?.0 == reason)
        }
        #expect(outcome.finished[removed] == nil, "a removed generation gets no further updates")
    }

    /// Prompts go a chunk per step (`Session.defaultBatchSize` tokens while nothing generates,
    /// `promptChunk` while something does): a short prompt that arrives while long ones are
    /// computed is taken first and generates while they are still being computed.
    @Test func aShortPromptStartsBeforeLongOnesFinish() throws {
        let model = try Self.model()
        let batch = try BatchGenerator(model: model, threads: 2, promptChunk: 16)
        let long = Self.tokens(model, String(repeating: "The cat sat on the mat and looked at the sky. ", count: 30))
        #expect(long.count > 2 * Session.defaultBatchSize)
        let longs = try (0..<3).map { _ in
            try batch.add(session: try Session(model: model, contextLength: 1024, threads: 1), prompt: long,
                          parameters: GenerateParameters(maxTokens: 4, temperature: 0))
        }
        var outcome = Outcome()
        Self.run(batch, into: &outcome, steps: 3)
        #expect(longs.allSatisfy { batch.isComputingPrompt($0) })
        let short = try batch.add(session: try Session(model: model, contextLength: 1024, threads: 1), prompt: Self.tokens(model, "Hi"),
                                  parameters: GenerateParameters(maxTokens: 30, temperature: 0))
        outcome.take(batch.step())
        #expect(!batch.isComputingPrompt(short), "the short prompt is computed at the next step")
        #expect(longs.allSatisfy { batch.isComputingPrompt($0) })
        Self.run(batch, into: &outcome)
        #expect(outcome.finished.count == 4 && outcome.failures.isEmpty)
        let (text, _, _) = try Self.alone(model, Self.tokens(model, "Hi"), GenerateParameters(maxTokens: 30, temperature: 0))
        #expect(outcome.text[short, default: ""] == text)
        #expect(outcome.finished[longs[0]]?.1.promptTokens == long.count)
    }

    /// A session keeps what it computed: the next generation in it reuses the shared prefix.
    @Test func aSessionsCacheIsReusedByItsNextGeneration() throws {
        let model = try Self.model()
        let batch = try BatchGenerator(model: model, threads: 2)
        let session = try Session(model: model, contextLength: 256, threads: 1)
        let prompt = Self.tokens(model, Self.prompts[2])
        var outcome = Outcome()
        let first = try batch.add(session: session, prompt: prompt, parameters: GenerateParameters(maxTokens: 5, temperature: 0))
        Self.run(batch, into: &outcome)
        let again = try batch.add(session: session, prompt: prompt + [model.tokenizer.special.bos ?? 1],
                                  parameters: GenerateParameters(maxTokens: 5, temperature: 0))
        Self.run(batch, into: &outcome)
        #expect(outcome.finished[first]?.1.reusedTokens == 0)
        #expect(outcome.finished[again]?.1.reusedTokens == prompt.count)
        #expect(outcome.finished[again]?.1.promptTokens == 1)
    }

    @Test func refusesWhatItCannotGenerate() throws {
        let model = try Self.model()
        let batch = try BatchGenerator(model: model, threads: 1)
        let session = try Session(model: model, contextLength: 16, threads: 1)
        #expect(throws: InferError.self) { try batch.add(session: session, prompt: [], parameters: .greedy) }
        #expect(throws: InferError.self) { try batch.add(session: session, prompt: [1, -3], parameters: .greedy) }
        #expect(throws: InferError.self) { try batch.add(session: session, prompt: Array(repeating: 1, count: 17), parameters: .greedy) }
        #expect(throws: InferError.self) { try batch.add(session: session, prompt: [1], parameters: GenerateParameters(topP: 0)) }
        let other = try BatchedPrefillTests.tinyModel(.q8_0)
        #expect(throws: InferError.self) { try batch.add(session: try Session(model: other, contextLength: 16), prompt: [1], parameters: .greedy) }
        try batch.add(session: session, prompt: [1], parameters: .greedy)
        #expect(throws: InferError.self) { try batch.add(session: session, prompt: [1], parameters: .greedy) }
        #expect(batch.count == 1)
        #expect(throws: InferError.self) { try BatchGenerator(model: model, promptChunk: 0) }
    }
}
