import Foundation
import InferKit
import InferServer
import Testing

/// llama-server's slot save and restore (`--slot-save-path`, `POST /slots/{id}?action=...`): a
/// slot's state written to a file and read back, and every way the action can be wrong refused
/// with a 4xx naming the problem.
@Suite(.enabled(if: SharedData.available, SharedData.missingMessage))
struct SlotFileTests {
    static func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("infer-slot-files-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func configuration(_ directory: String?, parallel: Int = 2) -> ServerConfiguration {
        ServerConfiguration(parallel: parallel, contextLength: 512, slotSavePath: directory)
    }

    static func action(_ client: HTTPClient, _ id: String, _ action: String?, _ body: JSONValue? = nil) async throws -> HTTPResponse {
        let query = action.map { "?action=\($0)" } ?? ""
        return try await client.post("/slots/\(id)\(query)", body ?? [:])
    }

    @Test func saveEraseRestoreAndTheNextRequestReusesTheRestoredTokens() async throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withServer(Self.configuration(directory, parallel: 1)) { client, _ in
            let first = try await client.post("/v1/completions", Body.completion("Once upon a time, there was a cat", maxTokens: 20)).json()
            let held = (first["usage"]?["prompt_tokens"]?.int ?? 0) + (first["usage"]?["completion_tokens"]?.int ?? 0)
            let saved = try await Self.action(client, "0", "save", ["filename": "cat.bin"])
            #expect(saved.status == 200, "\(saved.body)")
            let s = try saved.json()
            #expect(s["id_slot"]?.int == 0 && s["filename"]?.string == "cat.bin")
            #expect(s["n_saved"]?.int == held, "the prompt and every token generated")
            #expect((s["n_written"]?.int ?? 0) > 0 && s["timings"]?["save_ms"] != nil)
            #expect(FileManager.default.fileExists(atPath: directory + "/cat.bin"))

            let erased = try await Self.action(client, "0", "erase").json()
            #expect(erased["n_erased"]?.int == held)
            // Erased: the same prompt finds nothing cached.
            let again = try await client.post("/v1/completions", Body.completion("Once upon a time, there was a cat", maxTokens: 1)).json()
            #expect((again["usage"]?["prompt_tokens_details"]?["cached_tokens"]?.int ?? 0) == 0)

            let restored = try await Self.action(client, "0", "restore", ["filename": "cat.bin"])
            #expect(restored.status == 200, "\(restored.body)")
            #expect(try restored.json()["n_restored"]?.int == held)
            // The conversation continues from the restored cache: its prompt is not computed again.
            let text = first["choices"]?[0]?["text"]?.string ?? ""
            let next = try await client.post("/v1/completions", Body.completion("Once upon a time, there was a cat" + text, maxTokens: 4)).json()
            #expect((next["usage"]?["prompt_tokens_details"]?["cached_tokens"]?.int ?? 0) >= held - 2)
        }
    }

    @Test func everyWrongActionIsRefusedByName() async throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Files the slots cannot take: garbage, a truncated file, another model's, another cache type's.
        try Data(String(repeating: "not a slot file. ", count: 10).utf8).write(to: URL(fileURLWithPath: directory + "/garbage.bin"))
        let model = SharedData.stories
        let session = try Session(model: model, contextLength: 64, cacheType: .f16)
        try session.append(model.tokenizer.encode("Once upon a time", options: EncodeOptions()))
        try session.save(to: directory + "/good.bin")
        let good = try Data(contentsOf: URL(fileURLWithPath: directory + "/good.bin"))
        try good.prefix(good.count / 2).write(to: URL(fileURLWithPath: directory + "/truncated.bin"))
        let other = try Model(path: SharedData.path("models/aidreams260K.bin"), tokenizerPath: SharedData.path("models/aidreams260K_tok512.bin"))
        let foreign = try Session(model: other, contextLength: 64)
        try foreign.append([1, 20, 30])
        try foreign.save(to: directory + "/foreign.bin")
        let f32 = try Session(model: model, contextLength: 64, cacheType: .f32)
        try f32.append([1, 20, 30])
        try f32.save(to: directory + "/f32.bin")

        try await withServer(Self.configuration(directory)) { client, _ in
            let cases: [(id: String, action: String?, body: JSONValue?, status: Int, says: String)] = [
                ("0", "restore", ["filename": "missing.bin"], 404, "There is no slot file 'missing.bin'"),
                ("0", "restore", ["filename": "garbage.bin"], 400, "not an infer prompt cache"),
                ("0", "restore", ["filename": "truncated.bin"], 400, "truncated"),
                ("0", "restore", ["filename": "foreign.bin"], 400, "another model"),
                ("0", "restore", ["filename": "f32.bin"], 400, "its KV cache is f32"),
                ("7", "save", ["filename": "x.bin"], 404, "There is no slot 7"),
                ("abc", "save", ["filename": "x.bin"], 404, "There is no slot 'abc'"),
                ("-1", "save", ["filename": "x.bin"], 404, "There is no slot -1"),
                ("0", nil, ["filename": "x.bin"], 400, "'action'"),
                ("0", "load", ["filename": "x.bin"], 400, "'load' is not one of save, restore, erase"),
                ("0", "save", nil, 400, "'filename'"),
                ("0", "save", ["filename": "../escape.bin"], 400, "not a plain file name"),
                ("0", "save", ["filename": "a/b.bin"], 400, "not a plain file name"),
                ("0", "save", ["filename": ".hidden"], 400, "starts with a dot"),
                ("0", "save", ["filename": ""], 400, "empty"),
                ("0", "save", ["filename": "x\ny"], 400, "control characters"),
                ("0", "save", ["filename": 3], 400, "expected a string"),
                ("0", "save", ["filename": "x.bin", "overwrite": true], 400, "Unknown field 'overwrite'"),
                ("0", "erase", ["filename": "x.bin"], 400, "erase takes no file name"),
            ]
            for c in cases {
                let response = try await Self.action(client, c.id, c.action, c.body)
                #expect(response.status == c.status, "\(c): \(response.body)")
                let message = try response.json()["error"]?["message"]?.string ?? ""
                #expect(message.contains(c.says), "\(c): \(message)")
            }
            #expect(!FileManager.default.fileExists(atPath: directory + "/../escape.bin"))
            // The good file restores, into a slot with the server's cache type.
            #expect(try await Self.action(client, "1", "restore", ["filename": "good.bin"]).status == 200)
        }
    }

    @Test func aBusySlotIsRefused() async throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withServer(ServerConfiguration(parallel: 1, contextLength: 16384, slotSavePath: directory)) { client, _ in
            let stream = try await client.open("/v1/chat/completions", Body.chat("Tell me a long story", maxTokens: 16000, extra: ["stream": true]))
            _ = try await stream.nextEvent()
            let busy = try await Self.action(client, "0", "save", ["filename": "busy.bin"])
            #expect(busy.status == 409)
            #expect(try busy.json()["error"]?["message"]?.string?.contains("answering a request") == true)
            stream.close()
            try await waitForHealth(client) { processing, _ in processing == 0 }
            #expect(try await Self.action(client, "0", "save", ["filename": "busy.bin"]).status == 200)
        }
    }

    @Test func slotActionsAreOffWithoutADirectory() async throws {
        try await withServer(Self.configuration(nil)) { client, _ in
            let response = try await Self.action(client, "0", "save", ["filename": "x.bin"])
            #expect(response.status == 501)
            #expect(try response.json()["error"]?["message"]?.string?.contains("--slot-save-path") == true)
        }
        #expect(throws: InferError.self) {
            try InferServer(model: SharedData.stories, configuration: ServerConfiguration(slotSavePath: "/nonexistent/slots"))
        }
    }
}
