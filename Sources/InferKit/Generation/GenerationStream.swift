/// Generated text as an AsyncSequence of `GenerationEvent`s: text pieces (with their token
/// ids) and, last, `.finished` with the reason and statistics.
///
/// The stream is pulled: each `next()` computes the next token(s) in the consuming task,
/// so generation never runs ahead of the reader, and cancelling the task (or leaving the
/// loop) stops it after the current token. A cancelled stream still delivers its last
/// events, ending with `.finished(.cancelled, ...)`.
public struct GenerationStream: AsyncSequence, Sendable {
    public typealias Element = GenerationEvent

    /// Called once when generation ends or the stream is abandoned: the text produced and,
    /// when it finished, the statistics and the reason (an abandoned stream: `.cancelled`).
    typealias Completion = @Sendable (_ text: String, _ stats: GenerationStats?, _ reason: FinishReason) -> Void

    private let start: @Sendable () throws -> Generator
    private let completion: Completion?

    init(start: @escaping @Sendable () throws -> Generator, completion: Completion? = nil) {
        self.start = start
        self.completion = completion
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(state: State(start: start, completion: completion))
    }

    public struct Iterator: AsyncIteratorProtocol {
        let state: State

        public mutating func next() async throws -> GenerationEvent? {
            await Task.yield()  // let other tasks run between tokens
            return try state.next(cancelled: Task.isCancelled)
        }
    }

    /// All the text of the stream, concatenated.
    public func text() async throws -> String {
        var text = ""
        for try await event in self {
            if case .text(let piece, _) = event { text += piece }
        }
        return text
    }

    final class State: @unchecked Sendable {
        private let start: @Sendable () throws -> Generator
        private let completion: Completion?
        private var generator: Generator?
        private var text = ""
        private var completed = false

        init(start: @escaping @Sendable () throws -> Generator, completion: Completion?) {
            self.start = start
            self.completion = completion
        }

        func next(cancelled: Bool) throws -> GenerationEvent? {
            if generator == nil {
                guard !completed else { return nil }
                do {
                    generator = try start()
                } catch {
                    completed = true  // nothing was generated: nothing to record
                    throw error
                }
            }
            if cancelled { generator!.cancel() }
            guard let event = try generator!.next() else { return nil }
            switch event {
            case .text(let piece, _): text += piece
            case .finished(let reason, let stats): complete(stats, reason)
            }
            return event
        }

        private func complete(_ stats: GenerationStats?, _ reason: FinishReason) {
            guard !completed else { return }
            completed = true
            completion?(text, stats, reason)
        }

        /// A reader that stopped early still gets its partial answer recorded.
        deinit {
            if generator != nil { complete(nil, .cancelled) }
        }
    }
}

extension Session {
    /// Streams the continuation of `prompt` (the full token sequence; the part the session
    /// already holds is reused, not recomputed). Don't use the session elsewhere until the
    /// stream has finished.
    public func generate(prompt: [Int], parameters: GenerateParameters = GenerateParameters()) -> GenerationStream {
        GenerationStream { try Generator(session: self, prompt: prompt, parameters: parameters) }
    }
}
