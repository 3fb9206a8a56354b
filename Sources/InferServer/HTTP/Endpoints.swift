import Hummingbird
import InferKit

/// The OpenAI-compatible endpoints and /health.
struct Endpoints: Sendable {
    let model: Model
    let modelID: String
    let chatPrompt: ChatPrompt
    let pool: SlotPool
    let maxBodyBytes: Int
    /// `POST /slots/{id}?action=...`; nil: off (no --slot-save-path).
    let slotFiles: SlotFiles?
    /// `created` of the model card: when the server started.
    let started = unixTime()

    func register(on router: Router<ServerContext>) {
        router.get("/health") { _, _ in health() }
        router.get("/v1/models") { _, _ in models() }
        router.post("/v1/chat/completions") { request, context in try await chatCompletions(request, context) }
        router.post("/v1/completions") { request, context in try await completions(request, context) }
        router.post("/slots/:id") { request, context in try await slotAction(request, context) }
    }

    func health() -> Response {
        let status = pool.status
        return .json(Health(slotsIdle: status.idle, slotsProcessing: status.busy, requestsWaiting: status.waiting))
    }

    func models() -> Response {
        .json(ModelList(data: [.init(id: modelID, created: started)]))
    }

    func chatCompletions(_ request: Request, _ context: ServerContext) async throws -> Response {
        let chat = try ChatCompletionRequest(try await fields(of: request), modelID: modelID,
                                             vocabularySize: model.tokenizer.vocabularySize)
        let tools = chat.tools
        let tokens: [Int]
        do {
            // Calls and results in the conversation need the tool-aware rendering even
            // without tools (`tool_choice` "none" shows none).
            let mentionsTools = chat.messages.contains { $0.role == "tool" || $0["tool_calls"] != nil }
            tokens = tools.active || mentionsTools
                ? try chatPrompt.tokens(for: chat.messages, tools: tools.active ? tools.tools : [])
                : try chatPrompt.tokens(for: chat.messages)
        } catch let error as ChatTemplateError {
            throw APIError.invalidRequest("The chat template cannot render these messages: \(error)", param: "messages")
        } catch let error as InferError {
            throw APIError.invalidRequest("\(error)", param: "messages")
        }
        var grammar = chat.output.grammar
        switch tools.choice {
        case .required, .function:
            do {
                grammar = try Grammar.toolCalls(tools.tools, choice: tools.choice, format: chatPrompt.toolCallFormat,
                                                parallel: tools.parallel, tokenizer: model.tokenizer)
            } catch {
                throw APIError.invalidRequest("Invalid 'tools': \(error.message).", param: "tools", code: "invalid_value")
            }
        default:
            break
        }
        let format = ChatAnswerFormat(model: modelID, tokenizer: model.tokenizer,
                                      toolFormat: tools.active ? chatPrompt.toolCallFormat : nil,
                                      wantsLogprobs: chat.output.logprobs != nil)
        return try await answer(tokens, param: "messages", sampling: chat.sampling, output: chat.output, grammar: grammar,
                                format: format, chat: true, context)
    }

    func completions(_ request: Request, _ context: ServerContext) async throws -> Response {
        let completion = try CompletionRequest(try await fields(of: request), modelID: modelID,
                                               vocabularySize: model.tokenizer.vocabularySize)
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
        let format = TextAnswerFormat(model: modelID, tokenizer: model.tokenizer, wantsLogprobs: completion.output.logprobs != nil)
        return try await answer(tokens, param: "prompt", sampling: completion.sampling, output: completion.output,
                                grammar: completion.output.grammar, format: format, chat: false, context)
    }

    /// Generates the continuation of `tokens` in a slot and answers with it.
    private func answer(_ tokens: [Int], param: String, sampling: SamplingFields, output: OutputFields, grammar: Grammar?,
                        format: any AnswerFormat, chat: Bool, _ context: ServerContext) async throws -> Response {
        // At least one position must be left for the answer.
        guard tokens.count < pool.contextLength else {
            throw APIError.invalidRequest(
                "This model's maximum context length is \(pool.contextLength) tokens, but the \(param) take \(tokens.count) tokens.",
                param: param, code: "context_length_exceeded")
        }
        var parameters = sampling.parameters
        parameters.grammar = grammar
        parameters.logprobs = output.logprobs
        if let grammar {
            // Token terminals the vocabulary lacks are the request's fault: found here, not in the slot.
            do {
                _ = try GrammarMatcher(grammar: grammar, model: model)
            } catch {
                throw APIError.invalidRequest("The grammar cannot be used with this model: \(error.message).", param: "grammar",
                                              code: "invalid_value")
            }
        }
        let events: GenerationEvents
        do {
            events = try await pool.generate(prompt: tokens, parameters: parameters, dropLeadingWhitespace: chat,
                                             connection: await context.connection())
        } catch SlotPool.Refusal.queueFull {
            throw APIError.busy
        } catch SlotPool.Refusal.shuttingDown {
            throw APIError.shuttingDown
        } catch is CancellationError {
            throw APIError.clientGone
        }
        return try await AnswerWriter(format: format, promptTokens: tokens.count, sampling: sampling).response(events)
    }

    /// `POST /slots/{id}?action=save|restore|erase` with `{"filename": NAME}` (save, restore):
    /// llama-server's slot files (`SlotFiles`).
    func slotAction(_ request: Request, _ context: ServerContext) async throws -> Response {
        guard let slotFiles else {
            throw APIError(status: .notImplemented, message: "Slot actions are off: start the server with --slot-save-path DIR.",
                           type: "not_supported_error")
        }
        let raw = context.parameters.get("id") ?? ""
        guard let id = Int(raw) else {
            throw APIError(status: .notFound, message: "There is no slot '\(raw)': slots are numbered from 0.",
                           type: "invalid_request_error", code: "slot_not_found")
        }
        guard let name = request.uri.queryParameters.get("action") else { throw APIError.missing("action") }
        guard let action = SlotFiles.Action(rawValue: name) else {
            throw APIError.invalidValue("action", "'\(name)' is not one of \(SlotFiles.Action.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let body = try await request.body.collect(upTo: maxBodyBytes)
        var filename: String?
        if body.readableBytes > 0 {
            let fields = try RequestFields(body: Array(body.readableBytesView))
            if let unknown = fields.object.keys.first(where: { $0 != "filename" }) {
                throw APIError.invalidRequest("Unknown field '\(unknown)': a slot action takes only 'filename'.", param: unknown,
                                              code: "unknown_parameter")
            }
            filename = try fields.string("filename")
        }
        return .json(try await slotFiles.run(action, slot: id, filename: filename))
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
