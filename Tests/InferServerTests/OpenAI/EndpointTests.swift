import Foundation
import InferKit
import InferServer
import Testing

/// Every endpoint over real HTTP, whole and streamed, with the tiny real model.
@Suite(.enabled(if: SharedData.available, SharedData.missingMessage))
struct EndpointTests {
    static let greedyReference: String = {
        (try? String(contentsOfFile: SharedData.path("reference/stories260K-greedy.txt"), encoding: .utf8)) ?? ""
    }()

    @Test func healthAndModels() async throws {
        try await withServer { client, _ in
            let health = try await client.get("/health")
            #expect(health.status == 200 && health.headers["content-type"] == "application/json")
            let status = try health.json()
            #expect(status["status"] == "ok" && status["slots_idle"] == 2 && status["slots_processing"] == 0)

            let models = try await client.get("/v1/models").json()
            #expect(models["object"] == "list")
            let card = try #require(models["data"]?.array?.first)
            #expect(card["id"] == "stories260K" && card["object"] == "model" && card["owned_by"] == "infer")
            #expect((card["created"]?.int ?? 0) > 1_700_000_000)
        }
    }

    @Test func chatCompletionMatchesChatSession() async throws {
        var parameters = GenerateParameters.greedy
        parameters.maxTokens = 30
        let chat = try ChatSession(model: SharedData.stories, parameters: parameters)
        let expected = try await chat.respond(to: "Tell me a story").text()
        let prompt = try ChatPrompt(model: SharedData.stories).tokens(for: [.user("Tell me a story")])

        try await withServer { client, _ in
            let response = try await client.post("/v1/chat/completions", Body.chat("Tell me a story", maxTokens: 30,
                                                                               extra: ["model": "stories260K"]))
            #expect(response.status == 200)
            let json = try response.json()
            #expect(json["object"] == "chat.completion" && json["model"] == "stories260K")
            #expect(json["id"]?.string?.hasPrefix("chatcmpl-") == true)
            let choice = try #require(json["choices"]?.array?.first)
            #expect(choice["index"] == 0 && choice["finish_reason"] == "length" && choice["logprobs"] == .null)
            #expect(choice["message"]?["role"] == "assistant")
            #expect(choice["message"]?["content"]?.string == expected)
            #expect(json["usage"]?["prompt_tokens"]?.int == prompt.count)
            #expect(json["usage"]?["completion_tokens"] == 30)
            #expect(json["usage"]?["total_tokens"]?.int == prompt.count + 30)
        }
    }

    @Test func streamedChatSendsRoleTextFinishUsageAndDone() async throws {
        try await withServer { client, _ in
            let whole = try await client.post("/v1/chat/completions", Body.chat("Hello", maxTokens: 20)).json()
            let stream = try await client.open("/v1/chat/completions", Body.chat("Hello", maxTokens: 20, extra: [
                "stream": true, "stream_options": ["include_usage": true],
            ]))
            #expect(stream.status == 200 && stream.headers["content-type"] == "text/event-stream")
            let events = try await stream.remainingEvents()
            #expect(events.last == "[DONE]")
            let chunks = try events.dropLast().map { try JSONValue(parsing: $0) }
            #expect(chunks.allSatisfy { $0["object"] == "chat.completion.chunk" && $0["id"] == chunks[0]["id"] })
            #expect(chunks[0]["choices"]?[0]?["delta"]?["role"] == "assistant")
            let textChunks = chunks.dropFirst().prefix { $0["choices"]?[0]?["finish_reason"] == .null }
            #expect(textChunks.count >= 2, "the text arrives in several chunks")
            let text = textChunks.map { $0["choices"]?[0]?["delta"]?["content"]?.string ?? "" }.joined()
            #expect(text == whole["choices"]?[0]?["message"]?["content"]?.string)
            let closing = chunks[chunks.count - 2]
            #expect(closing["choices"]?[0]?["finish_reason"] == "length")
            #expect(closing["choices"]?[0]?["delta"] == .object(JSONObject()))
            let usage = try #require(chunks.last)
            #expect(usage["choices"] == .array([]) && usage["usage"]?["completion_tokens"] == 20)
        }
    }

