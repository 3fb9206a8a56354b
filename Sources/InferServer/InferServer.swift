import Foundation
import Hummingbird
import HummingbirdCore
import InferKit
import Logging
import NIOCore
import ServiceLifecycle

/// An OpenAI-compatible HTTP server for one model: `POST /v1/chat/completions`,
/// `POST /v1/completions` (whole or streamed as Server-Sent Events), `GET /v1/models` and
/// `GET /health`.
///
/// Up to `parallel` requests generate at once, each in a slot with its own KV cache, their tokens
/// computed together (one pass over the weights for all of them); more wait in a bounded line. It is a swift-service-lifecycle `Service`: on graceful
/// shutdown it stops accepting connections, ends the answers being generated (their clients
/// get the text so far) and returns.
///
/// ```swift
/// let server = try InferServer(model: model, configuration: ServerConfiguration(port: 0)) { port in
///     print("listening on \(port)")
/// }
/// try await server.runUntilSignalled()
/// ```
public final class InferServer: Service {
    public let configuration: ServerConfiguration
    /// The name the model is served under.
    public let modelID: String
    private let pool: SlotPool
    private let endpoints: Endpoints
    private let onListening: @Sendable (Int) async -> Void
    private let logger: Logger

    /// Loads nothing: `model` is shared by every slot. Allocates the slots' KV caches.
    /// - Parameter onListening: called with the port once the server accepts connections.
    /// - Throws: `InferError` for a configuration out of range, `ChatTemplateError` when the
    ///   model's chat template does not parse.
    public init(model: Model, configuration: ServerConfiguration = ServerConfiguration(),
                onListening: @escaping @Sendable (Int) async -> Void = { _ in }) throws {
        func invalid(_ message: String) -> InferError { .invalidArgument(message) }
        guard configuration.parallel >= 1 else { throw invalid("--parallel must be at least 1, not \(configuration.parallel)") }
        guard configuration.queueLimit >= 0 else { throw invalid("--queue must be at least 0, not \(configuration.queueLimit)") }
        guard (0...65535).contains(configuration.port) else { throw invalid("--port must be in 0...65535, not \(configuration.port)") }
        guard configuration.maxBodyBytes > 0 else { throw invalid("the body size limit must be positive") }
        if let key = configuration.apiKey, key.isEmpty { throw invalid("--api-key cannot be empty") }
        if let problem = configuration.connections.problem() { throw invalid(problem) }
        self.configuration = configuration
        modelID = configuration.modelID ?? URL(fileURLWithPath: model.path).deletingPathExtension().lastPathComponent
        if let threads = configuration.threads, threads < 1 { throw invalid("--threads must be at least 1, not \(threads)") }
        // One loop computes every slot's tokens together, on all the cores by default.
        let threads = configuration.threads ?? ProcessInfo.processInfo.activeProcessorCount
        pool = try SlotPool(model: model, count: configuration.parallel, contextLength: configuration.contextLength,
                            threads: threads, cacheType: configuration.cacheType,
                            contextShift: configuration.contextShift, queueLimit: configuration.queueLimit)
        var slotFiles: SlotFiles?
        if let directory = configuration.slotSavePath {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw InferError.cannotOpen(path: directory, reason: "--slot-save-path needs an existing directory")
            }
            slotFiles = SlotFiles(directory: directory, pool: pool)
        }
        endpoints = Endpoints(model: model, modelID: modelID, chatPrompt: try ChatPrompt(model: model, template: configuration.chatTemplate), pool: pool,
                              maxBodyBytes: configuration.maxBodyBytes, slotFiles: slotFiles)
        self.onListening = onListening
        var logger = Logger(label: "infer.serve")
        logger.logLevel = .warning
        self.logger = logger
    }

    deinit {
        pool.stopThreads()
    }

    /// Positions in each slot's context.
    public var contextLength: Int { pool.contextLength }

    /// Serves until graceful shutdown (or cancellation). Serves once: the slots are closed after.
    public func run() async throws {
        let router = Router(context: ServerContext.self)
        router.add(middleware: OpenAIErrorMiddleware(maxBodyBytes: configuration.maxBodyBytes))
        if let key = configuration.apiKey { router.add(middleware: APIKeyMiddleware(key: key)) }
        endpoints.register(on: router)
        let app = Application(
            router: router,
            server: httpServer(configuration.connections),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "infer"),
            onServerRunning: { [onListening, configuration] channel in
                await onListening(channel.localAddress?.port ?? configuration.port)
            },
            logger: logger)
        defer { pool.stopThreads() }
        do {
            try await withGracefulShutdownHandler {
                try await app.run()
            } onGracefulShutdown: { [pool] in
                pool.shutDown()
            }
        } catch let error as IOError {
            // Binding failed (the port is taken, no interface has the address).
            throw InferError.cannotOpen(path: "http://\(configuration.host):\(configuration.port)",
                                        reason: String(cString: strerror(error.errnoCode)))
        }
    }

    /// HTTP/1.1 with the connection limits: at most `maxConnections` open (more are refused
    /// with 503), deadlines for each phase of a request (`ConnectionDeadlines`, which replace
    /// Hummingbird's idle timeout), and the decoder's bounds on a request's head.
    private func httpServer(_ limits: ConnectionLimits) -> HTTPServerBuilder {
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [ClientConnection(), RequestProgress()],
            idleTimeout: nil,
            httpDecoderConfiguration: .init(maxHeaderFieldSize: limits.maxHeaderBytes, maxHeaderListSize: limits.maxHeaderBytes,
                                            maxHeaderFieldCount: limits.maxHeaderCount))
        let openConnections = OpenConnections()
        return HTTPServerBuilder { responder in
            AdmittingHTTP1Channel(http: HTTP1Channel(responder: responder, configuration: http1), limits: limits,
                                  openConnections: openConnections)
        }
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully.
    public func runUntilSignalled() async throws {
        let group = ServiceGroup(configuration: .init(services: [self], gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger))
        try await group.run()
    }
}
