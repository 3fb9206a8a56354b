/// Adds a bias to chosen tokens' logits (OpenAI's `logit_bias`): -100 in practice bans a
/// token, +100 makes it near certain.
public struct LogitBiasStep: SamplerStep {
    public var bias: [Int: Float]

    public init(bias: [Int: Float]) {
        self.bias = bias
    }

    public func apply(to candidates: inout TokenCandidates, history: ArraySlice<Int>) {
        guard !bias.isEmpty else { return }
        // First in the chain the candidates are in id order: go straight to each biased one.
        for (id, amount) in bias {
            if candidates.candidates.indices.contains(id) && candidates.candidates[id].id == id {
                candidates.candidates[id].logit += amount
            } else if let index = candidates.candidates.firstIndex(where: { $0.id == id }) {
                candidates.candidates[index].logit += amount
            }
        }
        candidates.sortedByLogit = false
    }
}
