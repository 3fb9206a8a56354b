import Foundation
import InferKit
import InferServer
import Testing

/// The request bodies the request fuzz harness found the server mishandling, kept in
/// Tests/Fuzz/Regressions/fuzz-request/ (an endpoint byte, then the body, as the harness reads
/// them), sent to a real server: each must get an OpenAI error or an answer, never a 5xx.
@Suite(.enabled(if: SharedData.available, SharedData.missingMessage))
struct FuzzRegressionRequestTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/Regressions/fuzz-request").path

    /// The harness's requests name the model it serves, the default model.
    static let configuration = ServerConfiguration(modelID: "horatio-q8_0")

    /// The endpoint the harness sends an input to: chat for the first half of the byte's values
    /// (one per chat template: the model's and the built-in ones), text completion for the rest.
    static func endpoint(_ byte: UInt8) -> String {
        let templates = 1 + ChatTemplate.builtinNames.count
        return Int(byte) % (2 * templates) < templates ? "/v1/chat/completions" : "/v1/completions"
    }

    @Test func committedRequestsGetAnErrorOrAnAnswer() async throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.directory).sorted()
        #expect(!names.isEmpty)
        try await withServer(Self.configuration) { client, _ in
            for name in names {
                let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.directory + "/" + name)))
                let response = try await client.send(method: "POST", Self.endpoint(bytes.first ?? 0), body: Array(bytes.dropFirst()))
                #expect(response.status < 500, "\(name): \(response.status) \(response.text)")
            }
        }
    }

    @Test func aTopPThatIsZeroAsAFloatIsRefused() async throws {
        // The finding: "top_p": 0.91e-320 is a positive Double, so it passed the check for
        // "greater than 0", and became 0 as the sampler's Float.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.directory + "/top-p-positive-but-zero-as-float.json")))
        try await withServer(Self.configuration) { client, _ in
            let response = try await client.send(method: "POST", Self.endpoint(bytes[0]), body: Array(bytes.dropFirst()))
            #expect(response.status == 400, "\(response.text)")
            // The mangled finding is refused for its first unknown field; the same top_p in a
            // request that is otherwise valid is refused for itself.
            let clean = #"{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4, "top_p": 0.91e-320}"#
            let cleanResponse = try await client.send(method: "POST", "/v1/chat/completions", body: Array(clean.utf8))
            #expect(cleanResponse.status == 400, "\(cleanResponse.text)")
            #expect(try cleanResponse.json()["error"]?["param"] == "top_p", "\(cleanResponse.text)")
        }
    }
}
