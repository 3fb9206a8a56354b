import Foundation
import InferKit
@testable import InferServer
import Synchronization
import Testing

/// The slots' answers computed together in one generation loop: each answer is the one it gets
/// alone, whoever joins, leaves or falls behind around it.
@Suite(.enabled(if: SharedData.available, SharedData.missingMessage))
struct BatchedSlotsTests {
    static let prompts = ["Once upon a time", "The little dog", "Lily and Tom went to the park"]

    /// Long enough that an answer outlasts what the test does meanwhile (the tiny model writes
    /// thousands of tokens a second).
    static let context = 8192
    static let long = 3000

    /// The text of a greedy completion of `prompt` on a server of one slot.
    static func alone(_ prompt: String, maxTokens: Int) async throws -> String {
        try await withServer(ServerConfiguration(parallel: 1, contextLength: context)) { client, _ in
            try await client.post("/v1/completions", Body.completion(prompt, maxTokens: maxTokens)).json()["choices"]?[0]?["text"]?.string ?? ""
        }
    }

    static func text(of events: [String]) throws -> String {
        try events.filter { $0 != "[DONE]" }.map { try JSONValue(parsing: $0)["choices"]?[0]?["text"]?.string ?? "" }.joined()
    }

    @Test func cancellingOneStreamLeavesTheOthersTheirAnswers() async throws {
        var texts: [String] = []
        for prompt in Self.prompts { texts.append(try await Self.alone(prompt, maxTokens: Self.long)) }
        let expected = texts
        try await withServer(ServerConfiguration(parallel: 3, contextLength: Self.context)) { client, _ in
            var streams: [OpenResponse] = []
            for prompt in Self.prompts {
                streams.append(try await client.open("/v1/completions", Body.completion(prompt, maxTokens: Self.long, extra: ["stream": true])))
            }
            var received: [[String]] = [[], [], []]
            for (i, stream) in streams.enumerated() {
                for _ in 0..<3 { if let event = try await stream.nextEvent() { received[i].append(event) } }
            }
            try await waitForHealth(client) { processing, _ in processing == 3 }
            streams[1].close()
            try await waitForHealth(client, within: 5) { processing, _ in processing <= 2 }
            for i in [0, 2] {
                received[i] += try await streams[i].remainingEvents()
                #expect(received[i].last == "[DONE]")
                #expect(try Self.text(of: received[i]) == expected[i], "stream \(i)")
            }
            try await waitForHealth(client) { processing, _ in processing == 0 }
        }
    }

    @Test func aRequestJoiningAndLeavingMidBatch() async throws {
        let longExpected = try await Self.alone(Self.prompts[0], maxTokens: Self.long)
        let shortExpected = try await Self.alone(Self.prompts[2], maxTokens: 20)
        try await withServer(ServerConfiguration(parallel: 2, contextLength: Self.context)) { client, _ in
            let long = try await client.open("/v1/completions", Body.completion(Self.prompts[0], maxTokens: Self.long, extra: ["stream": true]))
            var events: [String] = []
            for _ in 0..<5 { if let event = try await long.nextEvent() { events.append(event) } }
            // A second request joins while the first streams, and leaves before it ends.
            let short = try await client.post("/v1/completions", Body.completion(Self.prompts[2], maxTokens: 20)).json()
            #expect(short["choices"]?[0]?["text"]?.string == shortExpected)
            try await waitForHealth(client) { processing, _ in processing == 1 }  // the first is still going
            events += try await long.remainingEvents()
            #expect(try Self.text(of: events) == longExpected)
        }
    }

    final class Flag: Sendable {
        private let value = Atomic(false)
        func set() { value.store(true, ordering: .relaxed) }
        var isSet: Bool { value.load(ordering: .relaxed) }
    }

    /// The generation loop itself: a job whose reader takes nothing stops at the channel's
    /// capacity while another job runs to its end; once its reader leaves, its slot is freed.
    @Test func aReaderThatFallsBehindHoldsUpOnlyItself() async throws {
        let model = SharedData.stories
        let scheduler = try SlotScheduler(model: model, threads: 2, contextShift: true)
        defer { scheduler.stop() }
        let prompt = model.tokenizer.encode("Once upon a time", options: EncodeOptions(parseSpecial: true))
        func job(_ channel: EventChannel, maxTokens: Int, idle: Flag) -> GenerationJob {
            GenerationJob(prompt: prompt, parameters: GenerateParameters(maxTokens: maxTokens, temperature: 0),
                          dropLeadingWhitespace: false, events: channel, onIdle: { idle.set() })
        }
        let stuckIdle = Flag(), runningIdle = Flag()
        let stuck = EventChannel(capacity: 4, onChange: { scheduler.wake() })
        let running = EventChannel(capacity: 4, onChange: { scheduler.wake() })
        scheduler.start(job(stuck, maxTokens: 2000, idle: stuckIdle), in: try Slot(index: 0, model: model, contextLength: 4096, threads: 1))
        scheduler.start(job(running, maxTokens: 300, idle: runningIdle), in: try Slot(index: 1, model: model, contextLength: 4096, threads: 1))
        var pieces = 0
        var finished = false
        while let event = try await running.next() {
            if case .finished(let reason, let stats) = event {
                finished = true
                #expect(reason == .length && stats.generatedTokens == 300)
            } else {
                pieces += 1
            }
        }
        #expect(finished && pieces > 0)
        #expect(runningIdle.isSet)
        #expect(!stuck.hasRoom && !stuckIdle.isSet, "the unread job waits at its capacity")
        stuck.close()
        let deadline = ContinuousClock.now + .seconds(5)
        while !stuckIdle.isSet && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(stuckIdle.isSet, "a reader that leaves frees its slot")
    }
}
