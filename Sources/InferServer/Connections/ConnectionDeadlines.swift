import NIOCore

/// Closes a connection whose client takes too long: to send a request's headers once it has
/// begun (`headerTimeout`, the slow-loris attack: a byte now and then, never the end), to send
/// its body (`bodyTimeout`), to send a next request at all (`idleTimeout`, before the first and
/// between keep-alive requests), or to read an answer (`writeTimeout`: the send buffer stays
/// full). A request that did not arrive in time gets 408 before the close.
///
/// It sits first in the connection's pipeline, where it sees bytes as they arrive, before the
/// HTTP decoder; `RequestProgress`, after the decoder, tells it where each request stands.
/// Each deadline runs from the start of its phase and is not pushed back by activity, so
/// sending slowly buys no time. While an answer is generated there is no deadline (a long
/// answer is not the client's doing; a client that leaves is noticed by `ClientConnection`).
/// After a 408 the connection ends its side, then reads and drops what the client still sends
/// for `linger` (a lingering close), so that closing does not reset the connection and destroy
/// the 408 before the client has read it.
final class ConnectionDeadlines: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Phase {
        /// No request in progress.
        case idle
        /// The first bytes of a request have arrived, not yet all its headers.
        case readingHead
        /// The headers have arrived, not yet the end of the body.
        case readingBody
        /// The whole request has arrived; the answer is being made.
        case answering
    }

    private let limits: ConnectionLimits
    private let linger: Duration
    private(set) var phase = Phase.idle
    /// A 408 has been sent: what the client sends now is dropped until the close.
    private(set) var draining = false
    private var context: ChannelHandlerContext?
    private var deadline: Scheduled<Void>?
    private var writeDeadline: Scheduled<Void>?
    /// Bytes arrived while an answer was being made: the next request has begun (pipelining).
    private var nextRequestBegun = false
    /// The request being read has been answered already (an early 413, say).
    private var answered = false

    init(limits: ConnectionLimits, linger: Duration = .seconds(2)) {
        self.limits = limits
        self.linger = linger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { enter(.idle) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelDeadlines()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        enter(.idle)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelDeadlines()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !draining else { return }
        switch phase {
        case .idle: enter(.readingHead)
        case .answering: nextRequestBegun = true
        case .readingHead, .readingBody: break
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The client has read the 408 and closed its side.
        if draining, case .inputClosed? = event as? ChannelEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writeDeadline?.cancel()
        writeDeadline = nil
        if !context.channel.isWritable {
            writeDeadline = schedule(after: limits.writeTimeout) { context in context.close(promise: nil) }
        }
        context.fireChannelWritabilityChanged()
    }

    // MARK: where the request stands (from RequestProgress)

    func headReceived() {
        answered = false
        enter(.readingBody)
    }

    func bodyReceived() {
        guard phase == .readingBody else { return }
        enter(.answering)
    }

    func answerStarted() {
        answered = true
    }

    func answerEnded() {
        // An answer sent before its request's body arrived leaves the body deadline running.
        guard phase == .answering else { return }
        enter(nextRequestBegun ? .readingHead : .idle)
        nextRequestBegun = false
    }

    // MARK: deadlines

    private func enter(_ phase: Phase) {
        guard !draining else { return }
        self.phase = phase
        deadline?.cancel()
        deadline = nil
        switch phase {
        case .idle:
            deadline = schedule(after: limits.idleTimeout) { context in context.close(promise: nil) }
        case .readingHead:
            deadline = schedule(after: limits.headerTimeout) { [unowned self] context in
                refuse(context, RawResponse.requestTimeout("headers", limit: limits.headerTimeout))
            }
        case .readingBody:
            deadline = schedule(after: limits.bodyTimeout) { [unowned self] context in
                // Once an answer has begun, a second one cannot be written in the middle of it.
                if answered {
                    context.close(promise: nil)
                } else {
                    refuse(context, RawResponse.requestTimeout("body", limit: limits.bodyTimeout))
                }
            }
        case .answering:
            break
        }
    }

    private func schedule(after delay: Duration, _ expire: @escaping (ChannelHandlerContext) -> Void) -> Scheduled<Void>? {
        guard let context else { return nil }
        return context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) { [weak self] in
            guard let self, let context = self.context else { return }
            expire(context)
        }
    }

    private func cancelDeadlines() {
        deadline?.cancel()
        writeDeadline?.cancel()
        deadline = nil
        writeDeadline = nil
    }

    /// Writes `response`, ends this side of the connection once it is sent, and closes the
    /// connection when the client does, or after `linger`.
    private func refuse(_ context: ChannelHandlerContext, _ response: ByteBuffer) {
        draining = true
        let channel = context.channel
        context.writeAndFlush(NIOAny(response)).whenComplete { _ in channel.close(mode: .output, promise: nil) }
        deadline = schedule(after: linger) { context in context.close(promise: nil) }
    }
}
