import Foundation
import InferKit
import InferServer
import Testing

/// response_format, grammars, tools, logprobs and logit_bias over real HTTP, and the 400s for
/// what cannot be honoured.
@Suite(.enabled(if: SharedData.available, SharedData.missingMessage))
struct StructuredOutputTests {
    static let schema: JSONValue = ["type": "object", "properties": ["name": ["type": "string", "maxLength": 10],
                                                                      "age": ["type": "integer", "minimum": 0, "maximum": 99]],
                                    "required": ["name", "age"]]

    static let weather: JSONValue = ["type": "function", "function": [
        "name": "get_weather", "description": "The weather in a city",
        "parameters": ["type": "object", "properties": ["city": ["type": "string", "maxLength": 20]], "required": ["city"]],
    ]]

    /// The members of every streamed chunk, joined: content, tool calls by index, finish reasons.
    static func joined(_ events: [String]) throws -> (content: String, calls: [Int: (id: String, name: String, arguments: String)], finish: [String]) {
        var content = "", finish: [String] = []
        var calls: [Int: (id: String, name: String, arguments: String)] = [:]
        for event in events where event != "[DONE]" {
            guard let choice = try JSONValue(parsing: event)["choices"]?[0] else { continue }
            content += choice["delta"]?["content"]?.string ?? ""
            for call in choice["delta"]?["tool_calls"]?.array ?? [] {
                let index = try #require(call["index"]?.int)
                var entry = calls[index] ?? ("", "", "")
                entry.id += call["id"]?.string ?? ""
                entry.name += call["function"]?["name"]?.string ?? ""
                entry.arguments += call["function"]?["arguments"]?.string ?? ""
                calls[index] = entry
            }
            if let reason = choice["finish_reason"]?.string { finish.append(reason) }
        }
        return (content, calls, finish)
    }

