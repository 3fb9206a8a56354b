import NIOCore

/// The whole pipeline of a connection refused for being one too many: it sends 503 at once,
/// ends its side of the connection, reads and drops whatever the client sends (so that the
/// close is not a reset that could destroy the 503 before the client reads it), and closes
/// when the client does, or after `linger` at the latest.
final class RefusedConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let response: ByteBuffer
    private let linger: TimeAmount

    init(response: ByteBuffer, linger: TimeAmount = .seconds(2)) {
        self.response = response
        self.linger = linger
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(response)).whenComplete { _ in
            channel.close(mode: .output, promise: nil)
        }
        context.eventLoop.scheduleTask(in: linger) { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
