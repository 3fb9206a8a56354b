import Foundation
import InferKit
import InferServer
import Testing

/// Bad requests get OpenAI's error shape and the right status; none crashes the server or
/// leaves a connection hanging.
@Suite(.enabled(if: SharedData.available, SharedData.missingMessage))
struct ErrorTests {
    /// The error object of a response, checked for OpenAI's four members.
    static func error(_ response: HTTPResponse) throws -> JSONValue {
        let json = try response.json()
        let error = try #require(json["error"])
        #expect(error.object?.keys.sorted() == ["code", "message", "param", "type"], "\(response.text)")
        #expect(error["message"]?.string?.isEmpty == false)
        #expect(response.headers["content-type"] == "application/json")
        return error
    }

    @Test func malformedJSONAndWrongTypesAre400() async throws {
        try await withServer { client, _ in
            let cases: [(body: String, param: JSONValue)] = [
                ("{\"messages\": [", .null),
                ("[1, 2]", .null),
                ("{\"messages\": \"hello\"}", "messages"),
                ("{\"messages\": [\"hello\"]}", "messages[0]"),
                ("{\"messages\": [{\"content\": \"hi\"}]}", "messages[0].role"),
                ("{\"messages\": [{\"role\": \"user\", \"content\": 5}]}", "messages[0].content"),
                ("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\"}]}]}", "messages[0].content[0].type"),
                ("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": \"hot\"}", "temperature"),
                ("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": 3}", "temperature"),
                ("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": -1}", "max_tokens"),
                ("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 1.5}", "max_tokens"),
                ("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stream\": \"yes\"}", "stream"),
                ("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stop\": [1]}", "stop"),
                ("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stop\": \"\"}", "stop"),
                ("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"n\": 2}", "n"),
                ("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"top_p\": 0}", "top_p"),
                // Positive, but 0 as the sampler's Float (found by the request fuzz harness).
                ("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"top_p\": 1e-320}", "top_p"),
                ("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"repeat_penalty\": 1e-320}", "repeat_penalty"),
                ("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"seed\": \"x\"}", "seed"),
                ("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stream_options\": {\"include_usage\": 1}}",
                 "stream_options.include_usage"),
                ("{\"messages\": []}", "messages"),
                ("{}", "messages"),
            ]
            for (body, param) in cases {
                let response = try await client.post("/v1/chat/completions", body)
                #expect(response.status == 400, "\(body)")
                let error = try Self.error(response)
                #expect(error["type"] == "invalid_request_error" && error["param"] == param, "\(body): \(response.text)")
            }
            let prompts: [String] = ["{}", "{\"prompt\": 5}", "{\"prompt\": [\"a\", \"b\"]}", "{\"prompt\": [99999]}",
                                     "{\"prompt\": \"hi\", \"frequency_penalty\": 9}"]
            for body in prompts {
                let response = try await client.post("/v1/completions", body)
                #expect(response.status == 400, "\(body)")
                _ = try Self.error(response)
            }
            // Invalid UTF-8 inside a string.
            let bytes = Array("{\"prompt\": \"".utf8) + [0xFF, 0xFE] + Array("\"}".utf8)
            let invalid = try await client.send(method: "POST", "/v1/completions", body: bytes)
            #expect(invalid.status == 400)
            // The server still answers.
            #expect(try await client.post("/v1/completions", Body.completion("Hi", maxTokens: 2)).status == 200)
        }
    }

    @Test func unknownModelEmptyMessagesAndLongPrompts() async throws {
        try await withServer(ServerConfiguration(contextLength: 64)) { client, _ in
            let unknown = try await client.post("/v1/chat/completions", Body.chat("Hi", extra: ["model": "gpt-4o"]))
            #expect(unknown.status == 400)
            let error = try Self.error(unknown)
            #expect(error["code"] == "model_not_found" && error["param"] == "model")

            let long = String(repeating: "word ", count: 100)
            for (path, body) in [("/v1/chat/completions", Body.chat(long)), ("/v1/completions", Body.completion(long))] {
                let response = try await client.post(path, body)
                #expect(response.status == 400)
                let error = try Self.error(response)
                #expect(error["code"] == "context_length_exceeded", "\(response.text)")
                #expect(error["message"]?.string?.contains("64 tokens") == true)
            }
        }
    }

    @Test func unknownRoutesAndMethodsAre4xx() async throws {
        try await withServer { client, _ in
            let missing = try await client.get("/v1/nothing")
            #expect(missing.status == 404)
            #expect(try Self.error(missing)["message"]?.string?.contains("/v1/nothing") == true)
            let wrongMethod = try await client.get("/v1/chat/completions")
            #expect((400..<500).contains(wrongMethod.status))
            _ = try Self.error(wrongMethod)
        }
    }

    @Test func oversizedBodyIsRefused() async throws {
        try await withServer(ServerConfiguration(maxBodyBytes: 1000)) { client, _ in
            let big = Body.chat(String(repeating: "x", count: 5000))
            let response = try await client.post("/v1/chat/completions", big)
            #expect(response.status == 413)
            #expect(try Self.error(response)["message"]?.string?.contains("1000 bytes") == true)
            #expect(try await client.post("/v1/chat/completions", Body.chat("Hi", maxTokens: 2)).status == 200)
        }
    }

    @Test func apiKeyIsRequiredWhenSet() async throws {
        try await withServer(ServerConfiguration(apiKey: "sesame")) { client, _ in
            for headers in [[:], ["Authorization": "Bearer wrong"], ["Authorization": "sesame"], ["Authorization": "Bearer sesame2"]] {
                let response = try await client.post("/v1/chat/completions", Body.chat("Hi", maxTokens: 2), headers: headers)
                #expect(response.status == 401, "\(headers)")
                #expect(try Self.error(response)["code"] == "invalid_api_key")
                #expect(try await client.get("/v1/models", headers: headers).status == 401)
            }
            let authorized = ["Authorization": "Bearer sesame"]
            #expect(try await client.post("/v1/chat/completions", Body.chat("Hi", maxTokens: 2), headers: authorized).status == 200)
            #expect(try await client.get("/v1/models", headers: authorized).status == 200)
            #expect(try await client.get("/health").status == 200, "health needs no key")
        }
    }

    @Test func templateRefusalIs400WithItsMessage() async throws {
        let source = try String(contentsOfFile: SharedData.path("templates/google-gemma-2-2b-it.jinja"), encoding: .utf8)
        try await withServer(ServerConfiguration(chatTemplate: try ChatTemplate(source: source))) { client, _ in
            let response = try await client.post("/v1/chat/completions", Body.chat([("system", "Be brief."), ("user", "Hi")]))
            #expect(response.status == 400)
            let error = try Self.error(response)
            #expect(error["message"]?.string?.contains("System role not supported") == true, "\(response.text)")
            #expect(error["param"] == "messages")
            #expect(try await client.post("/v1/chat/completions", Body.chat("Hi", maxTokens: 2)).status == 200)
        }
    }

    @Test func badConfigurationIsRefused() throws {
        #expect(throws: InferError.self) { try InferServer(model: SharedData.stories, configuration: ServerConfiguration(parallel: 0)) }
        #expect(throws: InferError.self) { try InferServer(model: SharedData.stories, configuration: ServerConfiguration(queueLimit: -1)) }
        #expect(throws: InferError.self) { try InferServer(model: SharedData.stories, configuration: ServerConfiguration(apiKey: "")) }
    }
}
