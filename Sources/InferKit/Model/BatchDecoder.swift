/// Appends one token to each of several sessions in one forward pass: every weight matrix is read
/// once for all of their tokens, and each session's attention runs over its own KV cache. One
/// token's pass is bound by reading the weights, so several sessions step together in little more
/// than the time of one. Each session ends as it would after `append([token])` alone: the same
/// cache contents and, bit for bit, the same logits (the products' kernels give every input the
/// result of the one-input kernels).
///
/// The sessions must be of the decoder's model; the decoder computes on threads of its own (a
/// single session steps on its own threads, as `append` does). Use a decoder, and the sessions it
/// steps, from one task at a time.
public final class BatchDecoder: @unchecked Sendable {
    public let model: Model
    /// Threads a step computes with, the caller's included.
    public var threadCount: Int { pool.threadCount }
    private let pool: ThreadPool
    /// The forward pass of up to `TokenForward.maxCapacity` tokens, made for the longest context
    /// it has met.
    private var forward: TokenForward?

    /// - Parameter threads: threads for a step, the caller's included; defaults to the number of
    ///   cores this process may use.
    public init(model: Model, threads: Int? = nil) throws {
        let threadCount = threads ?? ThreadPool.defaultThreadCount
        guard threadCount >= 1, threadCount <= ThreadPool.maxThreadCount else {
            throw InferError.invalidArgument("thread count \(threadCount) is out of range (1...\(ThreadPool.maxThreadCount))")
        }
        self.model = model
        pool = ThreadPool(threads: threadCount)
    }

    /// Appends `tokens[i]` to `sessions[i]` for every i, all in one pass over the weights (several
    /// passes of `TokenForward.maxCapacity` sessions each, for more); afterwards each session's
    /// `logits` score the token after its new one.
    /// - Throws: `InferError.invalidArgument` for sessions of another model, a session given twice,
    ///   counts that differ or a token outside the vocabulary; `InferError.contextFull` for a
    ///   session with no position left. Nothing is computed then.
    public func append(_ tokens: [Int], to sessions: [Session]) throws {
        guard tokens.count == sessions.count else {
            throw InferError.invalidArgument("\(tokens.count) tokens for \(sessions.count) sessions: one token each")
        }
        var seen = Set<ObjectIdentifier>()
        for (session, token) in zip(sessions, tokens) {
            guard session.model === model else {
                throw InferError.invalidArgument("a session of another model (\(session.model.path)) cannot step with \(model.path)")
            }
            guard seen.insert(ObjectIdentifier(session)).inserted else {
                throw InferError.invalidArgument("a session appears twice in one step")
            }
            try session.check([token])
        }
        if sessions.count == 1 { return try sessions[0].append(tokens) }
        guard !sessions.isEmpty else { return }
        let context = sessions.map(\.contextLength).max()!
        if forward.map({ $0.context < context }) ?? true {
            forward = TokenForward(weights: model.transformer.weights, config: model.config, context: context,
                                   capacity: TokenForward.maxCapacity, threads: pool.threadCount)
        }
        let forward = forward!
        for first in stride(from: 0, to: sessions.count, by: forward.capacity) {
            let part = first..<min(sessions.count, first + forward.capacity)
            forward.run(part.map { sessions[$0].stepEntry(token: tokens[$0]) }, on: pool)
            for i in part { sessions[i].didAppendInStep(tokens[i]) }
        }
    }
}
