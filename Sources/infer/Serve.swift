import ArgumentParser
import Foundation
import InferKit
import InferServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a model over OpenAI's HTTP API (chat completions, completions, models, health).",
        discussion: """
            Endpoints: POST /v1/chat/completions, POST /v1/completions (both also streamed as \
            Server-Sent Events), GET /v1/models, GET /health. The model's name in requests is its \
            file name without extension. SIGINT or SIGTERM stops accepting requests, ends the answers \
            in progress and exits 0.
            """)

    @OptionGroup var modelFile: DefaultableModelOptions<Serve>

    @Option(help: "Address to listen on (0.0.0.0 for every interface).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port = 8080

    @Option(help: "Requests generated at once, each with its own KV cache of --ctx positions.")
    var parallel = 2

    @OptionGroup var context: ContextOption<Serve>

    @OptionGroup var threading: ThreadsOption<Serve>

    @Option(help: "Requests that may wait for a free slot; more get 503 with Retry-After.")
    var queue = 16

    @Option(help: "Use a built-in chat template instead of the model's: \(ChatTemplate.builtinNames.joined(separator: ", ")).")
    var chatTemplate: String?

    @Option(help: ArgumentHelp("Require 'Authorization: Bearer KEY' (default: $INFER_API_KEY, else none).", valueName: "key"))
    var apiKey: String?

    @OptionGroup var cache: CacheTypeOption

    @Flag(help: "When a slot's context fills during an answer, stop it (finish_reason length) instead of shifting the context.")
    var noContextShift = false

    @Option(help: ArgumentHelp("Directory where POST /slots/{id}?action=save|restore keeps slot files (default: slot actions off).", valueName: "dir"))
    var slotSavePath: String?

    @Option(help: "Connections open at once; more are answered 503 and closed.")
    var maxConnections = ConnectionLimits().maxConnections

    @Option(help: ArgumentHelp("Seconds from a request's first byte to the end of its headers (then 408).", valueName: "seconds"))
    var headerTimeout = ConnectionLimits().headerTimeout.secondsValue

    @Option(help: ArgumentHelp("Seconds from a request's headers to the end of its body (then 408).", valueName: "seconds"))
    var bodyTimeout = ConnectionLimits().bodyTimeout.secondsValue

    @Option(help: ArgumentHelp("Seconds a connection may stay open between requests (keep-alive).", valueName: "seconds"))
    var idleTimeout = ConnectionLimits().idleTimeout.secondsValue

    @Option(help: ArgumentHelp("Seconds an answer may wait for its client to read it (then the connection closes).", valueName: "seconds"))
    var writeTimeout = ConnectionLimits().writeTimeout.secondsValue

    @Option(help: ArgumentHelp("Largest request line and headers, in bytes (larger: 400).", valueName: "bytes"))
    var maxHeaderBytes = ConnectionLimits().maxHeaderBytes

    @Option(help: "Most header fields in a request (more: 400).")
    var maxHeaders = ConnectionLimits().maxHeaderCount

    func run() async throws {
        try await Terminal.reportingErrors {
            let loaded = try modelFile.load(threads: threading.threads)
            let configuration = ServerConfiguration(
                host: host, port: port, parallel: parallel, contextLength: context.ctx, threads: threading.threads, cacheType: cache.cacheType, contextShift: !noContextShift, queueLimit: queue,
                apiKey: apiKey ?? ProcessInfo.processInfo.environment["INFER_API_KEY"].flatMap { $0.isEmpty ? nil : $0 },
                chatTemplate: try chatTemplate.map { try ChatTemplate.builtin(named: $0) }, slotSavePath: slotSavePath,
                connections: ConnectionLimits(
                    maxConnections: maxConnections, headerTimeout: try duration(headerTimeout, "--header-timeout"),
                    bodyTimeout: try duration(bodyTimeout, "--body-timeout"), idleTimeout: try duration(idleTimeout, "--idle-timeout"),
                    writeTimeout: try duration(writeTimeout, "--write-timeout"), maxHeaderBytes: maxHeaderBytes,
                    maxHeaderCount: maxHeaders))
            let server = try InferServer(model: loaded, configuration: configuration) { [host] port in
                // Scripts that ask for port 0 read the port from this line.
                Terminal.note("infer: listening on http://\(host):\(port)")
            }
            Terminal.note("infer: serving model '\(server.modelID)' with \(parallel) slots of \(server.contextLength) tokens")
            if chatTemplate == nil && loaded.chatTemplate == nil {
                Terminal.note("note: \(loaded.path) has no chat template; chat requests use a plain User:/Assistant: transcript")
            }
            try await server.runUntilSignalled()
            Terminal.note("infer: stopped")
        }
    }

    /// `seconds` from a flag as a duration; a value that is not a positive finite number is refused.
    private func duration(_ seconds: Double, _ flag: String) throws -> Duration {
        guard seconds.isFinite, seconds > 0, seconds <= 1e9 else {
            throw InferError.invalidArgument("\(flag) must be a positive number of seconds, not \(seconds)")
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}

extension Duration {
    /// The duration in seconds, as the flags take it.
    var secondsValue: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

extension Serve: SharedOptionsHelp {
    static var modelHelp: ArgumentHelp {
        "Model file: GGUF, or a llama2.c model.bin (which needs --tokenizer); default: the built-in \(DefaultModel.name)."
    }
    static var contextHelp: ArgumentHelp { "Context length of each slot (default: the model's, at most 4096)." }
    static var threadsHelp: ArgumentHelp {
        "Threads the server computes with; every slot's tokens are computed together (default: the cores)."
    }
}
