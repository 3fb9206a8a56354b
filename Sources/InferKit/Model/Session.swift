/// The mutable state of one sequence over a shared `Model`: its KV cache and the tokens
/// it holds. Appending tokens only computes the new ones, so a conversation never
/// reprocesses its history. Use a session from one task at a time (it is Sendable so that
/// it can move to the task that generates).
public final class Session: @unchecked Sendable {
    public let model: Model
    /// Positions this session can hold.
    public let contextLength: Int
    /// Every token processed so far, in order.
    public private(set) var tokens: [Int] = []
    /// Threads this session computes with, itself included.
    public var threadCount: Int { pool.threadCount }
    private let cache: KVCache
    private let buffers: ForwardBuffers
    private let pool: ThreadPool

    /// - Parameters:
    ///   - contextLength: positions to reserve; defaults to the model's trained context,
    ///     at most 4096.
    ///   - threads: threads for the matrix products and attention, the caller's included;
    ///     defaults to the number of cores this process may use.
    public init(model: Model, contextLength: Int? = nil, threads: Int? = nil) throws {
        let length = contextLength ?? min(model.config.contextLength, 4096)
        guard length > 0, length <= 1 << 20 else {
            throw InferError.invalidArgument("context length \(length) is out of range (1...\(1 << 20))")
        }
        let threadCount = threads ?? ThreadPool.defaultThreadCount
        guard threadCount >= 1, threadCount <= ThreadPool.maxThreadCount else {
            throw InferError.invalidArgument("thread count \(threadCount) is out of range (1...\(ThreadPool.maxThreadCount))")
        }
        self.model = model
        self.contextLength = length
        cache = KVCache(layerCount: model.config.layerCount, capacity: length, kvDim: model.config.kvDim)
        buffers = ForwardBuffers(config: model.config, context: length)
        pool = ThreadPool(threads: threadCount)
    }

    /// Positions still free.
    public var remaining: Int { contextLength - tokens.count }

    /// Processes `newTokens` after the ones already held; afterwards `logits` scores the
    /// token that follows the last one.
    public func append(_ newTokens: [Int]) throws {
        guard newTokens.count <= remaining else {
            throw InferError.contextFull(needed: tokens.count + newTokens.count, capacity: contextLength)
        }
        let vocabulary = model.config.vocabularySize
        if let bad = newTokens.first(where: { $0 < 0 || $0 >= vocabulary }) {
            throw InferError.invalidArgument("token id \(bad) is outside the vocabulary (0..<\(vocabulary))")
        }
        for token in newTokens {
            model.transformer.forward(token: token, position: tokens.count, cache: cache, buffers: buffers, pool: pool)
            tokens.append(token)
        }
    }

    /// Next-token scores after the last appended token (valid until the next append).
    public var logits: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: buffers.logits, count: model.config.vocabularySize)
    }

    /// Keeps the longest common prefix of the held tokens and `prompt` (so it is not
    /// computed again) and forgets the rest. At least the last prompt token is left to
    /// compute, since the logits must come from it. Returns the number of tokens kept.
    @discardableResult
    public func reuse(prefixOf prompt: [Int]) -> Int {
        var common = 0
        let limit = min(tokens.count, prompt.count - 1)
        while common < limit && tokens[common] == prompt[common] { common += 1 }
        rewind(to: common)
        return common
    }

    /// Forgets every token after the first `count`, keeping their cached keys and values.
    public func rewind(to count: Int) {
        tokens.removeLast(max(0, tokens.count - max(0, count)))
    }

    /// Forgets everything.
    public func reset() { tokens.removeAll() }
}
