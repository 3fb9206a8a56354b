import Foundation
import InferKit
#if canImport(Glibc)
import Glibc
#endif

/// A response as the client read it.
struct HTTPResponse: Sendable {
    let status: Int
    /// Header names in lower case.
    let headers: [String: String]
    let body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    func json() throws -> JSONValue { try JSONValue(parsing: body) }
}

struct HTTPClientError: Error, CustomStringConvertible {
    let description: String
}

/// A deliberately small HTTP/1.1 client over a blocking loopback socket, so that tests control
/// every byte: malformed requests, a connection closed in the middle of a stream. Each request
/// opens its own connection. Its blocking calls run on threads of their own, never on Swift's
/// cooperative pool, which the in-process server needs to answer. Reads time out after
/// `timeout` seconds, so a server that hangs fails the test instead of stalling it.
struct HTTPClient: Sendable {
    let port: Int
    var timeout: Double = 60

    func get(_ path: String, headers: [String: String] = [:]) async throws -> HTTPResponse {
        try await send(method: "GET", path, body: nil, headers: headers)
    }

    func post(_ path: String, _ body: String, headers: [String: String] = [:]) async throws -> HTTPResponse {
        try await send(method: "POST", path, body: Array(body.utf8), headers: headers)
    }

    func post(_ path: String, _ body: JSONValue, headers: [String: String] = [:]) async throws -> HTTPResponse {
        try await post(path, body.jsonText, headers: headers)
    }

    func send(method: String, _ path: String, body: [UInt8]?, headers: [String: String] = [:]) async throws -> HTTPResponse {
        let request = Self.request(method: method, path, body: body, headers: headers)
        return try await offThread { [self] in
            let connection = try Connection(port: port, timeout: timeout)
            defer { connection.close() }
            try connection.write(request)
            return try connection.readResponse()
        }
    }

    /// Sends a request and returns as soon as the response head has arrived: the body is read
    /// as a stream, and the connection can be dropped at any point.
    func open(method: String = "POST", _ path: String, _ body: JSONValue, headers: [String: String] = [:]) async throws -> OpenResponse {
        let request = Self.request(method: method, path, body: Array(body.jsonText.utf8), headers: headers)
        return try await offThread { [self] in
            let connection = try Connection(port: port, timeout: timeout)
            do {
                try connection.write(request)
                let (status, headers) = try connection.readHead()
                connection.startBody(headers)
                return OpenResponse(connection: connection, status: status, headers: headers)
            } catch {
                connection.close()
                throw error
            }
        }
    }

    /// Sends a request and reads nothing: the returned connection can only be dropped.
    func sendWithoutReading(_ path: String, _ body: JSONValue) async throws -> Connection {
        let request = Self.request(method: "POST", path, body: Array(body.jsonText.utf8), headers: [:])
        return try await offThread { [self] in
            let connection = try Connection(port: port, timeout: timeout)
            try connection.write(request)
            return connection
        }
    }

    static func request(method: String, _ path: String, body: [UInt8]?, headers: [String: String]) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        return Array((head + "\r\n").utf8) + (body ?? [])
    }
}

/// A response whose body is read as it arrives.
final class OpenResponse: @unchecked Sendable {
    let status: Int
    let headers: [String: String]
    private let connection: Connection
    private var pending = ""
    private var ended = false

    init(connection: Connection, status: Int, headers: [String: String]) {
        self.connection = connection
        self.status = status
        self.headers = headers
    }

    /// The data of the next Server-Sent Event (the text after `data: `); nil at the end of the body.
    func nextEvent() async throws -> String? {
        try await offThread { [self] in
            while true {
                if let end = pending.range(of: "\n\n") {
                    let event = String(pending[..<end.lowerBound])
                    pending.removeSubrange(..<end.upperBound)
                    guard event.hasPrefix("data: ") else { throw HTTPClientError(description: "not an SSE data event: \(event)") }
                    return String(event.dropFirst("data: ".count))
                }
                if ended {
                    guard pending.isEmpty else { throw HTTPClientError(description: "body ends inside an event: \(pending)") }
                    return nil
                }
                if let chunk = try connection.readChunk() {
                    pending += String(decoding: chunk, as: UTF8.self)
                } else {
                    ended = true
                }
            }
        }
    }

