/// Why generation ended.
public enum FinishReason: String, Sendable, Equatable {
    /// The model produced an end-of-generation token (EOS, end of turn).
    case stop
    /// A stop string was produced.
    case stopString
    /// The token budget was used up.
    case length
    /// The session's context is full.
    case contextFull
    /// The caller stopped it (Ctrl-C, task cancellation).
    case cancelled
}

/// Counts and timings of one generation.
public struct GenerationStats: Sendable, Equatable {
    /// Prompt tokens that were computed (tokens reused from the KV cache are not).
    public var promptTokens = 0
    /// Prompt tokens whose keys and values were already in the session.
    public var reusedTokens = 0
    public var generatedTokens = 0
    public var promptSeconds = 0.0
    public var generationSeconds = 0.0
    /// Times the context was full and shifted during generation.
    public var contextShifts = 0
    /// Of `generationSeconds`, the time the grammar took to find the allowed tokens.
    public var grammarSeconds = 0.0

    public init() {}

    public var promptTokensPerSecond: Double { promptSeconds > 0 ? Double(promptTokens) / promptSeconds : 0 }
    public var generationTokensPerSecond: Double {
        generationSeconds > 0 ? Double(generatedTokens) / generationSeconds : 0
    }
}

/// One step of generation: text that became ready, or the end.
public enum GenerationEvent: Sendable, Equatable {
    /// Text ready to show (UTF-8 complete, stop strings removed) and the tokens that produced it.
    case text(String, tokens: [Int])
    /// Generation ended.
    case finished(FinishReason, GenerationStats)
}

/// Generates from a session one token at a time: samples with the chain, stops on
/// end-of-generation tokens, stop strings, a complete grammar, the token budget or a full
/// context, and yields UTF-8-complete text. Synchronous; `Session.generate` wraps it as an
/// AsyncSequence.
public struct Generator {
    public let session: Session
    private var sampler: SamplerChain
    /// Follows `GenerateParameters.grammar`, when there is one.
    public let grammar: GrammarMatcher?
    private let logprobCount: Int?
    private var pendingLogprobs: [TokenLogprob] = []
    /// With `GenerateParameters.logprobs`: the log-probabilities of the tokens of the last
    /// `.text` event `next()` returned, one per token.
    public private(set) var logprobs: [TokenLogprob] = []
    private var queuedLogprobs: [[TokenLogprob]] = []
    private var detokenizer: StreamingDetokenizer
    private var stopStrings: StopStringMatcher
    private let stopTokens: Set<Int>
    private let maxTokens: Int?
    /// Tokens a context shift keeps at the start; nil: no shifts.
    private let shiftKeeps: Int?
    private var stats: GenerationStats
    private var done = false
    private var queued: [GenerationEvent] = []
    private var pendingTokens: [Int] = []
    private var dropLeadingWhitespace: Bool
    private let clock = ContinuousClock()
    private var generationTime: Duration = .zero

    /// Appends `prompt` to the session (reusing any cached prefix) and prepares to generate.
    /// - Parameters:
    ///   - prompt: the full token sequence the model should continue; the part the session
    ///     already holds is not computed again.
    ///   - dropLeadingWhitespace: leave out whitespace before the first visible character
    ///     (an answer after "Assistant:" starts with a space). Not with a grammar: the
    ///     grammar decides what comes first.
    /// - Throws: `InferError` for parameters out of range, `GrammarError` for a grammar whose
    ///   token terminals the vocabulary does not have.
    public init(session: Session, prompt: [Int], parameters: GenerateParameters,
                dropLeadingWhitespace: Bool = false) throws {
        self.dropLeadingWhitespace = dropLeadingWhitespace && parameters.grammar == nil
        try parameters.validate()
        guard !prompt.isEmpty else { throw InferError.invalidArgument("the prompt is empty: there is nothing to continue") }
        let vocabularySize = session.model.tokenizer.vocabularySize
        if let token = parameters.logitBias.keys.first(where: { !(0..<vocabularySize).contains($0) }) {
            throw InferError.invalidArgument("logit bias for token \(token), which is outside the vocabulary (0..<\(vocabularySize))")
        }
        self.session = session
        // The detokenizer drops the first token's leading space at the start of a text; so
        // must the grammar.
        let startsText = prompt.last == session.model.tokenizer.special.bos
        grammar = try parameters.grammar.map {
            try GrammarMatcher(grammar: $0, model: session.model,
                               skipsLeadingSpace: startsText && session.model.tokenizer.stripsLeadingSpace)
        }
        logprobCount = parameters.logprobs
        sampler = SamplerChain(parameters: parameters, grammar: grammar)
        stopStrings = StopStringMatcher(parameters.stop)
        stopTokens = session.model.endOfGenerationTokens
        maxTokens = parameters.maxTokens
        let bos = prompt.first == session.model.tokenizer.special.bos ? 1 : 0
        shiftKeeps = parameters.contextShift ? parameters.keep + bos : nil
        detokenizer = StreamingDetokenizer(tokenizer: session.model.tokenizer)
        stats = GenerationStats()

        let start = clock.now
        let reused = session.reuse(prefixOf: prompt)
        // Text continuing a prompt keeps its leading space; only text right after BOS drops it.
        if prompt.last != session.model.tokenizer.special.bos { detokenizer.markContinuation() }
        try session.append(Array(prompt[reused...]))
        stats.reusedTokens = reused
        stats.promptTokens = prompt.count - reused
        stats.promptSeconds = seconds(clock.now - start)
    }

