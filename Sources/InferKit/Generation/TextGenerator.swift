/// Why generation ended.
public enum FinishReason: String, Sendable {
    /// An end-of-generation token was produced.
    case stop
    /// The token budget was used up.
    case length
    /// The session's context is full.
    case contextFull
}

/// Counts and timings of one generation.
public struct GenerationStats: Sendable {
    public var promptTokens = 0
    public var generatedTokens = 0
    public var promptSeconds = 0.0
    public var generationSeconds = 0.0

    public var generationTokensPerSecond: Double {
        generationSeconds > 0 ? Double(generatedTokens) / generationSeconds : 0
    }
    public var promptTokensPerSecond: Double {
        promptSeconds > 0 ? Double(promptTokens) / promptSeconds : 0
    }
}

/// Continues a session token by token: samples, stops at an end-of-generation token,
/// the token budget or a full context, and streams UTF-8-complete text.
public struct TextGenerator {
    public let session: Session
    public var sampler: Sampler

    public init(session: Session, sampler: Sampler) {
        self.session = session
        self.sampler = sampler
    }

    /// Appends `prompt` (token ids) to the session, then generates up to `maxTokens`,
    /// calling `onText` with each complete piece of text as it is produced.
    public mutating func generate(prompt: [Int], maxTokens: Int,
                                  onText: (String) -> Void) throws -> (FinishReason, GenerationStats) {
        var stats = GenerationStats()
        let clock = ContinuousClock()
        let promptStart = clock.now
        try session.append(prompt)
        stats.promptTokens = prompt.count
        stats.promptSeconds = seconds(clock.now - promptStart)

        let stopTokens = session.model.endOfGenerationTokens
        var detokenizer = StreamingDetokenizer(tokenizer: session.model.tokenizer)
        // Text right after BOS drops SentencePiece's leading space; text continuing a prompt keeps it.
        if let last = session.tokens.last, last != session.model.tokenizer.special.bos {
            detokenizer.markContinuation()
        }
        let generationStart = clock.now
        var reason = FinishReason.length
        while stats.generatedTokens < maxTokens {
            if session.tokens.isEmpty || session.remaining == 0 {
                reason = .contextFull
                break
            }
            let next = sampler.sample(session.logits)
            if stopTokens.contains(next) {
                reason = .stop
                break
            }
            stats.generatedTokens += 1
            onText(detokenizer.append(next))
            if stats.generatedTokens < maxTokens { try session.append([next]) }
        }
        onText(detokenizer.flush())
        stats.generationSeconds = seconds(clock.now - generationStart)
        return (reason, stats)
    }
}

func seconds(_ duration: Duration) -> Double {
    let (s, attoseconds) = duration.components
    return Double(s) + Double(attoseconds) * 1e-18
}
