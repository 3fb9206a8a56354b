import Hummingbird
import NIOCore

/// The request context: Hummingbird's, plus the connection, so that a request can learn
/// when its client leaves.
struct ServerContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    private let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        channel = source.channel
    }

    /// The watcher in this connection's pipeline (nil if the connection is already gone).
    func connection() async -> ClientConnection? {
        try? await channel.pipeline.handler(type: ClientConnection.self).get()
    }
}
