import NIOCore
import NIOHTTPTypes

/// Tells the connection's `ConnectionDeadlines` where its requests stand: it sits after the
/// HTTP decoder, where a request's head, body and end and its answer's head and end pass.
final class RequestProgress: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var deadlines: ConnectionDeadlines?

    func handlerAdded(context: ChannelHandlerContext) {
        deadlines = try? context.pipeline.syncOperations.handler(type: ConnectionDeadlines.self)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadlines = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: deadlines?.headReceived()
        case .body: break
        case .end: deadlines?.bodyReceived()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head: deadlines?.answerStarted()
        case .body: break
        case .end: deadlines?.answerEnded()
        }
        context.write(data, promise: promise)
    }
}
