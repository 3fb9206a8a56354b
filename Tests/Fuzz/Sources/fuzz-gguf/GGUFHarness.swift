// GGUF parse and model load from bytes: what `infer` does with a model file from a download
// site. The input is a whole file. When it loads as a model, the harness also computes a few
// tokens with it (every weight type's kernels over hostile values, the one-token and batched
// paths), encodes and decodes with its vocabulary, and renders its chat template. When it does
// not, the GGUF is still read as `infer tokenize`, `infer template` and `infer info` read one:
// its vocabulary alone, its chat template alone.

import FuzzSupport
@testable import InferKit

func fuzzGGUF(_ data: UnsafeRawPointer?, _ size: Int) -> CInt {
    let input = AlignedInput(UnsafeRawBufferPointer(start: data, count: size))
    if let model = try? Model(staticBytes: input.bytes, name: "fuzz.gguf") {
        exercise(model)
    } else if let gguf = try? GGUFFile(file: MappedFile(staticBytes: input.bytes, name: "fuzz.gguf")) {
        if let tokenizer = try? GGUFTokenizer.load(from: gguf) { TokenizerExercise.run(tokenizer) }
        if let source = ChatTemplateFile(gguf: gguf).template { TemplateExercise.run(source: source) }
    }
    return 0
}

private func exercise(_ model: Model) {
    let vocabulary = model.config.vocabularySize
    _ = model.typeDescription
    _ = model.weightBytesByType
    TokenizerExercise.run(model.tokenizer)
    if let source = model.chatTemplate { TemplateExercise.run(source: source) }
    // A short context: a hostile file's context length would size the KV cache.
    guard let session = try? Session(model: model, contextLength: 16, threads: 1) else { return }
    let tokens = (0..<6).map { ($0 * 7919) % vocabulary }
    do {
        try session.append([tokens[0]])
        fuzzCheck(session.logits.count == vocabulary, "\(session.logits.count) logits for a vocabulary of \(vocabulary)")
        session.smallestBatch = 2
        try session.append(Array(tokens[1...]))
        fuzzCheck(session.logits.count == vocabulary, "\(session.logits.count) logits after a batch")
    } catch {
        fuzzCheck(false, "a loaded model failed to compute: \(error)")
    }
}
