import Foundation
import InferKit
import InferServer
import Testing

/// Slots, the waiting line, clients that leave, and shutdown.
@Suite(.enabled(if: SharedData.available, SharedData.missingMessage))
struct ConcurrencyTests {
    /// Room for an answer that goes on for minutes with the tiny model, so that a test can
    /// hold a slot as long as it needs.
    static func long(parallel: Int = 1, queueLimit: Int = 16) -> ServerConfiguration {
        ServerConfiguration(parallel: parallel, contextLength: 16384, queueLimit: queueLimit)
    }

    static func endless(_ text: String = "Tell me a long story", stream: Bool = true) -> JSONValue {
        Body.chat(text, maxTokens: 16000, extra: ["stream": .bool(stream)])
    }

    @Test func clientLeavingMidStreamFreesItsSlotAtOnce() async throws {
        try await withServer(Self.long()) { client, _ in
            let stream = try await client.open("/v1/chat/completions", Self.endless())
            for _ in 0..<5 { _ = try await stream.nextEvent() }
            try await waitForHealth(client) { processing, _ in processing == 1 }
            let left = ContinuousClock.now
            stream.close()
            try await waitForHealth(client, within: 5) { processing, _ in processing == 0 }
            // Two seconds of an answer that would go on for minutes; a sanitizer slows it several times.
            #expect(ContinuousClock.now - left < (ProcessInfo.processInfo.environment["INFER_SANITIZER"] == nil ? .seconds(2) : .seconds(5)))
            #expect(try await client.post("/v1/chat/completions", Body.chat("Hi", maxTokens: 4)).status == 200)
        }
    }

    @Test func clientLeavingBeforeAWholeAnswerFreesItsSlot() async throws {
        try await withServer(Self.long()) { client, _ in
            let connection = try await client.sendWithoutReading("/v1/chat/completions", Self.endless(stream: false))
            try await waitForHealth(client) { processing, _ in processing == 1 }
            connection.close()
            try await waitForHealth(client, within: 5) { processing, _ in processing == 0 }
            #expect(try await client.post("/v1/chat/completions", Body.chat("Hi", maxTokens: 4)).status == 200)
        }
    }

    @Test func fullQueueGets503WithRetryAfterAndTheLineMovesOn() async throws {
        try await withServer(Self.long(queueLimit: 1)) { client, _ in
            let holder = try await client.open("/v1/chat/completions", Self.endless())
            _ = try await holder.nextEvent()
            // The next request waits in line...
            let waiting = Task { try await client.post("/v1/chat/completions", Body.chat("Hi", maxTokens: 4)) }
            try await waitForHealth(client) { _, waiting in waiting == 1 }
            // ...and one more finds the line full.
            let refused = try await client.post("/v1/chat/completions", Body.chat("Hi", maxTokens: 4))
            #expect(refused.status == 503)
            #expect(refused.headers["retry-after"] == "1")
            #expect(try ErrorTests.error(refused)["type"] == "server_error")
            // When the slot frees, the waiting request is served.
            holder.close()
            let served = try await waiting.value
            #expect(served.status == 200, "\(served.text)")
            try await waitForHealth(client) { processing, waiting in processing == 0 && waiting == 0 }
        }
    }

    @Test func clientLeavingTheLineIsForgotten() async throws {
        try await withServer(Self.long()) { client, _ in
            let holder = try await client.open("/v1/chat/completions", Self.endless())
            _ = try await holder.nextEvent()
            let waiting = try await client.sendWithoutReading("/v1/chat/completions", Body.chat("Hi", maxTokens: 4))
            try await waitForHealth(client) { _, waiting in waiting == 1 }
            waiting.close()
            try await waitForHealth(client) { processing, waiting in processing == 1 && waiting == 0 }
            holder.close()
            try await waitForHealth(client) { processing, _ in processing == 0 }
        }
    }

