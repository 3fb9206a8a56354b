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
/// end-of-generation tokens, stop strings, the token budget or a full context, and yields
/// UTF-8-complete text. Synchronous; `Session.generate` wraps it as an AsyncSequence.
public struct Generator {
    public let session: Session
    private var sampler: SamplerChain
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
    ///     (an answer after "Assistant:" starts with a space).
    public init(session: Session, prompt: [Int], parameters: GenerateParameters,
                dropLeadingWhitespace: Bool = false) throws {
        self.dropLeadingWhitespace = dropLeadingWhitespace
        try parameters.validate()
        guard !prompt.isEmpty else { throw InferError.invalidArgument("the prompt is empty: there is nothing to continue") }
        self.session = session
        sampler = SamplerChain(parameters: parameters)
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
        if !queued.isEmpty { return queued.removeFirst() }
        guard !done else { return nil }
        let start = clock.now
        defer { generationTime += clock.now - start }
        while queued.isEmpty {
            guard let token = try chooseToken() else { break }
            try session.append([token])
            appended(token)
        }
        return queued.isEmpty ? nil : queued.removeFirst()
    }

    // A step of generation in two halves around the token's forward pass, so that several
    // generators can step together (`BatchGenerator` appends their tokens in one pass).

    /// The first half: the token to append to the session next, or nil when generation ends
    /// here (the last events are then queued: `takeEvents()`). Shifts the context first when it
    /// is full.
    mutating func chooseToken() throws -> Int? {
        guard !done else { return nil }
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
        let token = sampler.sample(logits: session.logits, history: session.tokens[...])
        if stopTokens.contains(token) {
            queueFinish(.stop)
            return nil
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
            pendingTokens.removeAll()
        }
    }

    /// The events queued by the halves of a step (or by `cancel()`), in order.
    mutating func takeEvents() -> [GenerationEvent] {
        defer { queued.removeAll() }
        return queued
    }

    /// Whether generation has ended (its last events may still be queued).
    var isDone: Bool { done }

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
            pendingTokens.removeAll()
        }
        queued.append(.finished(reason, stats))
    }
}

func seconds(_ duration: Duration) -> Double {
    let (s, attoseconds) = duration.components
    return Double(s) + Double(attoseconds) * 1e-18
}
