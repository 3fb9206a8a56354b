// The server's request decoding and validation: a request body as `POST /v1/chat/completions`
// or `POST /v1/completions` receives it (the first input byte picks the endpoint and, for
// chat, the chat template; the rest is the body). A body the server accepts goes on as the
// server takes it: chat messages are rendered by the template and encoded, a text prompt is
// encoded, token ids are checked against the vocabulary, and the sampling fields become the
// sampler chain that draws a token.

import FuzzSupport
import InferKit
@testable import InferServer

/// The default model (its vocabulary and its own chat template), as `infer serve` runs it.
let model: Model = {
    do {
        return try Model(path: FuzzData.repositoryFile("Models/horatio-q8_0.gguf"))
    } catch {
        fatalError("cannot load the default model: \(error)")
    }
}()

/// The model's own template, then the built-in ones `--chat-template` offers. Each input
/// parses the one it uses: a parsed template kept for the whole run would be reported as a leak
/// (LeakSanitizer does not follow the tagged pointers of Swift enums that hold its syntax tree).
let templateNames: [String?] = [nil] + ChatTemplate.builtinNames

func prompt(_ index: Int) -> ChatPrompt? {
    try? ChatPrompt(model: model, template: templateNames[index].map { try ChatTemplate.builtin(named: $0) })
}

private let modelID = "horatio-q8_0"

func fuzzRequest(_ data: UnsafeRawPointer?, _ size: Int) -> CInt {
    var input = FuzzInput(UnsafeRawBufferPointer(start: data, count: size))
    let choice = input.choice(2 * templateNames.count)
    guard let fields = try? RequestFields(body: Array(input.rest)) else { return 0 }
    if choice < templateNames.count {
        guard let chat = try? ChatCompletionRequest(fields, modelID: modelID, vocabularySize: model.config.vocabularySize) else { return 0 }
        check(chat.sampling)
        if let tokens = try? prompt(choice)?.tokens(for: chat.messages) {
            TokenizerExercise.checkIDs(tokens, model.tokenizer, text: "a rendered chat prompt")
        }
    } else {
        guard let completion = try? CompletionRequest(fields, modelID: modelID, vocabularySize: model.config.vocabularySize) else { return 0 }
        check(completion.sampling)
        switch completion.prompt {
        case .text(let text):
            let tokens = model.tokenizer.encode(text, options: EncodeOptions(parseSpecial: true))
            TokenizerExercise.checkIDs(tokens, model.tokenizer, text: text)
        case .tokens(let ids):
            _ = ids.allSatisfy { (0..<model.config.vocabularySize).contains($0) }
        }
    }
    return 0
}

/// Accepted sampling fields are within the ranges the sampler chain is built for.
private func check(_ sampling: SamplingFields) {
    let p = sampling.parameters
    fuzzCheck((0...2).contains(p.temperature), "temperature \(p.temperature)")
    fuzzCheck(p.topP > 0 && p.topP <= 1, "top_p \(p.topP)")
    fuzzCheck((0...1).contains(p.minP), "min_p \(p.minP)")
    fuzzCheck(p.repeatPenalty > 0 && p.repeatPenalty.isFinite, "repeat_penalty \(p.repeatPenalty)")
    fuzzCheck(p.topK >= 0, "top_k \(p.topK)")
    fuzzCheck(p.maxTokens.map { $0 >= 0 } ?? true, "max_tokens \(String(describing: p.maxTokens))")
    fuzzCheck(!p.stop.contains(""), "an empty stop string")
    // The sampler chain built from them draws a token of the vocabulary.
    var chain = SamplerChain(parameters: p)
    let token = logits.withUnsafeBufferPointer { chain.sample(logits: $0, history: history[...]) }
    fuzzCheck((0..<logits.count).contains(token), "sampled token \(token) of \(logits.count)")
}

/// Logits with ties, a spike and a long flat tail; a history that repeats tokens.
private let logits: [Float] = (0..<model.config.vocabularySize).map { Float(($0 * 7919) % 97) / 10 - ($0 == 5 ? -20 : 0) }
private let history = (0..<80).map { ($0 * 31) % 50 }