    /// The next event; nil after `.finished` has been returned.
    public mutating func next() throws -> GenerationEvent? {
        if let event = takeQueued() { return event }
        guard !done else { return nil }
        let start = clock.now
        defer { generationTime += clock.now - start }
        while queued.isEmpty {
            guard let token = try chooseToken() else { break }
            try session.append([token])
            appended(token)
        }
        return takeQueued()
    }

    /// The first queued event, its tokens' log-probabilities in `logprobs`.
    private mutating func takeQueued() -> GenerationEvent? {
        guard !queued.isEmpty else { return nil }
        logprobs = queuedLogprobs.removeFirst()
        return queued.removeFirst()
    }

    // A step of generation in two halves around the token's forward pass, so that several
    // generators can step together (`BatchGenerator` appends their tokens in one pass).

    /// The first half: the token to append to the session next, or nil when generation ends
    /// here (the last events are then queued: `takeEvents()`). Shifts the context first when it
    /// is full.
    mutating func chooseToken() throws -> Int? {
        guard !done else { return nil }
        if let grammar, grammar.isComplete {
            queueFinish(.stop)
            return nil
        }
        if let maxTokens, stats.generatedTokens >= maxTokens {
            queueFinish(.length)
            return nil
        }
        if session.remaining == 0 {
            // Shift: keep the first tokens, drop half of the rest, go on.
            let held = session.tokens.count
            guard let shiftKeeps, case let keep = min(shiftKeeps, held - 1), (held - keep) / 2 > 0 else {
                queueFinish(.contextFull)
                return nil
            }
            try session.shiftContext(keep: keep, discard: (held - keep) / 2)
            stats.contextShifts += 1
        }
        if let grammar {
            // The mask is computed here, timed, and kept by the matcher for the sampler's grammar step.
            let maskStart = clock.now
            let allowed = grammar.allowedTokens()
            stats.grammarSeconds += seconds(clock.now - maskStart)
            if let failure = grammar.failure { throw failure }
            if allowed.isEmpty {
                throw InferError.invalidArgument("the grammar cannot go on: no token of the vocabulary continues it after \(stats.generatedTokens) tokens")
            }
        }
        let token = sampler.sample(logits: session.logits, history: session.tokens[...])
        if stopTokens.contains(token) {
            queueFinish(.stop)
            return nil
        }
        if let grammar, !grammar.accept(token) {
            // Following an allowed token can still pass the grammar's limits.
            if let failure = grammar.failure { throw failure }
            throw InferError.invalidArgument("the sampler chose token \(token), which the grammar does not allow")
        }
        if let logprobCount {
            pendingLogprobs.append(TokenLogprob(token: token, logits: session.logits, top: logprobCount))
        }
        stats.generatedTokens += 1
        return token
    }

    /// The second half, once the session holds `token`: queues the text it completes, if any, or
    /// the last events when it completes a stop string.
    mutating func appended(_ token: Int) {
        pendingTokens.append(token)
        var piece = detokenizer.append(token)
        if dropLeadingWhitespace {
            piece = String(piece.drop(while: \.isWhitespace))
            dropLeadingWhitespace = piece.isEmpty
        }
        let (text, stopped) = stopStrings.feed(piece)
        if stopped { return queueFinish(.stopString, text: text) }
        if !text.isEmpty {
            queued.append(.text(text, tokens: pendingTokens))
            queuedLogprobs.append(pendingLogprobs)
            pendingTokens.removeAll()
            pendingLogprobs.removeAll()
        }
    }

    /// The events queued by the halves of a step (or by `cancel()`), in order, each with the
    /// log-probabilities of its tokens (empty unless `GenerateParameters.logprobs` asked).
    mutating func takeEvents() -> [(event: GenerationEvent, logprobs: [TokenLogprob])] {
        defer {
            queued.removeAll()
            queuedLogprobs.removeAll()
        }
        return Array(zip(queued, queuedLogprobs)).map { (event: $0.0, logprobs: $0.1) }
    }

    /// Ends generation early (the caller was cancelled); the next events release
    /// held-back text and report `.cancelled`.
    public mutating func cancel() {
        guard !done else { return }
        queueFinish(.cancelled)
    }

    /// Queues the final events: held-back text, then `.finished`.
    private mutating func queueFinish(_ reason: FinishReason, text: String = "") {
        done = true
        var remaining = text
        if reason != .stopString {
            let (tail, stopped) = stopStrings.feed(detokenizer.flush())
            remaining += stopped ? tail : tail + stopStrings.flush()
        }
        stats.generationSeconds = seconds(generationTime)
        if !remaining.isEmpty || !pendingTokens.isEmpty {
            queued.append(.text(remaining, tokens: pendingTokens))
            queuedLogprobs.append(pendingLogprobs)
            pendingTokens.removeAll()
            pendingLogprobs.removeAll()
        }
        queued.append(.finished(reason, stats))
        queuedLogprobs.append([])
    }
}

func seconds(_ duration: Duration) -> Double {
    let (s, attoseconds) = duration.components
    return Double(s) + Double(attoseconds) * 1e-18
}
