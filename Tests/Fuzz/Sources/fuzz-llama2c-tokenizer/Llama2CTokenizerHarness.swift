// llama2.c `tokenizer.bin`: an int32 maximum length, then score, length and bytes per token.
// The input is a whole file (written to a scratch file: the loader takes a path); a vocabulary
// that loads encodes and decodes texts, since a hostile vocabulary (empty pieces, repeated
// pieces, NaN scores) reaches the encoder too.

import FuzzSupport
@testable import InferKit

private let scratch = ScratchFile(name: "tokenizer.bin")

func fuzzLlama2CTokenizer(_ data: UnsafeRawPointer?, _ size: Int) -> CInt {
    scratch.write(UnsafeRawBufferPointer(start: data, count: size))
    if let tokenizer = try? Llama2CTokenizerFile.load(path: scratch.path) {
        TokenizerExercise.run(tokenizer)
    }
    return 0
}
