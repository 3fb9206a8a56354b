import Foundation
import InferKit

// Usage: infer-example MODEL.gguf
guard CommandLine.arguments.count == 2 else {
    print("usage: infer-example MODEL.gguf")
    exit(2)
}
let model = try Model(path: CommandLine.arguments[1])

// Continue a text, streaming the pieces as they are generated.
let session = try Session(model: model)
let prompt = model.tokenizer.encode("Once upon a time", options: EncodeOptions(parseSpecial: true))
for try await event in session.generate(prompt: prompt, parameters: GenerateParameters(maxTokens: 24, temperature: 0)) {
    if case .text(let piece, _) = event { print(piece, terminator: "") }
}
print()

// A conversation: each turn computes only its new tokens; earlier turns stay in the KV cache.
let chat = try ChatSession(model: model, systemPrompt: "You tell short stories.",
                           parameters: GenerateParameters(maxTokens: 32, seed: 42))
for question in ["Tell me about a cat.", "What did the cat do next?"] {
    print("> \(question)")
    for try await event in chat.respond(to: question) {
        switch event {
        case .text(let piece, _):
            print(piece, terminator: "")
        case .finished(let reason, let stats):
            print("\n[\(reason), \(stats.generatedTokens) tokens, \(stats.reusedTokens) reused from the cache]")
        }
    }
}
