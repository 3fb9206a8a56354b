import Foundation
import InferKit
import InferServer
import Logging
import ServiceLifecycle
import Testing

/// The shared test data (`INFER_SHARED`, default `../shared` beside the repository); the
/// suites are disabled with a message where it is absent.
enum SharedData {
    static let root: String = {
        if let path = ProcessInfo.processInfo.environment["INFER_SHARED"], !path.isEmpty { return path }
        // Tests/InferServerTests/Support/TestServer.swift → repository root → ../shared
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repository.deletingLastPathComponent().appendingPathComponent("shared").path
    }()

    static var available: Bool { FileManager.default.fileExists(atPath: root + "/models/stories260K.gguf") }

    static let missingMessage: Comment = "shared test data not found: set INFER_SHARED (default ../shared)"

    static func path(_ relative: String) -> String { root + "/" + relative }

    /// stories260K: a real Llama model small enough to generate thousands of tokens a second.
    /// It has no chat template, so chat requests use the built-in plain transcript.
    static let stories: Model = try! Model(path: path("models/stories260K.gguf"))
}

/// Runs an `InferServer` in this process on a free loopback port for the length of `body`,
/// which talks to it over real HTTP; then shuts it down gracefully, as SIGTERM would, and
/// waits for it to stop.
func withServer<T: Sendable>(_ configuration: ServerConfiguration = ServerConfiguration(),
                             model: Model = SharedData.stories,
                             _ body: @Sendable (HTTPClient, ServerHandle) async throws -> T) async throws -> T {
    var configuration = configuration
    configuration.host = "127.0.0.1"
    configuration.port = 0
    let (ports, listening) = AsyncStream.makeStream(of: Int.self)
    let server = try InferServer(model: model, configuration: configuration) { listening.yield($0) }
    let group = ServiceGroup(configuration: .init(services: [server], logger: Logger(label: "test")))
    let handle = ServerHandle(group: group)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw HTTPClientError(description: "the server did not start") }
        do {
            let result = try await body(HTTPClient(port: port), handle)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}

/// Lets a test shut its server down itself.
struct ServerHandle: Sendable {
    let group: ServiceGroup

    func shutDownGracefully() async {
        await group.triggerGracefulShutdown()
    }
}

/// Request bodies.
enum Body {
    static func chat(_ messages: [(role: String, content: String)], maxTokens: Int = 24, extra: JSONValue = [:]) -> JSONValue {
        var object = JSONObject([
            ("messages", .array(messages.map { ["role": .string($0.role), "content": .string($0.content)] })),
            ("max_tokens", .int(maxTokens)),
            ("temperature", 0),
        ])
        for (key, value) in extra.object ?? JSONObject() { object[key] = value }
        return .object(object)
    }

    static func chat(_ text: String, maxTokens: Int = 24, extra: JSONValue = [:]) -> JSONValue {
        chat([("user", text)], maxTokens: maxTokens, extra: extra)
    }

    static func completion(_ prompt: String, maxTokens: Int = 24, extra: JSONValue = [:]) -> JSONValue {
        var object = JSONObject([("prompt", .string(prompt)), ("max_tokens", .int(maxTokens)), ("temperature", 0)])
        for (key, value) in extra.object ?? JSONObject() { object[key] = value }
        return .object(object)
    }
}

/// Polls /health until `condition` holds for its counts; fails after `seconds`.
func waitForHealth(_ client: HTTPClient, within seconds: Double = 10,
                   _ condition: (_ processing: Int, _ waiting: Int) -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while true {
        let health = try await client.get("/health").json()
        let processing = health["slots_processing"]?.int ?? -1, waiting = health["requests_waiting"]?.int ?? -1
        if condition(processing, waiting) { return }
        guard ContinuousClock.now < deadline else {
            throw HTTPClientError(description: "health did not reach the expected state in \(seconds) s: \(processing) processing, \(waiting) waiting")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}
