import Hummingbird
import InferKit

/// The OpenAI-compatible endpoints and /health.
struct Endpoints: Sendable {
    let model: Model
    let modelID: String
    let chatPrompt: ChatPrompt
    let pool: SlotPool
    let maxBodyBytes: Int
    /// `created` of the model card: when the server started.
    let started = unixTime()

    func register(on router: Router<ServerContext>) {
        router.get("/health") { _, _ in health() }
        router.get("/v1/models") { _, _ in models() }
        router.post("/v1/chat/completions") { request, context in try await chatCompletions(request, context) }
        router.post("/v1/completions") { request, context in try await completions(request, context) }
    }

    func health() -> Response {
        let status = pool.status
        return .json(Health(slotsIdle: status.idle, slotsProcessing: status.busy, requestsWaiting: status.waiting))
    }

    func models() -> Response {
        .json(ModelList(data: [.init(id: modelID, created: started)]))
    }

    func chatCompletions(_ request: Request, _ context: ServerContext) async throws -> Response {
        let chat = try ChatCompletionRequest(try await fields(of: request), modelID: modelID)
        let tokens: [Int]
        do {
            tokens = try chatPrompt.tokens(for: chat.messages)
        } catch let error as ChatTemplateError {
            throw APIError.invalidRequest("The chat template cannot render these messages: \(error)", param: "messages")
        } catch let error as InferError {
            throw APIError.invalidRequest("\(error)", param: "messages")
        }
        return try await answer(tokens, param: "messages", sampling: chat.sampling, chat: true, context)
    }

    func completions(_ request: Request, _ context: ServerContext) async throws -> Response {
        let completion = try CompletionRequest(try await fields(of: request), modelID: modelID)
        var tokens: [Int]
        switch completion.prompt {
        case .text(let text):
            tokens = model.tokenizer.encode(text, options: EncodeOptions(parseSpecial: true))
        case .tokens(let ids):
            if let bad = ids.first(where: { $0 < 0 || $0 >= model.config.vocabularySize }) {
                throw APIError.invalidValue("prompt", "token id \(bad) is outside the vocabulary (0..<\(model.config.vocabularySize))")
            }
            tokens = ids
        }
        // An empty prompt starts a text from BOS, as `infer generate` does.
        if tokens.isEmpty, let bos = model.tokenizer.special.bos { tokens = [bos] }
        guard !tokens.isEmpty else { throw APIError.invalidValue("prompt", "it is empty and the model has no BOS token") }
        return try await answer(tokens, param: "prompt", sampling: completion.sampling, chat: false, context)
    }

    /// Generates the continuation of `tokens` in a slot and answers with it.
    private func answer(_ tokens: [Int], param: String, sampling: SamplingFields, chat: Bool,
                        _ context: ServerContext) async throws -> Response {
        // At least one position must be left for the answer.
        guard tokens.count < pool.contextLength else {
            throw APIError.invalidRequest(
                "This model's maximum context length is \(pool.contextLength) tokens, but the \(param) take \(tokens.count) tokens.",
                param: param, code: "context_length_exceeded")
        }
        let events: GenerationEvents
        do {
            events = try await pool.generate(prompt: tokens, parameters: sampling.parameters, dropLeadingWhitespace: chat,
                                             connection: await context.connection())
        } catch SlotPool.Refusal.queueFull {
            throw APIError.busy
        } catch SlotPool.Refusal.shuttingDown {
            throw APIError.shuttingDown
        } catch is CancellationError {
            throw APIError.clientGone
        }
        let format: any AnswerFormat = chat ? ChatAnswerFormat(model: modelID) : TextAnswerFormat(model: modelID)
        return try await AnswerWriter(format: format, promptTokens: tokens.count, sampling: sampling).response(events)
    }

    /// The request's JSON object, read up to the size limit.
    private func fields(of request: Request) async throws -> RequestFields {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBodyBytes)
        } catch let error as any HTTPResponseError {
            throw error  // 413
        } catch {
            // The connection ended before the body did (the client left, or its body deadline passed).
            throw APIError.clientGone
        }
        return try RequestFields(body: Array(body.readableBytesView))
    }
}