    @Test func responseFormatJSONSchema() async throws {
        try await withServer { client, _ in
            for seed in 1...3 {
                let body = Body.chat("Who are you?", maxTokens: 200, extra: [
                    "temperature": 1, "seed": .int(seed),
                    "response_format": ["type": "json_schema", "json_schema": ["name": "person", "strict": true, "schema": Self.schema]],
                ])
                let response = try await client.post("/v1/chat/completions", body)
                #expect(response.status == 200, "\(response.text)")
                let choice = try #require(try response.json()["choices"]?[0])
                let value = try JSONValue(parsing: try #require(choice["message"]?["content"]?.string))
                #expect(value["name"]?.string != nil && value["age"]?.int.map { (0...99).contains($0) } == true, "\(value)")
                #expect(choice["finish_reason"] == "stop")
            }
            let object = try await client.post("/v1/chat/completions", Body.chat("Hi", maxTokens: 300, extra: [
                "temperature": 1, "seed": 5, "response_format": ["type": "json_object"],
            ]))
            let text = try #require(try object.json()["choices"]?[0]?["message"]?["content"]?.string)
            #expect(try JSONValue(parsing: text).object != nil, "\(text)")
            // llama.cpp's grammar field, on text completions too.
            let grammar = try await client.post("/v1/completions", Body.completion("Once", maxTokens: 30, extra: [
                "grammar": ##"root ::= " upon a " ("time" | "day") ".""##,
            ]))
            let completion = try #require(try grammar.json()["choices"]?[0]?["text"]?.string)
            #expect(completion == " upon a time." || completion == " upon a day.", "\(completion)")
        }
    }

    @Test func requiredToolCallsWholeAndStreamed() async throws {
        try await withServer { client, _ in
            let body = Body.chat("What is the weather in Paris?", maxTokens: 100, extra: [
                "temperature": 1, "seed": 3, "tools": [Self.weather], "tool_choice": "required", "parallel_tool_calls": false,
            ])
            let response = try await client.post("/v1/chat/completions", body)
            #expect(response.status == 200, "\(response.text)")
            let choice = try #require(try response.json()["choices"]?[0])
            #expect(choice["finish_reason"] == "tool_calls")
            #expect(choice["message"]?["content"] == .null)
            let calls = try #require(choice["message"]?["tool_calls"]?.array)
            #expect(calls.count == 1)
            #expect(calls[0]["type"] == "function" && calls[0]["id"]?.string?.hasPrefix("call_") == true)
            #expect(calls[0]["function"]?["name"] == "get_weather")
            let arguments = try JSONValue(parsing: try #require(calls[0]["function"]?["arguments"]?.string))
            #expect(arguments["city"]?.string != nil)

            // Streamed: the same call, in OpenAI's pieces.
            var streamed = body.object!
            streamed["stream"] = true
            let stream = try await client.open("/v1/chat/completions", .object(streamed))
            let joined = try Self.joined(try await stream.remainingEvents())
            #expect(joined.content.isEmpty && joined.finish == ["tool_calls"])
            #expect(joined.calls.count == 1 && joined.calls[0]?.name == "get_weather")
            #expect(try JSONValue(parsing: joined.calls[0]?.arguments ?? "") == arguments, "the same seed gives the same call")

            // A named function; the call and its result round-trip through the template.
            let named = try await client.post("/v1/chat/completions", Body.chat("Weather?", maxTokens: 100, extra: [
                "tools": [Self.weather], "tool_choice": ["type": "function", "function": ["name": "get_weather"]],
            ]))
            #expect(try named.json()["choices"]?[0]?["message"]?["tool_calls"]?[0]?["function"]?["name"] == "get_weather")
            let followUp: JSONValue = [
                "messages": [["role": "user", "content": "What is the weather in Paris?"],
                             ["role": "assistant", "content": nil, "tool_calls": .array(calls)],
                             ["role": "tool", "tool_call_id": calls[0]["id"]!, "content": "21 C and sunny"]],
                "tools": [Self.weather], "max_tokens": 20, "temperature": 0,
            ]
            let final = try await client.post("/v1/chat/completions", followUp)
            #expect(final.status == 200, "\(final.text)")
            #expect(try final.json()["choices"]?[0]?["message"]?["content"]?.string != nil)
        }
    }

    @Test func logprobsWholeAndStreamed() async throws {
        try await withServer { client, _ in
            let response = try await client.post("/v1/chat/completions", Body.chat("Hello", maxTokens: 8, extra: [
                "logprobs": true, "top_logprobs": 3,
            ]))
            let choice = try #require(try response.json()["choices"]?[0])
            let entries = try #require(choice["logprobs"]?["content"]?.array)
            #expect(entries.count == 8)
            for entry in entries {
                let top = try #require(entry["top_logprobs"]?.array)
                let logprob: Double? = switch entry["logprob"] {
                case .double(let value)?: value
                case .int(let value)?: Double(value)
                default: nil
                }
                #expect(top.count == 3 && logprob.map { $0 <= 0 } == true)
                // Greedy: the chosen token is the most likely one.
                #expect(top[0]["token"] == entry["token"] && top[0]["bytes"] == entry["bytes"])
            }
            let text = entries.compactMap { $0["token"]?.string }.joined()
            #expect(text.trimmingCharacters(in: .whitespaces) == choice["message"]?["content"]?.string?.trimmingCharacters(in: .whitespaces))
            #expect(try (await client.post("/v1/chat/completions", Body.chat("Hello", maxTokens: 4))).json()["choices"]?[0]?["logprobs"] == .null)

            let stream = try await client.open("/v1/chat/completions", Body.chat("Hello", maxTokens: 8, extra: ["logprobs": true, "stream": true]))
            let events = try await stream.remainingEvents().filter { $0 != "[DONE]" }
            let streamed = try events.flatMap { try JSONValue(parsing: $0)["choices"]?[0]?["logprobs"]?["content"]?.array ?? [] }
            #expect(streamed.map { $0["token"] } == entries.map { $0["token"] })

            let completion = try await client.post("/v1/completions", Body.completion("Once upon a time", maxTokens: 6, extra: ["logprobs": 2]))
            let logprobs = try #require(try completion.json()["choices"]?[0]?["logprobs"])
            #expect(logprobs["tokens"]?.array?.count == 6 && logprobs["token_logprobs"]?.array?.count == 6)
            #expect(logprobs["top_logprobs"]?.array?.allSatisfy { ($0.object?.count ?? 0) >= 1 } == true)
            #expect(logprobs["text_offset"]?[0] == 0)
        }
    }

    @Test func logitBiasChangesTheAnswer() async throws {
        try await withServer { client, _ in
            let plain = try await client.post("/v1/completions", Body.completion("Once upon a time", maxTokens: 3, extra: ["logprobs": 0]))
            let first = try #require(try plain.json()["choices"]?[0]?["text"]?.string)
            // The ids with the first token's text (a byte token may have it too).
            let tokenizer = SharedData.stories.tokenizer
            let firstText = try #require(try plain.json()["choices"]?[0]?["logprobs"]?["tokens"]?[0]?.string)
            let ids = (0..<tokenizer.vocabularySize).filter { tokenizer.bytes(of: $0) == Array(firstText.utf8) }
            #expect(!ids.isEmpty)
            let banned = try await client.post("/v1/completions", Body.completion("Once upon a time", maxTokens: 3, extra: [
                "logit_bias": .object(JSONObject(ids.map { (String($0), JSONValue.int(-100)) })),
            ]))
            let other = try #require(try banned.json()["choices"]?[0]?["text"]?.string)
            #expect(other != first)
        }
    }

    /// Everything that cannot be honoured is a 400 naming the field.
    @Test func unsupportedAndInvalidFieldsAre400() async throws {
        try await withServer { client, _ in
            let chatCases: [(JSONValue, String)] = [
                (["response_format": ["type": "xml"]], "response_format.type"),
                (["response_format": ["type": "json_schema", "json_schema": ["name": "x", "schema": ["type": "integer", "multipleOf": 2]]]],
                 "response_format.json_schema.schema"),
                (["grammar": "root ::= (", ], "grammar"),
                (["grammar": "root ::= \"a\"", "response_format": ["type": "json_object"]], "grammar"),
                (["tools": "get_weather"], "tools"),
                (["tools": [["type": "function", "function": ["name": "bad name"]]]], "tools[0]"),
                (["tools": [["type": "function"]]], "tools[0]"),
                (["tools": [Self.weather], "tool_choice": "sometimes"], "tool_choice"),
                (["tools": [Self.weather], "tool_choice": ["type": "function", "function": ["name": "other"]]], "tool_choice"),
                (["tool_choice": "required"], "tool_choice"),
                (["tools": [Self.weather, Self.weather]], "tools"),
                (["tools": [Self.weather], "response_format": ["type": "json_object"]], "response_format"),
                (["tools": [["type": "function", "function": ["name": "f", "parameters": ["type": "object", "properties": ["a": ["not": [:]]]]]]],
                  "tool_choice": "required"], "tools"),
                (["logit_bias": ["abc": 1]], "logit_bias"),
                (["logit_bias": ["5": 101]], "logit_bias"),
                (["logit_bias": ["99999": 1]], "logit_bias"),
                (["top_logprobs": 2], "top_logprobs"),
                (["logprobs": true, "top_logprobs": 21], "top_logprobs"),
                (["n": 3], "n"),
                (["audio": ["voice": "alloy"]], "audio"),
                (["functions": [["name": "f"]]], "functions"),
                (["reasoning_effort": "high"], "reasoning_effort"),
                (["store": true], "store"),
                (["modalities": ["text", "audio"]], "modalities"),
                (["frobnicate": 1], "frobnicate"),
            ]
            for (extra, param) in chatCases {
                let response = try await client.post("/v1/chat/completions", Body.chat("Hi", extra: extra))
                #expect(response.status == 400, "\(extra.jsonText): \(response.text)")
                let error = try ErrorTests.error(response)
                #expect(error["param"]?.string == param, "\(extra.jsonText): \(response.text)")
            }
            // What the clients send by default stays accepted.
            let accepted = try await client.post("/v1/chat/completions", Body.chat("Hi", maxTokens: 2, extra: [
                "user": "u1", "store": false, "n": 1, "parallel_tool_calls": true, "response_format": ["type": "text"],
            ]))
            #expect(accepted.status == 200, "\(accepted.text)")
            let completionCases: [(JSONValue, String)] = [
                (["echo": true], "echo"), (["best_of": 3], "best_of"), (["suffix": "end"], "suffix"), (["logprobs": 6], "logprobs"),
                (["json_schema": ["type": "string", "format": "uri"]], "json_schema"),
            ]
            for (extra, param) in completionCases {
                let response = try await client.post("/v1/completions", Body.completion("Hi", extra: extra))
                #expect(response.status == 400, "\(extra.jsonText): \(response.text)")
                #expect(try ErrorTests.error(response)["param"]?.string == param, "\(response.text)")
            }
            // Messages naming keywords: the schema's, and the tool's.
            let schema = try await client.post("/v1/chat/completions", Body.chat("Hi", extra: [
                "response_format": ["type": "json_schema", "json_schema": ["name": "x", "schema": ["type": "integer", "multipleOf": 2]]],
            ]))
            #expect(try ErrorTests.error(schema)["message"]?.string?.contains("'multipleOf'") == true)
        }
    }
}
