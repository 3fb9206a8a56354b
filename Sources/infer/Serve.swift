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

    @Argument(help: "Model file: GGUF, or a llama2.c model.bin (which needs --tokenizer); default: the built-in \(DefaultModel.name).")
    var model: String?

    @Option(name: [.customShort("z"), .long], help: "Tokenizer file for a llama2.c model.bin.")
    var tokenizer: String?

    @Option(help: "Address to listen on (0.0.0.0 for every interface).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port = 8080

    @Option(help: "Requests generated at once, each with its own KV cache of --ctx positions.")
    var parallel = 2

    @Option(name: [.customShort("c"), .long], help: "Context length of each slot (default: the model's, at most 4096).")
    var ctx: Int?

    @Option(help: "Threads the server computes with; every slot's tokens are computed together (default: the cores).")
    var threads: Int?

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

    func run() async throws {
        try await Terminal.reportingErrors {
            let loaded = try DefaultModel.load(path: model, tokenizerPath: tokenizer)
            let configuration = ServerConfiguration(
                host: host, port: port, parallel: parallel, contextLength: ctx, threads: threads, cacheType: cache.cacheType, contextShift: !noContextShift, queueLimit: queue,
                apiKey: apiKey ?? ProcessInfo.processInfo.environment["INFER_API_KEY"].flatMap { $0.isEmpty ? nil : $0 },
                chatTemplate: try chatTemplate.map { try ChatTemplate.builtin(named: $0) }, slotSavePath: slotSavePath)
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
}