    @Test func healthAndModelsAnswerPromptlyWhileEverySlotIsBusy() async throws {
        try await withServer(Self.long(parallel: 2)) { client, _ in
            let a = try await client.open("/v1/chat/completions", Self.endless("A story about a cat"))
            let b = try await client.open("/v1/completions", ["prompt": "Once upon a time", "max_tokens": 16000, "stream": true])
            _ = try await a.nextEvent()
            _ = try await b.nextEvent()
            try await waitForHealth(client) { processing, _ in processing == 2 }
            // Not a stopwatch (CI's two cores run the suites side by side): each answer must come
            // while both answers are still being written, not after a slot frees.
            for _ in 0..<5 {
                let health = try await client.get("/health")
                #expect(health.status == 200)
                #expect(try health.json()["slots_processing"]?.int == 2)
                #expect(try await client.get("/v1/models").status == 200)
                _ = try await a.nextEvent()
                _ = try await b.nextEvent()
            }
            a.close()
            b.close()
            try await waitForHealth(client) { processing, _ in processing == 0 }
        }
    }

    @Test func aRequestGoesToTheSlotHoldingItsConversation() async throws {
        try await withServer(ServerConfiguration(parallel: 2)) { client, _ in
            func ask(_ messages: [(role: String, content: String)]) async throws -> JSONValue {
                try await client.post("/v1/chat/completions", Body.chat(messages, maxTokens: 12)).json()
            }
            func answer(_ json: JSONValue) -> String { json["choices"]?[0]?["message"]?["content"]?.string ?? "" }
            let catTurn = try await ask([("user", "A story about a cat")])
            let dogTurn = try await ask([("user", "A story about a dog")])
            // The cat's slot has been idle longer, but the dog's holds this conversation.
            let dogNext = try await ask([("user", "A story about a dog"), ("assistant", answer(dogTurn)), ("user", "And then?")])
            let dogPrompt = try #require(dogTurn["usage"]?["prompt_tokens"]?.int)
            #expect((dogNext["usage"]?["prompt_tokens_details"]?["cached_tokens"]?.int ?? 0) >= dogPrompt)
            let catNext = try await ask([("user", "A story about a cat"), ("assistant", answer(catTurn)), ("user", "And then?")])
            let catPrompt = try #require(catTurn["usage"]?["prompt_tokens"]?.int)
            #expect((catNext["usage"]?["prompt_tokens_details"]?["cached_tokens"]?.int ?? 0) >= catPrompt)
        }
    }

    @Test func concurrentRequestsAllGetTheirOwnAnswers() async throws {
        try await withServer(ServerConfiguration(parallel: 2, queueLimit: 16)) { client, _ in
            let expected = try await client.post("/v1/completions", Body.completion("Once upon a time", maxTokens: 30)).json()["choices"]?[0]?["text"]
            try await withThrowingTaskGroup(of: JSONValue?.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        if index % 2 == 0 {
                            return try await client.post("/v1/completions", Body.completion("Once upon a time", maxTokens: 30)).json()["choices"]?[0]?["text"]
                        }
                        let stream = try await client.open("/v1/completions", Body.completion("Once upon a time", maxTokens: 30, extra: ["stream": true]))
                        let events = try await stream.remainingEvents().dropLast()
                        return .string(try events.map { try JSONValue(parsing: $0)["choices"]?[0]?["text"]?.string ?? "" }.joined())
                    }
                }
                for try await text in group { #expect(text == expected) }
            }
        }
    }

    @Test func gracefulShutdownEndsStreamsInProgressAndStops() async throws {
        try await withServer(Self.long()) { client, server in
            let stream = try await client.open("/v1/chat/completions", Self.endless())
            _ = try await stream.nextEvent()
            await server.shutDownGracefully()
            let events = try await stream.remainingEvents()
            #expect(events.last == "[DONE]")
            let closing = try JSONValue(parsing: events[events.count - 2])
            #expect(closing["choices"]?[0]?["finish_reason"] == "length")
        }
    }
}
