// Encoding and decoding arbitrary text with real vocabularies: every tokenizer kind infer has
// (SentencePiece from GGUF and tokenizer.bin, byte-level BPE from GGUF with several
// pre-tokenizers and from tokenizer.json with and without a normalizer, WordPiece), loaded once.
// The first input byte picks the vocabulary, the second the options (special tokens parsed or
// not, BOS/EOS); the rest is the text, as a server receives it (invalid UTF-8 replaced).
//
// Checked: every id is inside the vocabulary; decoding gives the text back wherever the
// tokenizer promises it (byte-level BPE without normalization byte for byte, but for bytes its
// vocabulary has no token for, which llama.cpp drops too; with NFC up to canonical equivalence;
// SentencePiece with byte fallback up to its space marker), with special tokens left as text.

import Foundation
import FuzzSupport
@testable import InferKit

/// A vocabulary to fuzz with, and what decoding must give back.
struct Vocabulary {
    enum RoundTrip {
        /// Decoding gives the text's bytes back, but for those the vocabulary has no token for.
        case exact
        /// Up to Unicode canonical equivalence (an NFC normalizer).
        case canonical
        /// Up to SentencePiece's space marker, which reads back as a space.
        case spaceMarker
        /// Not expected (lowercasing, accents stripped, unknown tokens).
        case none
    }

    let name: String
    let tokenizer: any Tokenizer
    let roundTrip: RoundTrip
}

let vocabularies: [Vocabulary] = {
    var list: [Vocabulary] = []
    func add(_ name: String, _ path: String?, _ roundTrip: Vocabulary.RoundTrip) {
        guard let path else { return }
        do {
            list.append(Vocabulary(name: name, tokenizer: try TokenizerLoader.load(path: path), roundTrip: roundTrip))
        } catch {
            fatalError("cannot load the \(name) vocabulary from \(path): \(error)")
        }
    }
    add("horatio (GGUF SentencePiece)", FuzzData.repositoryFile("Models/horatio-q8_0.gguf"), .spaceMarker)
    add("llama2 (tokenizer.bin)", FuzzData.sharedFile("models/tokenizer.bin"), .spaceMarker)
    add("llama-spm (GGUF)", FuzzData.sharedFile("vocab/ggml-vocab-llama-spm.gguf"), .spaceMarker)
    add("phi-3 (GGUF)", FuzzData.sharedFile("vocab/ggml-vocab-phi-3.gguf"), .spaceMarker)
    add("llama3 (tokenizer.json)", FuzzData.sharedFile("tokenizers/llama3"), .exact)
    add("qwen3 (tokenizer.json, NFC)", FuzzData.sharedFile("tokenizers/qwen3"), .canonical)
    add("gpt-2 (GGUF)", FuzzData.sharedFile("vocab/ggml-vocab-gpt-2.gguf"), .exact)
    add("deepseek-llm (GGUF)", FuzzData.sharedFile("vocab/ggml-vocab-deepseek-llm.gguf"), .exact)
    add("deepseek-coder (GGUF)", FuzzData.sharedFile("vocab/ggml-vocab-deepseek-coder.gguf"), .exact)
    add("falcon (GGUF)", FuzzData.sharedFile("vocab/ggml-vocab-falcon.gguf"), .exact)
    add("starcoder (GGUF)", FuzzData.sharedFile("vocab/ggml-vocab-starcoder.gguf"), .exact)
    add("bert-bge (GGUF WordPiece)", FuzzData.sharedFile("vocab/ggml-vocab-bert-bge.gguf"), .none)
    return list
}()

func fuzzTokenize(_ data: UnsafeRawPointer?, _ size: Int) -> CInt {
    var input = FuzzInput(UnsafeRawBufferPointer(start: data, count: size))
    let vocabulary = vocabularies[input.choice(vocabularies.count)]
    let flags = input.byte()
    let bosChoices: [Bool?] = [nil, true, false]
    let options = EncodeOptions(addBOS: bosChoices[Int(flags >> 1) % 3], addEOS: flags & 0x08 != 0 ? true : nil,
                                parseSpecial: flags & 1 != 0)
    let text = input.restAsText
    let tokenizer = vocabulary.tokenizer

    let ids = tokenizer.encode(text, options: options)
    TokenizerExercise.checkIDs(ids, tokenizer, text: text)
    let decoded = tokenizer.decode(ids)

    // Streamed one id at a time, the text is the same as decoded at once.
    var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
    var streamed = ""
    for id in ids { streamed += detokenizer.append(id) }
    streamed += detokenizer.flush()
    fuzzCheck(streamed == decoded, "\(vocabulary.name): streamed \(streamed.debugDescription), decoded \(decoded.debugDescription)")

    // Special-token texts stay text only when they are not parsed.
    guard !options.parseSpecial else { return 0 }
    let matches: Bool
    switch vocabulary.roundTrip {
    case .none: return 0
    case .exact:
        // Compared as bytes: decoding a dropped byte's neighbours would make U+FFFD of them.
        let hasToken = (tokenizer as? ByteLevelBPETokenizer).map { t in { (byte: UInt8) in t.byteTokens[Int(byte)] >= 0 } }
            ?? { _ in true }
        matches = ids.flatMap(tokenizer.bytes(of:)).elementsEqual(text.utf8.filter(hasToken))
    case .canonical: matches = decoded == text
    case .spaceMarker:
        // Scalar by scalar: a marker followed by a combining mark is one Character, which a
        // Character-level replacement would leave alone.
        let expected = text.unicodeScalars.map { $0 == "\u{2581}" ? " " : $0 }
        matches = decoded.unicodeScalars.elementsEqual(expected)
    }
    fuzzCheck(matches, "\(vocabulary.name): \(text.debugDescription) encoded as \(ids) decodes as \(decoded.debugDescription)")
    return 0
}
