import InferKit

/// What every harness does with a tokenizer it managed to load, however hostile its file:
/// encodes texts that reach each stage of a pipeline (spaces, digits, accents, CJK, emoji,
/// special-token texts, bytes without a token of their own), checks that every id is inside
/// the vocabulary, and decodes the ids again.
public enum TokenizerExercise {
    public static let texts = [
        "",
        " Hello world,  two  spaces\n\nand\tnew lines\r\n12345 67.89 naïve café Ünïcödé 日本語のテキスト 한국어 "
            + "emoji 🎉👍🏽 \u{0}\u{1F}\u{7F} ab'll've 're 's",
        "<s>[INST] hi [/INST]</s><|im_start|>user\nhi<|im_end|><|begin_of_text|><|eot_id|>",
    ]

    /// Encodes `texts` and `extra` with special tokens parsed and not, BOS/EOS as the
    /// tokenizer wants, and decodes the result.
    public static func run(_ tokenizer: any Tokenizer, extra: String? = nil) {
        for text in texts + (extra.map { [$0] } ?? []) {
            for parseSpecial in [false, true] {
                let ids = tokenizer.encode(text, options: EncodeOptions(parseSpecial: parseSpecial))
                checkIDs(ids, tokenizer, text: text)
                _ = tokenizer.decode(ids)
                for id in ids.prefix(64) { _ = tokenizer.piece(of: id) }
            }
        }
        // Every special token the tokenizer names must be an id it can decode.
        let special = tokenizer.special
        for id in [special.bos, special.eos, special.eot, special.unknown, special.padding].compactMap({ $0 }) {
            fuzzCheck(id >= 0 && id < tokenizer.vocabularySize,
                      "special token id \(id) is outside the vocabulary of \(tokenizer.vocabularySize)")
            _ = tokenizer.decode([id])
            _ = tokenizer.piece(of: id)
        }
    }

    /// Fails the run when an id is outside the vocabulary.
    public static func checkIDs(_ ids: [Int], _ tokenizer: any Tokenizer, text: String) {
        if let bad = ids.first(where: { $0 < 0 || $0 >= tokenizer.vocabularySize }) {
            fuzzCheck(false, "encoding \(text.debugDescription) gave id \(bad), outside the vocabulary of \(tokenizer.vocabularySize)")
        }
    }
}
