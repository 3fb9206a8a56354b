/// Generates several continuations at once, each in its own session: at every `step()`, the next
/// token of every generation past its prompt goes through one forward pass (`BatchDecoder`: the
/// weights read once for all of them), after a chunk of one prompt still being computed, so that a
/// long prompt holds the others up by a chunk at a time and a short one starts at the next step.
/// Each generation samples, stops and streams as `Generator` does, with its own parameters (its
/// own seed: the same tokens as alone); its greedy tokens are the ones it gets alone, since a
/// batched step gives each session the logits it gets alone, bit for bit.
///
/// Generations join (`add`) and leave (`cancel`, `remove`, or when they finish) between steps.
/// Use a batch from one task or thread at a time; it owns the sessions of its generations while
/// they run.
///
/// ```swift
/// let batch = try BatchGenerator(model: model)
/// for prompt in prompts {
///     try batch.add(session: try Session(model: model), prompt: prompt, parameters: .greedy)
/// }
/// while !batch.isEmpty {
///     for update in try batch.step() { ... }   // (id, event) pairs: text pieces, then .finished
/// }
/// ```
public final class BatchGenerator: @unchecked Sendable {
    /// What a step did to one generation: an event (text, or the end), or the error it failed
    /// with (it is then over).
    public struct Update: Sendable {
        public let id: Int
        public let result: Result<GenerationEvent, any Error>
        /// With `GenerateParameters.logprobs`: the log-probabilities of a `.text` event's tokens.
        public var logprobs: [TokenLogprob] = []

        /// The event, or nil for a failure.
        public var event: GenerationEvent? { try? result.get() }
    }

    public let model: Model
    /// Most prompt tokens computed in one step (one prompt's chunk) while other generations are
    /// producing tokens: a smaller chunk lets them go on sooner, a larger one computes a long
    /// prompt faster. With no generation producing tokens, a step takes a chunk of
    /// `Session.defaultBatchSize` (or this, if larger): nobody waits for it.
    public var promptChunk: Int
    /// The default `promptChunk`: a chunk of 64 tokens holds the other streams up for a fraction
    /// of a second on a small model, and computes at nearly the rate of 256-token passes.
    public static let defaultPromptChunk = 64

    private let decoder: BatchDecoder
    private var members: [Member] = []
    private var nextID = 0
    private var steps = 0
    private let clock = ContinuousClock()

    /// - Parameter threads: threads of the batched steps, the caller's included (default: the
    ///   cores this process may use). Each session computes its prompt on its own threads.
    public init(model: Model, threads: Int? = nil, promptChunk: Int = BatchGenerator.defaultPromptChunk) throws {
        guard promptChunk >= 1 else { throw InferError.invalidArgument("the prompt chunk must be at least 1 token, not \(promptChunk)") }
        self.model = model
        self.promptChunk = promptChunk
        decoder = try BatchDecoder(model: model, threads: threads)
    }

