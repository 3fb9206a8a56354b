import NIOCore
import Synchronization

/// Tells the request being served on a connection that its client has gone, so that its
/// generation stops and its slot is freed at once, without waiting for a write to fail.
///
/// It sits in each connection's channel pipeline. The server allows half-closed connections,
/// so a client closing its socket arrives first as the end of its input; like llama.cpp's
/// server, that counts as gone (HTTP clients do not half-close while awaiting an answer).
final class ClientConnection: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = Any

    private struct State {
        var gone = false
        var action: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    var isGone: Bool { state.withLock { $0.gone } }

    /// Sets what to do when the client goes (replacing the previous action; nil: nothing).
    /// Runs it at once if the client is already gone. A connection serves one request at a
    /// time, so one action is enough.
    func onGone(_ action: (@Sendable () -> Void)?) {
        let runNow = state.withLock { state in
            state.action = action
            return state.gone
        }
        if runNow { action?() }
    }

    private func markGone() {
        let action = state.withLock { state in
            state.gone = true
            defer { state.action = nil }
            return state.action
        }
        action?()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent { markGone() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        markGone()
        context.fireChannelInactive()
    }
}
