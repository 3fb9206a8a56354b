import InferKit

/// What a slot generates: the prompt's tokens, how to sample, and where the events go.
struct GenerationJob: Sendable {
    let prompt: [Int]
    let parameters: GenerateParameters
    /// Leave out whitespace before the answer's first visible character (a chat answer).
    let dropLeadingWhitespace: Bool
    let events: EventChannel
    /// Called on the generation loop's thread when the job is done with the session, before the
    /// last event is delivered, so that the client's next request finds the slot free.
    let onIdle: @Sendable () -> Void
}

/// One of the server's concurrent generations: a session, whose KV cache keeps its last
/// conversation for the next request that extends it. The slots' jobs run together in the
/// server's one generation loop (`SlotScheduler`); an idle slot's session belongs to the pool.
final class Slot: @unchecked Sendable {
    let index: Int
    /// Used only by the generation loop while a job runs, and by the pool while the slot is idle.
    let session: Session

    init(index: Int, model: Model, contextLength: Int?, threads: Int,
         cacheType: KVCacheType = Session.defaultCacheType) throws {
        self.index = index
        session = try Session(model: model, contextLength: contextLength, threads: threads, cacheType: cacheType)
    }
}
