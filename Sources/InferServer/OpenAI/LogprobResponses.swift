import InferKit

/// Chat's `logprobs`: one entry per generated token, with its most likely alternatives.
struct ChatLogprobs: Encodable {
    struct Alternative: Encodable {
        let token: String
        let logprob: Double
        /// The token's UTF-8 bytes (a token may hold part of a character).
        let bytes: [Int]
    }

    struct Entry: Encodable {
        let token: String
        let logprob: Double
        let bytes: [Int]
        let topLogprobs: [Alternative]
    }

    let content: [Entry]

    init(_ records: [TokenLogprob], tokenizer: any Tokenizer) {
        func alternative(_ token: Int, _ logprob: Float) -> Alternative {
            let bytes = tokenizer.bytes(of: token)
            return Alternative(token: String(decoding: bytes, as: UTF8.self), logprob: Double(logprob), bytes: bytes.map(Int.init))
        }
        content = records.map { record in
            let chosen = alternative(record.token, record.logprob)
            return Entry(token: chosen.token, logprob: chosen.logprob, bytes: chosen.bytes,
                         topLogprobs: record.top.map { alternative($0.token, $0.logprob) })
        }
    }
}

/// Text completions' `logprobs`: parallel lists over the generated tokens.
struct TextLogprobs: Encodable {
    let tokens: [String]
    let tokenLogprobs: [Double]
    let topLogprobs: [[String: Double]]
    /// Where each token starts in the generated text (in characters).
    let textOffset: [Int]

    init(_ records: [TokenLogprob], tokenizer: any Tokenizer, startOffset: Int) {
        func text(_ token: Int) -> String { String(decoding: tokenizer.bytes(of: token), as: UTF8.self) }
        tokens = records.map { text($0.token) }
        tokenLogprobs = records.map { Double($0.logprob) }
        topLogprobs = records.map { record in
            var top: [String: Double] = [:]
            for alternative in record.top where top[text(alternative.token)] == nil {
                top[text(alternative.token)] = Double(alternative.logprob)
            }
            return top
        }
        var offsets: [Int] = []
        var offset = startOffset
        for token in tokens {
            offsets.append(offset)
            offset += token.count
        }
        textOffset = offsets
    }
}
