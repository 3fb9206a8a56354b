// llama2.c `model.bin` (versions 0, 1 and 2) loaded from a file, with the shared 512-token
// `tok512.bin` vocabulary as `infer generate model.bin -z tok512.bin` loads it. The input is a
// whole file (written to a scratch file: the loader takes a path). A model that loads computes
// a few tokens, as in the GGUF harness.

import FuzzSupport
import InferKit

private let scratch = ScratchFile(name: "model.bin")
private let tokenizerPath = FuzzData.sharedFile("models/tok512.bin")

func fuzzLlama2CModel(_ data: UnsafeRawPointer?, _ size: Int) -> CInt {
    scratch.write(UnsafeRawBufferPointer(start: data, count: size))
    guard let model = try? Model(path: scratch.path, tokenizerPath: tokenizerPath) else { return 0 }
    let vocabulary = model.config.vocabularySize
    _ = model.typeDescription
    guard let session = try? Session(model: model, contextLength: 16, threads: 1) else { return 0 }
    let tokens = (0..<6).map { ($0 * 7919) % vocabulary }
    do {
        try session.append([tokens[0]])
        session.smallestBatch = 2
        try session.append(Array(tokens[1...]))
        fuzzCheck(session.logits.count == vocabulary, "\(session.logits.count) logits for a vocabulary of \(vocabulary)")
    } catch {
        fuzzCheck(false, "a loaded model failed to compute: \(error)")
    }
    return 0
}
