import Foundation

/// Perplexity of a model over a text, computed as llama.cpp's llama-perplexity does, so
/// that the two engines can be compared on the same file and text:
/// - the text is tokenized as the model's tokenizer does by default (BOS first when the
///   model adds one), and split into `context`-token chunks (a remainder is dropped);
/// - each chunk is evaluated from an empty cache, its first token replaced by BOS;
/// - only the predictions of the second half of each chunk count (each has at least
///   context/2 tokens before it): the negative log-likelihood of tokens first+1 ..< context
///   with first = context/2;
/// - perplexity = exp(mean NLL), ± ppl · √((mean NLL² − mean NLL²) / (count − 1)).
public struct PerplexityEvaluation {
    public let context: Int
    public private(set) var chunkCount = 0
    /// Tokens scored so far.
    public private(set) var count = 0
    private var nll = 0.0
    private var nll2 = 0.0

    public init(context: Int) { self.context = context }

    /// Perplexity over the tokens scored so far.
    public var perplexity: Double { exp(nll / Double(count)) }

    /// The standard error of the perplexity (llama-perplexity's "+/-"), nil until it is
    /// defined (two scored tokens, a positive variance).
    public var error: Double? {
        let mean = nll / Double(count)
        let variance = nll2 / Double(count) - mean * mean
        guard count > 1, variance > 0 else { return nil }
        return (variance / Double(count - 1)).squareRoot() * perplexity
    }

    /// Chunks of `context` tokens in `tokens` (what llama-perplexity evaluates).
    public static func chunkCount(tokens: Int, context: Int) -> Int { tokens / context }

    /// Evaluates chunk `index` of `tokens` on `session` (cleared first; it needs room for
    /// `context` tokens) and adds its scores.
    public mutating func evaluate(chunk index: Int, of tokens: [Int], session: Session) throws {
        var chunk = Array(tokens[index * context..<(index + 1) * context])
        let tokenizer = session.model.tokenizer
        if tokenizer.addsBOSByDefault, let bos = tokenizer.special.bos { chunk[0] = bos }
        let first = context / 2
        session.reset()
        try session.append(chunk, scoring: first..<(context - 1)) { i, logits in
            let v = Self.negativeLogLikelihood(logits, of: chunk[i + 1])
            nll += v
            nll2 += v * v
        }
        count += context - 1 - first
        chunkCount += 1
    }

    /// −log softmax(logits)[token], with llama-perplexity's arithmetic (f32 differences and
    /// exponentials, a double sum), so the two agree to the last printed digit.
    static func negativeLogLikelihood(_ logits: UnsafeBufferPointer<Float>, of token: Int) -> Double {
        let maxLogit = logits.max()!
        var sum = 0.0
        for l in logits { sum += Double(expf(l - maxLogit)) }
        return -(Double(logits[token] - maxLogit) - log(sum))
    }
}