    /// Generations in progress (those whose `.finished` a step has not yet returned).
    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }
    /// The ids of the generations in progress, in the order they were added.
    public var ids: [Int] { members.map(\.id) }
    /// Whether generation `id` is still computing its prompt (it has produced no token yet).
    public func isComputingPrompt(_ id: Int) -> Bool { member(id)?.generator == nil }

    /// Starts generating the continuation of `prompt` in `session` (the part of the prompt the
    /// session already holds is reused, not computed again), from the next step on. Returns the
    /// generation's id, which the updates of `step()` carry.
    /// - Parameter dropLeadingWhitespace: as `Generator`'s (an answer after "Assistant:").
    /// - Throws: `InferError` for parameters out of range, an empty prompt, a token outside the
    ///   vocabulary, a prompt longer than the session's context, a session of another model or one
    ///   already generating in this batch. Nothing is added then.
    @discardableResult
    public func add(session: Session, prompt: [Int], parameters: GenerateParameters,
                    dropLeadingWhitespace: Bool = false) throws -> Int {
        try parameters.validate()
        guard !prompt.isEmpty else { throw InferError.invalidArgument("the prompt is empty: there is nothing to continue") }
        guard session.model === model else {
            throw InferError.invalidArgument("a session of another model (\(session.model.path)) cannot generate in a batch of \(model.path)")
        }
        guard !members.contains(where: { $0.session === session }) else {
            throw InferError.invalidArgument("the session is already generating in this batch")
        }
        guard prompt.count <= session.contextLength else {
            throw InferError.contextFull(needed: prompt.count, capacity: session.contextLength)
        }
        let vocabulary = model.config.vocabularySize
        if let bad = prompt.first(where: { $0 < 0 || $0 >= vocabulary }) {
            throw InferError.invalidArgument("token id \(bad) is outside the vocabulary (0..<\(vocabulary))")
        }
        let reused = session.reuse(prefixOf: prompt)
        nextID += 1
        members.append(Member(id: nextID, session: session, prompt: prompt, reused: reused, parameters: parameters,
                              dropLeadingWhitespace: dropLeadingWhitespace))
        return nextID
    }

    /// Ends generation `id` early: the next step returns its held-back text and
    /// `.finished(.cancelled, ...)`. Unknown or finished ids are ignored.
    public func cancel(_ id: Int) {
        member(id)?.cancelled = true
    }

    /// Drops generation `id` at once, with no further updates (its reader is gone); its session
    /// keeps what it computed. Unknown or finished ids are ignored.
    public func remove(_ id: Int) {
        members.removeAll { $0.id == id }
    }

    /// One step: the cancelled generations end; one prompt chunk is computed (the shortest prompt
    /// that fits in a chunk, else the one that waited longest since its last; see `promptChunk`
    /// for its size); then every generation
    /// past its prompt, except those in `paused`, gets its next token, all in one forward pass.
    /// Returns the updates in order; a generation's last is its `.finished` event or its failure,
    /// after which it is no longer in the batch. A paused generation keeps its place and goes on
    /// in a later step (a reader that is behind, say).
    public func step(pausing paused: Set<Int> = []) -> [Update] {
        steps += 1
        var updates: [Update] = []
        for m in members where m.cancelled { cancelNow(m, into: &updates) }
        let generating = members.contains { $0.generator != nil && !paused.contains($0.id) }
        let chunk = generating ? promptChunk : max(promptChunk, Session.defaultBatchSize)
        if let m = nextPrompt(chunk: chunk) { computeChunk(of: m, size: chunk, into: &updates) }

        // The generations that take part: each chooses its token (or ends).
        var stepping: [(member: Member, token: Int)] = []
        let ready = members.filter { $0.generator != nil && !paused.contains($0.id) }
        let choices = chooseTokens(ready)
        for (m, choice) in zip(ready, choices) {
            switch choice {
            case .success(let token?): stepping.append((m, token))
            case .success(nil): emit(m, into: &updates)
            case .failure(let error): fail(m, error, into: &updates)
            }
        }
        guard !stepping.isEmpty else { return updates }
        do {
            try decoder.append(stepping.map(\.token), to: stepping.map(\.member.session))
        } catch {
            for (m, _) in stepping { fail(m, error, into: &updates) }
            return updates
        }
        for (m, token) in stepping {
            m.generator!.appended(token)
            emit(m, into: &updates)
        }
        return updates
    }

    // MARK: Steps

    private func member(_ id: Int) -> Member? { members.first { $0.id == id } }

    /// The prompt whose chunk this step computes: the one with the fewest tokens left if it fits
    /// in a chunk (it can start generating at once), else the one that waited longest.
    private func nextPrompt(chunk: Int) -> Member? {
        let waiting = members.filter { $0.generator == nil && !$0.cancelled }
        if let short = waiting.filter({ $0.pending.count <= chunk }).min(by: { $0.pending.count < $1.pending.count }) {
            return short
        }
        return waiting.min { $0.lastChunk < $1.lastChunk }
    }

    /// Computes the next chunk of `m`'s prompt (`size` tokens at most); with the last, starts its
    /// generator.
    private func computeChunk(of m: Member, size: Int, into updates: inout [Update]) {
        let start = clock.now
        do {
            let chunk = Array(m.pending.prefix(size))
            if !chunk.isEmpty { try m.session.append(chunk) }
            m.pending = m.pending.dropFirst(chunk.count)
            m.lastChunk = steps
            if m.pending.isEmpty {
                // The session holds the prompt and its logits: the generator computes nothing.
                m.generator = try Generator(session: m.session, prompt: m.prompt, parameters: m.parameters,
                                            dropLeadingWhitespace: m.dropLeadingWhitespace)
                m.generationStart = clock.now
            }
        } catch {
            return fail(m, error, into: &updates)
        }
        m.promptTime += clock.now - start
    }

    /// Each generator's next token (nil: it ended), sampled in parallel when there are several
    /// (sampling reads the whole vocabulary's logits; each generator only its own session).
    private func chooseTokens(_ ready: [Member]) -> [Result<Int?, any Error>] {
        var results = [Result<Int?, any Error>](repeating: .success(nil), count: ready.count)
        let parts = ready.count >= 2 && model.config.vocabularySize >= Self.parallelSamplingVocabulary
            ? min(ready.count, decoder.threadCount) : 1
        results.withUnsafeMutableBufferPointer { out in
            parallelFor(parts) { p in  // each part its own generators and results
                for i in stride(from: p, to: ready.count, by: parts) {
                    out[i] = Result { try ready[i].generator!.chooseToken() }
                }
            }
        }
        return results
    }

    /// Vocabularies from which sampling several generators in parallel pays for the threads'
    /// start (a sampler reads and ranks every logit).
    static let parallelSamplingVocabulary = 16384

    /// Ends `m` at once with `.finished(.cancelled)`: after its held-back text when it was
    /// generating, with the prompt tokens computed so far when it was not.
    private func cancelNow(_ m: Member, into updates: inout [Update]) {
        if m.generator != nil {
            m.generator!.cancel()
            return emit(m, into: &updates)
        }
        members.removeAll { $0 === m }
        updates.append(Update(id: m.id, result: .success(.finished(.cancelled, m.stats(GenerationStats())))))
    }

    /// Passes on the events `m`'s generator queued; after `.finished`, `m` leaves the batch.
    private func emit(_ m: Member, into updates: inout [Update]) {
        for (event, logprobs) in m.generator!.takeEvents() {
            if case .finished(let reason, let stats) = event {
                members.removeAll { $0 === m }
                var stats = m.stats(stats)
                stats.generationSeconds = seconds(clock.now - (m.generationStart ?? clock.now))
                updates.append(Update(id: m.id, result: .success(.finished(reason, stats))))
            } else {
                updates.append(Update(id: m.id, result: .success(event), logprobs: logprobs))
            }
        }
    }

    private func fail(_ m: Member, _ error: any Error, into updates: inout [Update]) {
        members.removeAll { $0 === m }
        updates.append(Update(id: m.id, result: .failure(error)))
    }

    /// One generation of the batch.
    private final class Member {
        let id: Int
        let session: Session
        let prompt: [Int]
        let reused: Int
        let parameters: GenerateParameters
        let dropLeadingWhitespace: Bool
        /// Prompt tokens still to compute.
        var pending: ArraySlice<Int>
        /// Once the prompt is computed.
        var generator: Generator?
        var cancelled = false
        /// The step that computed its last prompt chunk (0: none yet).
        var lastChunk = 0
        /// Time spent computing its prompt chunks.
        var promptTime: Duration = .zero
        /// When it started generating.
        var generationStart: ContinuousClock.Instant?

        init(id: Int, session: Session, prompt: [Int], reused: Int, parameters: GenerateParameters,
             dropLeadingWhitespace: Bool) {
            self.id = id
            self.session = session
            self.prompt = prompt
            self.reused = reused
            self.parameters = parameters
            self.dropLeadingWhitespace = dropLeadingWhitespace
            pending = prompt[reused...]
        }

        /// `generated` with this generation's prompt counts and time.
        func stats(_ generated: GenerationStats) -> GenerationStats {
            var stats = generated
            stats.reusedTokens = reused
            stats.promptTokens = prompt.count - reused - pending.count
            stats.promptSeconds = seconds(promptTime)
            return stats
        }
    }
}
