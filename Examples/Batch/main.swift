import Foundation
import InferKit

// Usage: infer-batch-example MODEL.gguf
guard CommandLine.arguments.count == 2 else {
    print("usage: infer-batch-example MODEL.gguf")
    exit(2)
}
let model = try Model(path: CommandLine.arguments[1])

// Several prompts continued together: at each step the next token of every one of them is
// computed in one pass over the weights. Each gets the text it would get alone.
let batch = try BatchGenerator(model: model)
var texts: [Int: String] = [:]
for prompt in ["Once upon a time", "The little dog", "One day, a big bird"] {
    let tokens = model.tokenizer.encode(prompt, options: EncodeOptions(parseSpecial: true))
    let id = try batch.add(session: try Session(model: model), prompt: tokens,
                           parameters: GenerateParameters(maxTokens: 24, temperature: 0))
    texts[id] = prompt
}
while !batch.isEmpty {
    for update in batch.step() {
        switch update.result {
        case .success(.text(let piece, _)):
            texts[update.id, default: ""] += piece
        case .success(.finished(let reason, let stats)):
            print("\(texts[update.id, default: ""])\n  [\(reason), \(stats.generatedTokens) tokens]")
        case .failure(let error):
            print("generation \(update.id) failed: \(error)")
        }
    }
}
