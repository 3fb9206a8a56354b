import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `infer serve` run as a user runs it: it starts, answers over HTTP, and stops cleanly on a signal.
@Suite(.enabled(if: InferBinary.sharedAvailable, "shared test data not found: set INFER_SHARED (default ../shared)"))
struct ServeCommandTests {
    static let model = InferBinary.shared("models/stories260K.gguf")

    /// Starts `infer serve` on a free port and returns it with the port from its startup line.
    static func startServer(_ extra: [String] = []) throws -> (RunningCommand, Int) {
        let server = try CommandRunner.start(InferBinary.url, ["serve", model, "--port", "0"] + extra)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let stderr = server.stderrSoFar
            if let range = stderr.range(of: "listening on http://127.0.0.1:") {
                let digits = stderr[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits), stderr[range.upperBound...].dropFirst(digits.count).first == "\n" {
                    return (server, port)
                }
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        server.send(SIGKILL)
        let result = try server.wait(timeout: 10)
        throw CommandFailedToStart(path: "infer serve", reason: "it did not report listening: \(result.stderr)")
    }

    /// One request over URLSession, as an ordinary client sends it.
    static func request(_ port: Int, _ path: String, json: String? = nil) throws -> (status: Int, body: String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.timeoutInterval = 60
        if let json {
            request.httpMethod = "POST"
            request.httpBody = Data(json.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        final class Outcome: @unchecked Sendable { var value: (Int, String)?; var error: (any Error)? }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            outcome.error = error
            outcome.value = ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data ?? Data(), as: UTF8.self))
            done.signal()
        }.resume()
        done.wait()
        if let error = outcome.error { throw error }
        return outcome.value!
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func answersThenExitsZeroOnSignal(_ signal: Int32) throws {
        let (server, port) = try Self.startServer(["--parallel", "1"])
        let health = try Self.request(port, "/health")
        #expect(health.status == 200 && health.body.contains("\"status\":\"ok\""))
        let models = try Self.request(port, "/v1/models")
        #expect(models.body.contains("\"id\":\"stories260K\""))
        let chat = try Self.request(port, "/v1/chat/completions",
                                    json: #"{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 8}"#)
        #expect(chat.status == 200 && chat.body.contains("\"chat.completion\""), "\(chat.body)")
        let bad = try Self.request(port, "/v1/chat/completions", json: #"{"messages": []}"#)
        #expect(bad.status == 400 && bad.body.contains("\"invalid_request_error\""))

        server.send(signal)
        let result = try server.wait(timeout: 30)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.hasSuffix("infer: stopped\n"))
    }

    @Test func signalEndsAnAnswerInProgressAndExitsZero() throws {
        let (server, port) = try Self.startServer(["--parallel", "1", "--ctx", "16384"])
        final class Answer: @unchecked Sendable { var value: (status: Int, body: String)? }
        let answer = Answer()
        let answered = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            answer.value = try? Self.request(port, "/v1/chat/completions",
                                             json: #"{"messages": [{"role": "user", "content": "A long story"}], "max_tokens": 16000}"#)
            answered.signal()
        }
        let deadline = Date().addingTimeInterval(30)
        while try !Self.request(port, "/health").body.contains("\"slots_processing\":1") && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        server.send(SIGTERM)
        #expect(answered.wait(timeout: .now() + 30) == .success)
        #expect(answer.value?.status == 200)
        #expect(answer.value?.body.contains("\"finish_reason\":\"length\"") == true, "\(answer.value?.body ?? "no answer")")
        let result = try server.wait(timeout: 30)
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test func badSettingsExitOne() throws {
        let parallel = try InferBinary.run(["serve", Self.model, "--parallel", "0"])
        #expect(parallel.status == 1 && parallel.stderr.contains("--parallel must be at least 1"))
        let missing = try InferBinary.run(["serve", "/no/model.gguf"])
        #expect(missing.status == 1 && missing.stderr.contains("/no/model.gguf"))
        for (flag, value, message) in [("--header-timeout", "0", "--header-timeout must be a positive number of seconds"),
                                       ("--idle-timeout", "nan", "--idle-timeout must be a positive number of seconds"),
                                       ("--max-connections", "0", "--max-connections must be at least 1"),
                                       ("--max-header-bytes", "100", "--max-header-bytes must be at least 1024")] {
            let result = try InferBinary.run(["serve", Self.model, flag, value])
            #expect(result.status == 1 && result.stderr.contains(message), "\(flag) \(value): \(result.stderr)")
        }
    }

    @Test func portInUseExitsOne() throws {
        let (server, port) = try Self.startServer()
        defer {
            server.send(SIGTERM)
            _ = try? server.wait(timeout: 30)
        }
        let second = try InferBinary.run(["serve", Self.model, "--port", String(port)])
        #expect(second.status == 1 && second.stderr.contains("error: http://127.0.0.1:\(port): cannot open: Address already in use"),
                "\(second.stderr)")
    }
}
