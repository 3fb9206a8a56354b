import Hummingbird
import InferKit

/// Turns a generation's events into the HTTP response: one JSON body when it is done, or a
/// stream of Server-Sent Events as the text is generated.
struct AnswerWriter {
    let format: any AnswerFormat
    /// Tokens in the prompt, cached or not (`usage.prompt_tokens`).
    let promptTokens: Int
    let sampling: SamplingFields

    func response(_ events: GenerationEvents) async throws -> Response {
        sampling.stream ? stream(events) : try await whole(events)
    }

    private func whole(_ events: GenerationEvents) async throws -> Response {
        var text = ""
        while let event = try await events.next() {
            switch event {
            case .text(let piece, _):
                text += piece
            case .finished(let reason, let stats):
                return .json(format.whole(text: text, finishReason: reason, usage: Usage(promptTokens: promptTokens, stats: stats)))
            }
        }
        throw APIError.clientGone
    }

    private func stream(_ events: GenerationEvents) -> Response {
        Response(status: .ok, headers: ServerSentEvents.headers, body: ResponseBody { [self] writer in
            do {
                try await writeEvents(events, to: &writer)
                try await writer.write(ServerSentEvents.done)
                try await writer.finish(nil)
            } catch {
                events.close()  // a write failed: the client is gone
                throw error
            }
        })
    }

    private func writeEvents(_ events: GenerationEvents, to writer: inout any ResponseBodyWriter) async throws {
        if let opening = format.opening() { try await writer.write(ServerSentEvents.event(opening)) }
        while true {
            let next: GenerationEvent?
            do {
                next = try await events.next()
            } catch {
                // The headers are sent: the error goes in the stream, where the clients look for it.
                return try await writer.write(ServerSentEvents.event(APIError.server("Generation failed: \(error)").body))
            }
            switch next {
            case nil:
                return
            case .text(let piece, _)?:
                if !piece.isEmpty { try await writer.write(ServerSentEvents.event(format.chunk(piece))) }
            case .finished(let reason, let stats)?:
                try await writer.write(ServerSentEvents.event(format.closing(reason)))
                if sampling.includeUsage {
                    try await writer.write(ServerSentEvents.event(format.usage(Usage(promptTokens: promptTokens, stats: stats))))
                }
            }
        }
    }
}
