/// The sampler chain: logit bias → grammar → penalties → top-k → top-p → min-p →
/// temperature (llama.cpp's order, the grammar first so that the others choose among allowed
/// tokens), then a seeded random draw from the softmax of what remains. With temperature 0
/// it is greedy. The same seed always gives the same tokens.
public struct SamplerChain: Sendable {
    public var steps: [any SamplerStep]
    private var random: SplitMix64

    public init(steps: [any SamplerStep], seed: UInt64) {
        self.steps = steps
        self.random = SplitMix64(seed: seed)
    }

    /// - Parameter grammar: follows `p.grammar` for this generation (see `GrammarMatcher`).
    public init(parameters p: GenerateParameters, grammar: GrammarMatcher? = nil) {
        var steps: [any SamplerStep] = []
        if !p.logitBias.isEmpty { steps.append(LogitBiasStep(bias: p.logitBias)) }
        if let grammar { steps.append(GrammarStep(matcher: grammar)) }
        steps.append(PenaltiesStep(repeatPenalty: p.repeatPenalty, frequency: p.frequencyPenalty,
                                   presence: p.presencePenalty, window: p.penaltyWindow))
        if p.temperature > 0 {
            steps += [TopKStep(k: p.topK), TopPStep(p: p.topP), MinPStep(p: p.minP)] as [any SamplerStep]
        }
        steps.append(TemperatureStep(temperature: p.temperature))
        self.init(steps: steps, seed: p.seed ?? UInt64.random(in: 0...UInt64.max))
    }

    /// The candidates and their probabilities after every step, before the draw.
    public func distribution(logits: UnsafeBufferPointer<Float>, history: ArraySlice<Int>) -> [(id: Int, probability: Float)] {
        var candidates = TokenCandidates(logits: logits)
        for step in steps { step.apply(to: &candidates, history: history) }
        return Array(zip(candidates.candidates.map(\.id), candidates.probabilities()))
    }

    /// Draws the next token.
    public mutating func sample(logits: UnsafeBufferPointer<Float>, history: ArraySlice<Int>) -> Int {
        let distribution = distribution(logits: logits, history: history)
        guard distribution.count > 1 else { return distribution.first?.id ?? 0 }
        let target = Float(random.nextUnitDouble())
        var cumulative: Float = 0
        for (id, probability) in distribution {
            cumulative += probability
            if target < cumulative { return id }
        }
        return distribution[distribution.count - 1].id  // rounding left the sum just under 1
    }
}

/// A small, fast, seedable generator (Steele, Lea & Flood's SplitMix64).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }
}
