import Foundation
import InferKit

/// What a slot generates: the prompt's tokens, how to sample, and where the events go.
struct GenerationJob: Sendable {
    let prompt: [Int]
    let parameters: GenerateParameters
    /// Leave out whitespace before the answer's first visible character (a chat answer).
    let dropLeadingWhitespace: Bool
    let events: EventChannel
    /// Called on the slot's thread when the job is done with the session, before the last
    /// event is delivered, so that the client's next request finds the slot free.
    let onIdle: @Sendable () -> Void
}

/// One of the server's concurrent generations: a session, whose KV cache keeps its last
/// conversation for the next request that extends it, and a thread of its own that runs the
/// token loop. Generating is CPU-bound and synchronous; on its own thread it never occupies
/// the few threads of Swift's cooperative pool, which keep serving HTTP meanwhile.
final class Slot: @unchecked Sendable {
    let index: Int
    /// Used only by the slot's thread while a job runs, and by the pool while the slot is idle.
    let session: Session
    private let condition = NSCondition()
    private var pending: GenerationJob?
    private var stopping = false

    /// Prompt tokens computed between checks that the reader is still there.
    static let prefillChunk = 64

    /// Whether an answer that fills the context shifts it and goes on.
    let contextShift: Bool

    init(index: Int, model: Model, contextLength: Int?, threads: Int, cacheType: KVCacheType = Session.defaultCacheType,
         contextShift: Bool = true) throws {
        self.contextShift = contextShift
        self.index = index
        session = try Session(model: model, contextLength: contextLength, threads: threads, cacheType: cacheType)
        let thread = Thread { [self] in loop() }
        thread.name = "infer-slot-\(index)"
        thread.start()
    }

    /// Hands `job` to the slot's thread. The slot must be idle.
    func start(_ job: GenerationJob) {
        condition.withLock {
            precondition(pending == nil, "slot \(index) is busy")
            pending = job
            condition.signal()
        }
    }

    /// Ends the thread once it is idle.
    func stop() {
        condition.withLock {
            stopping = true
            condition.signal()
        }
    }

    private func loop() {
        while true {
            condition.lock()
            while pending == nil && !stopping { condition.wait() }
            guard let job = pending else { return condition.unlock() }
            pending = nil
            condition.unlock()
            run(job)
        }
    }

    private func run(_ job: GenerationJob) {
        let outcome = Result { try generate(job) }
        job.onIdle()
        switch outcome {
        case .success(let last): job.events.finish(last)
        case .failure(let error): job.events.finish(throwing: error)
        }
    }

    /// Runs the generation, sending its events but the last (`.finished`), which it returns.
    private func generate(_ job: GenerationJob) throws -> GenerationEvent? {
        let events = job.events
        let clock = ContinuousClock()
        let start = clock.now
        let reused = session.reuse(prefixOf: job.prompt)
        var prompt = GenerationStats()
        prompt.reusedTokens = reused
        guard try prefill(job) else {
            prompt.promptTokens = session.tokens.count - reused
            return .finished(.cancelled, prompt)
        }
        prompt.promptTokens = job.prompt.count - reused
        prompt.promptSeconds = seconds(clock.now - start)

        var parameters = job.parameters
        parameters.contextShift = contextShift
        var generator = try Generator(session: session, prompt: job.prompt, parameters: parameters,
                                      dropLeadingWhitespace: job.dropLeadingWhitespace)
        var last: GenerationEvent?
        while let event = try generator.next() {
            if events.shouldStop { generator.cancel() }
            if case .finished(let reason, var stats) = event {
                // The generator found the prompt already computed (by `prefill`): the prompt's
                // counts and time are the ones measured here.
                stats.reusedTokens = prompt.reusedTokens
                stats.promptTokens = prompt.promptTokens
                stats.promptSeconds += prompt.promptSeconds
                last = .finished(reason, stats)
            } else {
                events.send(event, logprobs: generator.logprobs)
            }
        }
        return last
    }

    /// Computes the prompt, except its last token (the generator computes that one, for the
    /// logits), a chunk at a time so that a client that leaves during a long prompt frees the
    /// slot soon. Returns false when it stopped early.
    private func prefill(_ job: GenerationJob) throws -> Bool {
        let end = job.prompt.count - 1
        while session.tokens.count < end {
            if job.events.shouldStop { return false }
            let from = session.tokens.count
            try session.append(Array(job.prompt[from..<min(end, from + Self.prefillChunk)]))
        }
        return true
    }
}

private func seconds(_ duration: Duration) -> Double {
    let (s, attoseconds) = duration.components
    return Double(s) + Double(attoseconds) * 1e-18
}
