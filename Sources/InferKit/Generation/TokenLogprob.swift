#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How likely the model found a generated token, and the most likely tokens at its place:
/// natural logarithms of the model's own probabilities (the softmax of its logits, before
/// any sampling step, bias or grammar), as OpenAI's `logprobs` reports them.
public struct TokenLogprob: Sendable, Equatable {
    public struct Alternative: Sendable, Equatable {
        public let token: Int
        public let logprob: Float
    }

    public let token: Int
    public let logprob: Float
    /// The most likely tokens, most likely first (as many as `GenerateParameters.logprobs` asks).
    public let top: [Alternative]

    /// The log-probability of `token` and the `count` most likely tokens under `logits`.
    public init(token: Int, logits: UnsafeBufferPointer<Float>, top count: Int) {
        var maximum = -Float.infinity
        for logit in logits where logit > maximum { maximum = logit }
        var sum = 0.0
        for logit in logits { sum += exp(Double(logit - maximum)) }
        let logSum = Float(log(sum)) + maximum
        self.token = token
        logprob = logits[token] - logSum
        // The `count` largest, kept sorted (ties by lower id).
        var best: [(id: Int, logit: Float)] = []
        if count > 0 {
            best.reserveCapacity(count + 1)
            for (id, logit) in logits.enumerated() where best.count < count || logit > best[best.count - 1].logit {
                let at = best.firstIndex { logit > $0.logit } ?? best.count
                best.insert((id, logit), at: at)
                if best.count > count { best.removeLast() }
            }
        }
        top = best.map { Alternative(token: $0.id, logprob: $0.logit - logSum) }
    }
}
