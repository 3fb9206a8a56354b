/// How to generate: sampling settings, limits and stop strings. The defaults are the ones
/// llama.cpp users know.
public struct GenerateParameters: Sendable, Equatable {
    /// Tokens to generate at most; nil runs until a stop condition or a full context.
    public var maxTokens: Int?
    /// Softmax temperature; 0 picks the most likely token (greedy).
    public var temperature: Float = 0.8
    /// Keep the k most likely tokens; 0 keeps all.
    public var topK: Int = 40
    /// Keep the smallest set of tokens whose probability reaches p; 1 keeps all.
    public var topP: Float = 0.95
    /// Drop tokens less likely than min-p times the most likely one; 0 keeps all.
    public var minP: Float = 0.05
    /// Divide positive (multiply negative) logits of recently seen tokens; 1 is off.
    public var repeatPenalty: Float = 1.0
    /// Subtract this times the count of each recently seen token from its logit.
    public var frequencyPenalty: Float = 0
    /// Subtract this from the logit of every recently seen token.
    public var presencePenalty: Float = 0
    /// How many recent tokens the penalties look at.
    public var penaltyWindow: Int = 64
    /// Seed of the random choice; nil picks one at random.
    public var seed: UInt64?
    /// Text that ends generation when produced; it is not included in the output.
    public var stop: [String] = []
    /// When the context fills during generation, drop half of the tokens after the kept ones and
    /// go on (llama.cpp's context shift); false ends generation with `.contextFull`.
    public var contextShift = true
    /// Tokens at the start that a context shift keeps, besides a leading BOS (llama.cpp's n_keep).
    public var keep = 0
    /// The grammar the text must follow (GBNF, or made from a JSON Schema): other tokens are
    /// never sampled, and generation ends when the text is complete. Nil: free text.
    public var grammar: Grammar?
    /// Added to these tokens' logits before sampling (OpenAI's `logit_bias`, -100...100).
    public var logitBias: [Int: Float] = [:]
    /// Report each generated token's log-probability and this many most likely alternatives
    /// (0...20; read them from `Generator.logprobs`). Nil: none.
    public var logprobs: Int?

    public init(maxTokens: Int? = nil, temperature: Float = 0.8, topK: Int = 40, topP: Float = 0.95,
                minP: Float = 0.05, repeatPenalty: Float = 1.0, frequencyPenalty: Float = 0,
                presencePenalty: Float = 0, penaltyWindow: Int = 64, seed: UInt64? = nil, stop: [String] = [],
                grammar: Grammar? = nil, logitBias: [Int: Float] = [:], logprobs: Int? = nil) {
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repeatPenalty = repeatPenalty
        self.frequencyPenalty = frequencyPenalty
        self.presencePenalty = presencePenalty
        self.penaltyWindow = penaltyWindow
        self.seed = seed
        self.stop = stop
        self.grammar = grammar
        self.logitBias = logitBias
        self.logprobs = logprobs
    }

    /// Greedy decoding: always the most likely token.
    public static var greedy: GenerateParameters { GenerateParameters(temperature: 0) }

    /// The most alternatives `logprobs` may ask for (OpenAI's limit).
    public static let maxLogprobs = 20

    /// Checks every value is in range.
    public func validate() throws {
        func fail(_ message: String) -> InferError { .invalidArgument(message) }
        if let maxTokens, maxTokens < 0 { throw fail("max tokens must be at least 0, not \(maxTokens)") }
        guard temperature >= 0, temperature.isFinite else { throw fail("temperature must be at least 0, not \(temperature)") }
        guard topK >= 0 else { throw fail("top-k must be at least 0, not \(topK)") }
        guard topP > 0, topP <= 1 else { throw fail("top-p must be in (0, 1], not \(topP)") }
        guard minP >= 0, minP <= 1 else { throw fail("min-p must be in [0, 1], not \(minP)") }
        guard repeatPenalty > 0, repeatPenalty.isFinite else { throw fail("repeat penalty must be positive, not \(repeatPenalty)") }
        guard frequencyPenalty.isFinite, presencePenalty.isFinite else { throw fail("penalties must be finite numbers") }
        guard penaltyWindow >= 0 else { throw fail("penalty window must be at least 0, not \(penaltyWindow)") }
        if stop.contains("") { throw fail("a stop string cannot be empty") }
        guard keep >= 0 else { throw fail("tokens to keep must be at least 0, not \(keep)") }
        if let (token, bias) = logitBias.first(where: { !$0.value.isFinite || abs($0.value) > 100 }) {
            throw fail("the logit bias of token \(token) must be between -100 and 100, not \(bias)")
        }
        if let logprobs, !(0...Self.maxLogprobs).contains(logprobs) {
            throw fail("logprobs must be in 0...\(Self.maxLogprobs), not \(logprobs)")
        }
    }
}
