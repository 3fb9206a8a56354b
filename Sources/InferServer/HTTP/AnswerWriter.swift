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
        var format = format
        var text = ""
        var logprobs: [TokenLogprob] = []
        while let piece = try await events.nextPiece() {
            switch piece.event {
            case .text(let text_, _):
                text += text_
                logprobs += piece.logprobs
            case .finished(let reason, let stats):
                let usage = Usage(promptTokens: promptTokens, stats: stats)
                return .json(format.whole(text: text, logprobs: logprobs, finishReason: reason, usage: usage))
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
        var format = format
        if let opening = format.opening() { try await writer.write(ServerSentEvents.event(opening)) }
        while true {
            let next: EventChannel.Piece?
            do {
                next = try await events.nextPiece()
            } catch {
                // The headers are sent: the error goes in the stream, where the clients look for it.
                return try await writer.write(ServerSentEvents.event(APIError.server("Generation failed: \(error)").body))
            }
            switch next?.event {
            case nil:
                return
            case .text(let piece, _)?:
                guard !piece.isEmpty || !(next?.logprobs.isEmpty ?? true) else { continue }
                for chunk in format.chunks(piece, logprobs: next?.logprobs ?? []) {
                    try await writer.write(ServerSentEvents.event(chunk))
                }
            case .finished(let reason, let stats)?:
                for chunk in format.closing(reason) { try await writer.write(ServerSentEvents.event(chunk)) }
                if sampling.includeUsage {
                    try await writer.write(ServerSentEvents.event(format.usage(Usage(promptTokens: promptTokens, stats: stats))))
                }
            }
        }
    }
}
