extension Session {
    /// Streams the continuation of `prompt` as an AsyncSequence of events: text pieces (with
    /// their token ids) and, last, `.finished` with the reason and statistics. Cancelling the
    /// consuming task stops generation after the current token. The part of `prompt` the
    /// session already holds is reused, not recomputed. Don't use the session elsewhere
    /// until the stream has finished.
    public func generate(prompt: [Int], parameters: GenerateParameters = GenerateParameters())
        -> AsyncThrowingStream<GenerationEvent, any Error>
    {
        AsyncThrowingStream { continuation in
            let task = Task.detached {
                do {
                    var generator = try Generator(session: self, prompt: prompt, parameters: parameters)
                    while let event = try generator.next() {
                        if Task.isCancelled { generator.cancel() }
                        continuation.yield(event)
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

extension AsyncThrowingStream where Element == GenerationEvent {
    /// All the text of the stream, concatenated.
    public func text() async throws -> String {
        var text = ""
        for try await event in self {
            if case .text(let piece, _) = event { text += piece }
        }
        return text
    }
}
