import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// Hummingbird's HTTP/1 connection setup, with the server's connection limits around it: a
/// connection beyond `maxConnections` is refused with 503 (`RefusedConnection`) instead of
/// being served, and every other one gets `ConnectionDeadlines` at the front of its pipeline.
struct AdmittingHTTP1Channel: ServerChildChannel {
    enum Value: ServerChildChannelValue {
        case admitted(HTTP1Channel.Value)
        case refused(any Channel)

        var channel: any Channel {
            switch self {
            case .admitted(let value): return value.channel
            case .refused(let channel): return channel
            }
        }
    }

    let http: HTTP1Channel
    let limits: ConnectionLimits
    let openConnections: OpenConnections

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard openConnections.admit(limit: limits.maxConnections) else {
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    RefusedConnection(response: RawResponse.tooManyConnections(limit: limits.maxConnections)))
                return .refused(channel)
            }
        }
        channel.closeFuture.whenComplete { [openConnections] _ in openConnections.release() }
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ConnectionDeadlines(limits: limits))
        }.flatMap {
            http.setup(channel: channel, logger: logger)
        }.map {
            .admitted($0)
        }
    }

    func handle(value: Value, logger: Logger) async {
        switch value {
        case .admitted(let value):
            await http.handle(value: value, logger: logger)
        case .refused(let channel):
            try? await channel.closeFuture.get()
        }
    }
}

/// The number of connections open, shared by every event loop's connections.
final class OpenConnections: Sendable {
    private let count = Mutex(0)

    /// Counts one more connection unless `limit` are open already.
    func admit(limit: Int) -> Bool {
        count.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func release() {
        count.withLock { $0 -= 1 }
    }

    var current: Int { count.withLock { $0 } }
}
