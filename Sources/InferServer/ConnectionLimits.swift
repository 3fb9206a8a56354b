/// What one client connection may take of the server: how many may be open at once, how long
/// each may take to send a request and to read its answer, how long it may stay open idle,
/// and how large a request's headers may be. They bound what slow or hostile clients (a
/// slow-loris sending a byte a second, thousands of idle connections, a client that never
/// reads its answer) can hold, while a normal client never comes near them.
public struct ConnectionLimits: Sendable, Equatable {
    /// Connections open at once. Beyond it a new connection is answered at once with 503 and
    /// closed.
    public var maxConnections: Int
    /// Time from the first byte of a request to the end of its headers; then 408 and close.
    public var headerTimeout: Duration
    /// Time from the end of a request's headers to the end of its body; then 408 and close.
    public var bodyTimeout: Duration
    /// Time a connection may stay open without a request: before its first, and between an
    /// answer and the next request (HTTP keep-alive). Then it is closed.
    public var idleTimeout: Duration
    /// Time an answer may wait for the client to read it (the connection's send buffer full);
    /// then the connection is closed and the request's slot freed.
    public var writeTimeout: Duration
    /// Largest request head (request line and header fields), in bytes; larger ones get 400.
    public var maxHeaderBytes: Int
    /// Most header fields in a request; more get 400.
    public var maxHeaderCount: Int

    public init(maxConnections: Int = 512, headerTimeout: Duration = .seconds(10), bodyTimeout: Duration = .seconds(60),
                idleTimeout: Duration = .seconds(30), writeTimeout: Duration = .seconds(60),
                maxHeaderBytes: Int = 32 << 10, maxHeaderCount: Int = 100) {
        self.maxConnections = maxConnections
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.writeTimeout = writeTimeout
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
    }

    /// The first problem with these limits as a flag of `infer serve` would name it, or nil.
    func problem() -> String? {
        if maxConnections < 1 { return "--max-connections must be at least 1, not \(maxConnections)" }
        for (flag, value) in [("--header-timeout", headerTimeout), ("--body-timeout", bodyTimeout),
                              ("--idle-timeout", idleTimeout), ("--write-timeout", writeTimeout)] where value <= .zero {
            return "\(flag) must be positive, not \(value)"
        }
        if maxHeaderBytes < 1024 { return "--max-header-bytes must be at least 1024, not \(maxHeaderBytes)" }
        if maxHeaderCount < 1 { return "--max-headers must be at least 1, not \(maxHeaderCount)" }
        return nil
    }
}