    /// Every remaining event, up to the end of the body.
    func remainingEvents() async throws -> [String] {
        var events: [String] = []
        while let event = try await nextEvent() { events.append(event) }
        return events
    }

    /// Drops the connection (a client that leaves).
    func close() {
        connection.close()
    }

    deinit {
        connection.close()
    }
}

/// Runs blocking work on a thread of its own.
func offThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}

/// One blocking TCP connection to 127.0.0.1.
final class Connection: @unchecked Sendable {
    private var fd: Int32
    private var buffer: [UInt8] = []
    private let lock = NSLock()

    init(port: Int, timeout: Double) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HTTPClientError(description: "socket: \(String(cString: strerror(errno)))") }
        var time = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw HTTPClientError(description: "connect to port \(port): \(reason)")
        }
    }

    /// Closes the socket (a client that leaves): the server sees the connection end.
    func close() {
        lock.withLock {
            if fd >= 0 {
                shutdown(fd, Int32(SHUT_RDWR))
                Glibc.close(fd)
            }
            fd = -1
        }
    }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw HTTPClientError(description: "send: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    /// Reads more bytes into the buffer; false at the end of the stream.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw HTTPClientError(description: "recv: \(String(cString: strerror(errno)))") }
            buffer += chunk[0..<n]
            return n > 0
        }
    }

    private func readLine() throws -> String {
        while true {
            if let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeSubrange(...end)
                return line.hasSuffix("\r") ? String(line.dropLast()) : line
            }
            guard try fill() else { throw HTTPClientError(description: "connection closed before the end of a line") }
        }
    }

    private func readBytes(_ count: Int) throws -> [UInt8] {
        while buffer.count < count {
            guard try fill() else { throw HTTPClientError(description: "connection closed inside a body") }
        }
        defer { buffer.removeSubrange(..<count) }
        return Array(buffer[..<count])
    }

    func readHead() throws -> (status: Int, headers: [String: String]) {
        let statusLine = try readLine()
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw HTTPClientError(description: "bad status line: \(statusLine)")
        }
        var headers: [String: String] = [:]
        while true {
            let line = try readLine()
            if line.isEmpty { return (status, headers) }
            guard let colon = line.firstIndex(of: ":") else { throw HTTPClientError(description: "bad header: \(line)") }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
    }

    private var chunked = false
    private var remaining: Int?

    /// The next piece of a chunked body; nil after the last.
    func readChunk() throws -> [UInt8]? {
        guard chunked else {
            // Not chunked: the body is the rest (Content-Length), read at once.
            guard let count = remaining, count > 0 else { return nil }
            remaining = 0
            return try readBytes(count)
        }
        let sizeLine = try readLine()
        guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else {
            throw HTTPClientError(description: "bad chunk size: \(sizeLine)")
        }
        guard size > 0 else {
            while try !readLine().isEmpty {}  // trailers
            return nil
        }
        let data = try readBytes(size)
        _ = try readLine()
        return data
    }

    /// Everything the server sends until it closes the connection.
    func readToEnd() throws -> [UInt8] {
        while try fill() {}
        defer { buffer.removeAll() }
        return buffer
    }

    func readResponse() throws -> HTTPResponse {
        let (status, headers) = try readHead()
        startBody(headers)
        var body: [UInt8] = []
        while let chunk = try readChunk() { body += chunk }
        return HTTPResponse(status: status, headers: headers, body: body)
    }

    /// Prepares `readChunk` for the body of the head just read.
    func startBody(_ headers: [String: String]) {
        chunked = headers["transfer-encoding"]?.lowercased() == "chunked"
        remaining = headers["content-length"].flatMap { Int($0) } ?? 0
    }
}
