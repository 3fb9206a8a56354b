#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One stage of the sampler chain: reshapes or narrows the candidates, given the tokens
/// of the sequence so far.
public protocol SamplerStep: Sendable {
    func apply(to candidates: inout TokenCandidates, history: ArraySlice<Int>)
}

/// Repetition, frequency and presence penalties over the last `window` tokens, as
/// llama.cpp applies them: a seen token's logit is divided by `repeat` when positive and
/// multiplied by it when negative, then reduced by `frequency` × count + `presence`.
public struct PenaltiesStep: SamplerStep {
    public var repeatPenalty: Float
    public var frequency: Float
    public var presence: Float
    public var window: Int

    public init(repeatPenalty: Float, frequency: Float, presence: Float, window: Int) {
        self.repeatPenalty = repeatPenalty
        self.frequency = frequency
        self.presence = presence
        self.window = window
    }

    public func apply(to candidates: inout TokenCandidates, history: ArraySlice<Int>) {
        guard window > 0, repeatPenalty != 1 || frequency != 0 || presence != 0 else { return }
        var counts: [Int: Int] = [:]
        for token in history.suffix(window) { counts[token, default: 0] += 1 }
        guard !counts.isEmpty else { return }
        for i in candidates.candidates.indices {
            guard let count = counts[candidates.candidates[i].id] else { continue }
            var logit = candidates.candidates[i].logit
            logit = logit <= 0 ? logit * repeatPenalty : logit / repeatPenalty
            logit -= Float(count) * frequency + presence
            candidates.candidates[i].logit = logit
        }
        candidates.sortedByLogit = false
    }
}

/// Keeps the `k` most likely tokens (all when k is 0).
public struct TopKStep: SamplerStep {
    public var k: Int
    public init(k: Int) { self.k = k }

    public func apply(to candidates: inout TokenCandidates, history: ArraySlice<Int>) {
        guard k > 0 else { return }
        candidates.keepTop(max(k, 1))
    }
}

/// Keeps the smallest set of most likely tokens whose probabilities sum to at least `p`.
public struct TopPStep: SamplerStep {
    public var p: Float
    public var minKeep: Int
    public init(p: Float, minKeep: Int = 1) {
        self.p = p
        self.minKeep = minKeep
    }

    public func apply(to candidates: inout TokenCandidates, history: ArraySlice<Int>) {
        guard p < 1, candidates.count > 1 else { return }
        candidates.sort()
        let probabilities = candidates.probabilities()
        var cumulative: Float = 0
        var keep = candidates.count
        for (i, probability) in probabilities.enumerated() {
            cumulative += probability
            if cumulative >= p && i + 1 >= minKeep {
                keep = i + 1
                break
            }
        }
        candidates.candidates.removeLast(candidates.count - keep)
    }
}

/// Drops tokens whose probability is below `p` times that of the most likely token.
public struct MinPStep: SamplerStep {
    public var p: Float
    public var minKeep: Int
    public init(p: Float, minKeep: Int = 1) {
        self.p = p
        self.minKeep = minKeep
    }

    public func apply(to candidates: inout TokenCandidates, history: ArraySlice<Int>) {
        guard p > 0, candidates.count > 1 else { return }
        candidates.sort()
        // prob_i >= p * prob_max  ⇔  logit_i >= logit_max + log(p)
        let threshold = candidates.candidates[0].logit + log(p)
        var keep = candidates.candidates.firstIndex { $0.logit < threshold } ?? candidates.count
        keep = max(keep, min(minKeep, candidates.count))
        candidates.candidates.removeLast(candidates.count - keep)
    }
}

/// Divides logits by the temperature; at 0 only the most likely token remains.
public struct TemperatureStep: SamplerStep {
    public var temperature: Float
    public init(temperature: Float) { self.temperature = temperature }

    public func apply(to candidates: inout TokenCandidates, history: ArraySlice<Int>) {
        if temperature <= 0 {
            candidates.keepTop(1)
            return
        }
        guard temperature != 1 else { return }
        for i in candidates.candidates.indices { candidates.candidates[i].logit /= temperature }
    }
}
