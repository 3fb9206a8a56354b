import NIOCore
import NIOEmbedded
import Testing
@testable import InferServer

/// The deadlines of one connection, on an embedded channel whose clock the tests move: each
/// phase of a request has its own, activity does not push it back, and an answer being made
/// has none.
struct ConnectionDeadlinesTests {
    static let limits = ConnectionLimits(headerTimeout: .seconds(10), bodyTimeout: .seconds(60), idleTimeout: .seconds(30),
                                         writeTimeout: .seconds(45))

    /// An open connection with the deadlines first in its pipeline.
    static func connection() throws -> (EmbeddedChannel, ConnectionDeadlines) {
        let deadlines = ConnectionDeadlines(limits: limits)
        let channel = EmbeddedChannel(handler: deadlines)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        return (channel, deadlines)
    }

    /// Bytes from the client.
    static func receive(_ channel: EmbeddedChannel, _ text: String = "x") throws {
        try channel.writeInbound(ByteBuffer(string: text))
        _ = try channel.readInbound(as: ByteBuffer.self)
    }

    /// What the server wrote to the client, as text.
    static func sent(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    @Test func anIdleConnectionClosesAtTheIdleTimeout() throws {
        let (channel, _) = try Self.connection()
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
        #expect(try Self.sent(channel).isEmpty, "an idle connection is closed without an answer")
    }

    @Test func headersGet408AtTheHeaderTimeoutHoweverOftenBytesArrive() throws {
        let (channel, deadlines) = try Self.connection()
        for _ in 0..<9 {
            try Self.receive(channel)
            #expect(deadlines.phase == .readingHead)
            channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        }
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1100))
        let sent = try Self.sent(channel)
        #expect(sent.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(sent)")
        #expect(sent.contains("Connection: close") && sent.contains("\"code\":\"request_timeout\""), "\(sent)")
        Self.expectLingeringClose(channel, deadlines)
    }

    /// After a 408: what the client still sends is dropped, and the connection closes when the
    /// client closes its side, or after the linger.
    static func expectLingeringClose(_ channel: EmbeddedChannel, _ deadlines: ConnectionDeadlines) {
        #expect(deadlines.draining)
        if channel.isActive {
            #expect((try? channel.writeInbound(ByteBuffer(string: "more"))) != nil)
            #expect((try? channel.readInbound(as: ByteBuffer.self)) == nil, "bytes after the 408 are dropped")
            channel.embeddedEventLoop.advanceTime(by: .seconds(3))
        }
        #expect(!channel.isActive)
    }

    @Test func aClientClosingAfterThe408EndsTheLinger() throws {
        let (channel, deadlines) = try Self.connection()
        try Self.receive(channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(11))
        #expect(try Self.sent(channel).hasPrefix("HTTP/1.1 408 "))
        if channel.isActive {
            channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            #expect(!channel.isActive)
        }
        _ = deadlines
    }

    @Test func aBodyGets408AtTheBodyTimeout() throws {
        let (channel, deadlines) = try Self.connection()
        try Self.receive(channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        deadlines.headReceived()
        // The body deadline runs from the head: the header phase's 10 s no longer apply.
        channel.embeddedEventLoop.advanceTime(by: .seconds(59))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(try Self.sent(channel).hasPrefix("HTTP/1.1 408 "))
        Self.expectLingeringClose(channel, deadlines)
    }

    @Test func aBodyTooSlowAfterAnEarlyAnswerClosesWithoutASecondAnswer() throws {
        let (channel, deadlines) = try Self.connection()
        try Self.receive(channel)
        deadlines.headReceived()
        deadlines.answerStarted()  // say, 413 before the body arrived
        deadlines.answerEnded()
        #expect(deadlines.phase == .readingBody)
        channel.embeddedEventLoop.advanceTime(by: .seconds(61))
        #expect(try Self.sent(channel).isEmpty)
        #expect(!channel.isActive)
    }

    @Test func anAnswerBeingMadeHasNoDeadlineThenTheIdleOneStarts() throws {
        let (channel, deadlines) = try Self.connection()
        try Self.receive(channel)
        deadlines.headReceived()
        deadlines.bodyReceived()
        #expect(deadlines.phase == .answering)
        channel.embeddedEventLoop.advanceTime(by: .seconds(3600))
        #expect(channel.isActive, "a long answer (or a long wait for a slot) is not the client's doing")
        deadlines.answerStarted()
        deadlines.answerEnded()
        #expect(deadlines.phase == .idle)
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(channel.isActive)
        try Self.receive(channel, "GET /health")
        #expect(deadlines.phase == .readingHead, "the next request's first bytes start its header deadline")
        channel.embeddedEventLoop.advanceTime(by: .seconds(11))
        Self.expectLingeringClose(channel, deadlines)
    }

    @Test func aRequestSentDuringAnAnswerIsHeldToTheHeaderDeadline() throws {
        let (channel, deadlines) = try Self.connection()
        try Self.receive(channel)
        deadlines.headReceived()
        deadlines.bodyReceived()
        try Self.receive(channel, "GET /he")  // pipelined: the next request begins
        channel.embeddedEventLoop.advanceTime(by: .seconds(100))
        deadlines.answerEnded()
        #expect(deadlines.phase == .readingHead)
        channel.embeddedEventLoop.advanceTime(by: .seconds(11))
        #expect(try Self.sent(channel).hasPrefix("HTTP/1.1 408 "))
        Self.expectLingeringClose(channel, deadlines)
    }

    @Test func aClientThatDoesNotReadIsClosedAtTheWriteTimeout() throws {
        let (channel, deadlines) = try Self.connection()
        try Self.receive(channel)
        deadlines.headReceived()
        deadlines.bodyReceived()
        // The send buffer fills, empties before the deadline, fills again and stays full.
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        channel.embeddedEventLoop.advanceTime(by: .seconds(40))
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        channel.embeddedEventLoop.advanceTime(by: .seconds(40))
        #expect(channel.isActive)
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        channel.embeddedEventLoop.advanceTime(by: .seconds(44))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
    }

    @Test func aRefusedConnectionGets503AndDropsWhatTheClientSends() throws {
        let channel = EmbeddedChannel(handler: RefusedConnection(response: RawResponse.tooManyConnections(limit: 2)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        let sent = try Self.sent(channel)
        #expect(sent.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n") && sent.contains("Retry-After: 1\r\n"), "\(sent)")
        #expect(sent.contains("Connection: close\r\n") && sent.contains("\"code\":\"too_many_connections\""), "\(sent)")
        if channel.isActive {
            try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"))
            #expect(try channel.readInbound(as: ByteBuffer.self) == nil, "what the client sends is dropped")
            channel.embeddedEventLoop.advanceTime(by: .seconds(3))
        }
        #expect(!channel.isActive)
    }

    @Test func openConnectionsAreCountedUpToTheLimit() {
        let open = OpenConnections()
        #expect(open.admit(limit: 2) && open.admit(limit: 2))
        #expect(!open.admit(limit: 2))
        open.release()
        #expect(open.admit(limit: 2))
        #expect(open.current == 2)
    }
}
