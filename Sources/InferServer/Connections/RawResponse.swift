import NIOCore

/// A whole HTTP/1.1 response written as bytes straight to a connection's socket, for the
/// answers the server gives outside any request's handling: a connection refused for being
/// one too many, a request that took too long to arrive. Its body is an OpenAI error, and the
/// connection closes after it.
enum RawResponse {
    static func closing(_ error: APIError) -> ByteBuffer {
        let body = JSONCoding.encode(error.body)
        var head = "HTTP/1.1 \(error.status.code) \(error.status.reasonPhrase)\r\n"
        head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        if let retryAfter = error.retryAfter { head += "Retry-After: \(retryAfter)\r\n" }
        var buffer = ByteBuffer(string: head + "\r\n")
        buffer.writeBytes(body)
        return buffer
    }

    /// 503 for a connection beyond `--max-connections`.
    static func tooManyConnections(limit: Int) -> ByteBuffer {
        closing(APIError(status: .serviceUnavailable,
                         message: "The server has \(limit) connections open, its limit (--max-connections). Try again shortly.",
                         type: "server_error", code: "too_many_connections", retryAfter: 1))
    }

    /// 408 for a request whose headers or body did not arrive in time.
    static func requestTimeout(_ what: String, limit: Duration) -> ByteBuffer {
        closing(APIError(status: .requestTimeout,
                         message: "The request's \(what) did not arrive within \(limit.seconds) seconds.",
                         type: "invalid_request_error", code: "request_timeout"))
    }
}

extension Duration {
    /// Whole and fractional seconds as a user reads them ("10", "0.5").
    var seconds: String {
        let value = Double(components.seconds) + Double(components.attoseconds) / 1e18
        return value == value.rounded() ? String(Int(value)) : String(value)
    }
}
