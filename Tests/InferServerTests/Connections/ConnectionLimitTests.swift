import Foundation
import InferKit
import InferServer
import Testing

/// The connection limits over real sockets: a slow-loris is cut off at the header deadline, a
/// stalled body at the body deadline, idle connections are closed, connections beyond the limit
/// are refused with 503, oversized heads get 400, and the server goes on serving throughout.
@Suite(.enabled(if: SharedData.available, SharedData.missingMessage))
struct ConnectionLimitTests {
    static let quick = ConnectionLimits(maxConnections: 64, headerTimeout: .milliseconds(600), bodyTimeout: .milliseconds(600),
                                        idleTimeout: .milliseconds(800), maxHeaderBytes: 4096, maxHeaderCount: 20)

    static func configuration(_ limits: ConnectionLimits = quick) -> ServerConfiguration {
        ServerConfiguration(connections: limits)
    }

    /// Parses what a connection received as one response followed by the close.
    static func response(_ bytes: [UInt8]) -> (status: Int, text: String) {
        let text = String(decoding: bytes, as: UTF8.self)
        let status = text.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
        return (status, text)
    }

    @Test func aSlowLorisGets408AtTheHeaderDeadlineThoughItKeepsSending() async throws {
        try await withServer(Self.configuration()) { client, _ in
            let start = ContinuousClock.now
            let received = try await offThread {
                let connection = try Connection(port: client.port, timeout: 10)
                defer { connection.close() }
                try connection.write(Array("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".utf8))
                // A byte every 50 ms from another thread while this one waits for the answer.
                Thread.detachNewThread {
                    for _ in 0..<100 {
                        guard (try? connection.write([UInt8(ascii: "a")])) != nil else { return }
                        usleep(50_000)
                    }
                }
                return try connection.readToEnd()
            }
            let elapsed = ContinuousClock.now - start
            let (status, text) = Self.response(received)
            #expect(status == 408, "\(text)")
            #expect(text.contains("\"code\":\"request_timeout\""), "\(text)")
            #expect(elapsed >= .milliseconds(550) && elapsed < .seconds(4), "\(elapsed)")
            #expect(try await client.get("/health").status == 200)
        }
    }

    @Test func aBodyThatStopsGets408AtTheBodyDeadline() async throws {
        try await withServer(Self.configuration()) { client, _ in
            let received = try await offThread {
                let connection = try Connection(port: client.port, timeout: 10)
                defer { connection.close() }
                let head = "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                try connection.write(Array((head + "{\"prompt\": ").utf8))
                return try connection.readToEnd()
            }
            let (status, text) = Self.response(received)
            #expect(status == 408 && text.contains("request's body"), "\(text)")
        }
    }

    @Test func idleConnectionsAreClosedAndKeepAliveStillServes() async throws {
        try await withServer(Self.configuration()) { client, _ in
            // A connection that never sends anything.
            let silent = try await offThread {
                let connection = try Connection(port: client.port, timeout: 10)
                defer { connection.close() }
                let start = ContinuousClock.now
                let bytes = try connection.readToEnd()
                return (bytes, ContinuousClock.now - start)
            }
            #expect(silent.0.isEmpty && silent.1 >= .milliseconds(700) && silent.1 < .seconds(4), "\(silent)")
            // Two requests on one connection, then silence until the idle deadline.
            let statuses = try await offThread {
                let connection = try Connection(port: client.port, timeout: 10)
                defer { connection.close() }
                var statuses: [Int] = []
                for _ in 0..<2 {
                    try connection.write(HTTPClient.request(method: "GET", "/health", body: nil, headers: [:]))
                    statuses.append(try connection.readResponse().status)
                }
                statuses.append(try connection.readToEnd().count)
                return statuses
            }
            #expect(statuses == [200, 200, 0])
        }
    }

    @Test func connectionsBeyondTheLimitGet503AndTheServerRecovers() async throws {
        var limits = Self.quick
        limits.maxConnections = 3
        limits.idleTimeout = .seconds(30)
        try await withServer(Self.configuration(limits)) { client, _ in
            let held = try await offThread { try (0..<3).map { _ in try Connection(port: client.port, timeout: 10) } }
            // Let the server accept all three before the fourth arrives.
            try await Task.sleep(for: .milliseconds(200))
            let refused = try await offThread {
                let connection = try Connection(port: client.port, timeout: 10)
                defer { connection.close() }
                try connection.write(HTTPClient.request(method: "GET", "/health", body: nil, headers: [:]))
                return try connection.readToEnd()
            }
            let (status, text) = Self.response(refused)
            #expect(status == 503, "\(text)")
            #expect(text.contains("Retry-After: 1") && text.contains("\"code\":\"too_many_connections\""), "\(text)")
            // One held connection leaves: a new one is served again.
            held[0].close()
            let deadline = ContinuousClock.now + .seconds(5)
            var answered = false
            while !answered && ContinuousClock.now < deadline {
                answered = (try? await client.get("/health").status) == 200
                if !answered { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(answered)
            for connection in held { connection.close() }
        }
    }

    @Test func headsTooLargeOrWithTooManyFieldsGet400() async throws {
        // The default deadlines: under a sanitizer on a busy machine, reading an 8 KB head can
        // take longer than the short ones.
        try await withServer(Self.configuration(ConnectionLimits(maxHeaderBytes: 4096, maxHeaderCount: 20))) { client, _ in
            let many = Dictionary(uniqueKeysWithValues: (0..<40).map { ("X-Field-\($0)", "v") })
            let large = ["X-Large": String(repeating: "a", count: 8000)]
            let longPath = "/health?" + String(repeating: "q", count: 8000)
            for (path, headers) in [("/health", many), ("/health", large), (longPath, [:])] {
                let response = try await client.get(path, headers: headers)
                #expect(response.status == 400, "\(headers.count) fields, path of \(path.count)")
            }
            #expect(try await client.get("/health").status == 200)
        }
    }

    @Test func limitsOutOfRangeAreRefused() throws {
        let bad: [ConnectionLimits] = [
            ConnectionLimits(maxConnections: 0), ConnectionLimits(headerTimeout: .zero),
            ConnectionLimits(idleTimeout: .seconds(-1)), ConnectionLimits(maxHeaderBytes: 10), ConnectionLimits(maxHeaderCount: 0),
        ]
        for limits in bad {
            #expect(throws: InferError.self) { try InferServer(model: SharedData.stories, configuration: Self.configuration(limits)) }
        }
    }
}