    @Test func completionContinuesTheTextGreedily() async throws {
        try await withServer { client, _ in
            let json = try await client.post("/v1/completions", Body.completion("Once upon a time", maxTokens: 40)).json()
            #expect(json["object"] == "text_completion" && json["id"]?.string?.hasPrefix("cmpl-") == true)
            let text = try #require(json["choices"]?[0]?["text"]?.string)
            #expect(text.count > 60)
            #expect(Self.greedyReference.hasPrefix("Once upon a time" + text))
            #expect(json["choices"]?[0]?["finish_reason"] == "length")
            #expect(json["usage"]?["completion_tokens"] == 40)

            // Streamed: the same text in chunks, then the finish reason and [DONE].
            let stream = try await client.open("/v1/completions", Body.completion("Once upon a time", maxTokens: 40, extra: ["stream": true]))
            let events = try await stream.remainingEvents()
            #expect(events.last == "[DONE]")
            let chunks = try events.dropLast().map { try JSONValue(parsing: $0) }
            #expect(chunks.allSatisfy { $0["object"] == "text_completion" })
            #expect(chunks.map { $0["choices"]?[0]?["text"]?.string ?? "" }.joined() == text)
            #expect(chunks.last?["choices"]?[0]?["finish_reason"] == "length")
            #expect(chunks.dropLast().allSatisfy { $0["choices"]?[0]?["finish_reason"] == .null })
        }
    }

    @Test func completionDefaultsToSixteenTokensAndTakesTokenIDs() async throws {
        try await withServer { client, _ in
            let byText = try await client.post("/v1/completions", ["prompt": "Once upon a time", "temperature": 0]).json()
            #expect(byText["usage"]?["completion_tokens"] == 16)
            let ids = SharedData.stories.tokenizer.encode("Once upon a time", options: EncodeOptions(parseSpecial: true))
            let byIDs = try await client.post("/v1/completions", [
                "prompt": .array(ids.map { .int($0) }), "temperature": 0,
            ]).json()
            #expect(byIDs["choices"]?[0]?["text"] == byText["choices"]?[0]?["text"])
            #expect(byIDs["usage"]?["prompt_tokens"]?.int == ids.count)
        }
    }

    @Test func stopStringEndsTheAnswerBeforeIt() async throws {
        try await withServer { client, _ in
            let json = try await client.post("/v1/completions", Body.completion("Once upon a time", maxTokens: 60, extra: [
                "stop": ["Lily", "nothing like this"],
            ])).json()
            #expect(json["choices"]?[0]?["text"] == ", there was a little girl named ")
            #expect(json["choices"]?[0]?["finish_reason"] == "stop")
        }
    }

    @Test func sameSeedSameAnswer() async throws {
        try await withServer { client, _ in
            func sample(seed: Int) async throws -> String? {
                try await client.post("/v1/chat/completions", Body.chat("A story about a dog", maxTokens: 30, extra: [
                    "temperature": 1.0, "top_p": 0.9, "seed": .int(seed), "presence_penalty": 0.5, "frequency_penalty": 0.5,
                ])).json()["choices"]?[0]?["message"]?["content"]?.string
            }
            let first = try await sample(seed: 7), again = try await sample(seed: 7)
            #expect(first != nil && first == again)
            var others: [String?] = []
            for seed in 8...10 { others.append(try await sample(seed: seed)) }
            #expect(others.contains { $0 != first }, "other seeds sample other answers")
        }
    }

    @Test func nextTurnReusesTheCachedConversation() async throws {
        try await withServer(ServerConfiguration(parallel: 1)) { client, _ in
            let first = try await client.post("/v1/chat/completions", Body.chat("Tell me a story", maxTokens: 20)).json()
            let answer = try #require(first["choices"]?[0]?["message"]?["content"]?.string)
            let firstPrompt = try #require(first["usage"]?["prompt_tokens"]?.int)
            #expect(first["usage"]?["prompt_tokens_details"]?["cached_tokens"] == 0)

            let second = try await client.post("/v1/chat/completions", Body.chat([
                ("user", "Tell me a story"), ("assistant", answer), ("user", "What happened next?"),
            ], maxTokens: 20)).json()
            let cached = try #require(second["usage"]?["prompt_tokens_details"]?["cached_tokens"]?.int)
            #expect(cached >= firstPrompt, "the first turn's prompt (and more) comes from the cache")
            #expect(second["usage"]?["prompt_tokens"]?.int ?? 0 > cached)
        }
    }

    @Test func renderedWithTheConfiguredTemplate() async throws {
        let file = try ChatTemplateFile.load(path: SharedData.path("tokenizers/qwen3/tokenizer_config.json"))
        let template = try ChatTemplate(source: try #require(file.template))
        let messages: [ChatMessage] = [.system("Be brief."), .user("Hi")]
        let expected = try ChatPrompt(model: SharedData.stories, template: template).tokens(for: messages)
        try await withServer(ServerConfiguration(chatTemplate: template)) { client, _ in
            let json = try await client.post("/v1/chat/completions", Body.chat([("system", "Be brief."), ("user", "Hi")], maxTokens: 4)).json()
            #expect(json["usage"]?["prompt_tokens"]?.int == expected.count)
        }
    }
}
