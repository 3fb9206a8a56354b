import CKernels

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
    /// Most prompt tokens processed in one batched pass (matrix–matrix products); a longer
    /// append goes through in several batches. 1 processes every token on its own.
    public var batchSize = Session.defaultBatchSize
    public static let defaultBatchSize = 256
    /// Fewer tokens than this go through the one-token path, one at a time. A batched pass
    /// first packs or widens every weight tile, which pays off only from some number of
    /// tokens on, and that number is larger where the one-token kernels are fast: 16 where the
    /// model has q4_K interleaved copies, 12 with q4_0 copies, 4 otherwise (the measurements:
    /// Benchmarks/README.md, "Design decisions and their measurements").
    public var smallestBatch: Int
    private let cache: KVCache
    private let pool: ThreadPool
    /// The one-token forward pass over this session's cache.
    private let tokenForward: TokenForward
    /// The rotations of this session's positions (every forward pass over its cache uses them).
    let rotary: RotaryAngles
    private var buffers: ForwardBuffers { tokenForward.buffers }
    private lazy var batchBuffers = BatchBuffers(config: model.config, context: contextLength, threads: threadCount)

    /// - Parameters:
    ///   - contextLength: positions to reserve; defaults to the model's trained context,
    ///     at most 4096.
    ///   - threads: threads for the matrix products and attention, the caller's included;
    ///     defaults to the number of cores this process may use.
    ///   - cacheType: how the KV cache stores keys and values (f16 by default, as llama.cpp).
    public init(model: Model, contextLength: Int? = nil, threads: Int? = nil,
                cacheType: KVCacheType = Session.defaultCacheType) throws {
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
        cache = try KVCache(config: model.config, capacity: length, batchLimit: Session.defaultBatchSize, type: cacheType)
        pool = ThreadPool(threads: threadCount)
        rotary = RotaryAngles(rope: model.config.block.rope, contextLength: cache.capacity)
        tokenForward = TokenForward(weights: model.transformer.weights, config: model.config, context: cache.capacity,
                                    threads: pool.threadCount)
        let interleaved = model.transformer.weights.layers.first.map {
            [$0.wq, $0.gate, $0.up, $0.down].compactMap { ($0.columnParts.first ?? $0).interleaved?.type }
        } ?? []
        smallestBatch = interleaved.contains(INFER_TYPE_Q4_K_X8) ? 16 : interleaved.contains(INFER_TYPE_Q4_0_X8) ? 12 : 4
    }

    /// How sessions store keys and values unless told otherwise.
    public static let defaultCacheType = KVCacheType.f16

    /// How this session's KV cache stores keys and values.
    public var cacheType: KVCacheType { cache.type }

    /// Whether `logits` scores the token after the last one held.
    private var logitsCurrent = false

    /// The session's KV cache (tests look into it).
    var kvCache: KVCache { cache }

    /// Bytes the KV cache reserves (sliding-window layers keep only their window and a batch).
    public var cacheBytes: Int { cache.byteCount }

    /// Positions still free.
    public var remaining: Int { contextLength - tokens.count }

    /// Processes `newTokens` after the ones already held; afterwards `logits` scores the
    /// token that follows the last one.
    public func append(_ newTokens: [Int]) throws {
        try append(newTokens, scoring: newTokens.count - 1..<newTokens.count) { _, _ in }
    }

    /// Processes `newTokens` like `append(_:)`, and hands `body` the next-token scores after
    /// each token whose index in `newTokens` is in `scored`, in order: (index, logits).
    /// This is what a perplexity measurement needs. `logits` afterwards scores the token
    /// after the last one only if that index was scored.
    public func append(_ newTokens: [Int], scoring scored: Range<Int>,
                       _ body: (Int, UnsafeBufferPointer<Float>) throws -> Void) throws {
        try check(newTokens)
        guard !newTokens.isEmpty else { return }
        logitsCurrent = false
        let vocabulary = model.config.vocabularySize
        let step = max(1, min(batchSize, cache.batchLimit))
        for first in stride(from: 0, to: newTokens.count, by: step) {
            let chunk = first..<min(newTokens.count, first + step)
            let wanted = chunk.clamped(to: scored)
            if chunk.count < max(2, smallestBatch) {
                for index in chunk {
                    tokenForward.run(token: newTokens[index], position: tokens.count, cache: cache, rotary: rotary, on: pool)
                    tokens.append(newTokens[index])
                    cache.didWrite(upTo: tokens.count)
                    if wanted.contains(index) { try body(index, logits) }
                }
                continue
            }
            let b = batchBuffers
            b.reserve(tokens: chunk.count)
            // One row of scores goes straight where `logits` reads it; several to the batch buffer.
            b.reserve(logitRows: wanted.count > 1 ? wanted.count : 0)
            let out = wanted.count > 1 ? b.logits! : buffers.logits
            model.transformer.forward(batch: newTokens[chunk], start: tokens.count, cache: cache,
                                      rotary: rotary, buffers: b,
                                      threads: threadCount, logitRows: (wanted.lowerBound - first)..<(wanted.upperBound - first), into: out)
            tokens.append(contentsOf: newTokens[chunk])
            cache.didWrite(upTo: tokens.count)
            for (row, index) in wanted.enumerated() {
                try body(index, UnsafeBufferPointer(start: out + row * vocabulary, count: vocabulary))
            }
            if wanted.count > 1 && wanted.upperBound == newTokens.count {
                buffers.logits.update(from: out + (wanted.count - 1) * vocabulary, count: vocabulary)
            }
        }
        logitsCurrent = scored.contains(newTokens.count - 1)
    }

    /// This session's part in a step of several sessions (`BatchDecoder`): `token` goes at the next
    /// position, its logits where `logits` reads them. Call `check(_:)` first and
    /// `didAppendInStep(_:)` after the step.
    func stepEntry(token: Int) -> TokenForward.Entry {
        TokenForward.Entry(token: token, position: tokens.count, cache: cache, rotary: rotary, logits: buffers.logits)
    }

    /// `token` went into the cache in a step of several sessions; `logits` now scores the next.
    func didAppendInStep(_ token: Int) {
        tokens.append(token)
        cache.didWrite(upTo: tokens.count)
        logitsCurrent = true
    }

    func check(_ newTokens: [Int]) throws {
        guard newTokens.count <= remaining else {
            throw InferError.contextFull(needed: tokens.count + newTokens.count, capacity: contextLength)
        }
        let vocabulary = model.config.vocabularySize
        if let bad = newTokens.first(where: { $0 < 0 || $0 >= vocabulary }) {
            throw InferError.invalidArgument("token id \(bad) is outside the vocabulary (0..<\(vocabulary))")
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
        // The whole prompt is held and its next-token scores are at hand (a restored session).
        if logitsCurrent && prompt == tokens { return tokens.count }
        var common = 0
        let limit = min(tokens.count, prompt.count - 1)
        while common < limit && tokens[common] == prompt[common] { common += 1 }
        rewind(to: common)
        return tokens.count
    }

    /// Forgets every token after the first `count`, keeping their cached keys and values. A
    /// model with sliding-window layers keeps only a window's worth of positions (and a batch)
    /// in those layers: stepping back further than that forgets everything.
    public func rewind(to count: Int) {
        let kept = max(0, min(count, tokens.count))
        guard cache.canRewind(to: kept) else { return reset() }
        if kept < tokens.count { logitsCurrent = false }
        tokens.removeLast(tokens.count - kept)
    }

    /// Makes room by dropping the tokens [keep, keep + discard) (llama.cpp's context shift): the
    /// later tokens move down by `discard` positions, their cached keys rotated to their new
    /// positions, so generation goes on without computing them again (a model whose sliding-window
    /// layers no longer hold what they need computes the kept tokens again instead). The logits
    /// stay those of the last token.
    public func shiftContext(keep: Int, discard: Int) throws {
        guard keep >= 0, discard > 0, keep + discard <= tokens.count else {
            throw InferError.invalidArgument("cannot drop tokens \(keep)..<\(keep + discard) of \(tokens.count)")
        }
        let c = model.config
        if cache.shift(keep: keep, discard: discard, count: tokens.count, rotary: rotary,
                       rotations: c.layers.map(\.rotation), ropeDim: c.ropeDim, neox: c.block.rope.style == .neox) {
            tokens.removeSubrange(keep..<(keep + discard))
        } else {
            let kept = Array(tokens[..<keep] + tokens[(keep + discard)...])
            reset()
            try append(kept)
        }
    }

    /// Takes `restored` as the tokens held (their keys and values already in the cache), and
    /// `logits` (vocab floats), if given, as the next-token scores after the last.
    func restoreTokens(_ restored: [Int], logits source: UnsafeRawPointer?) {
        tokens = restored
        logitsCurrent = source != nil
        if let source {
            UnsafeMutableRawPointer(buffers.logits).copyMemory(from: source, byteCount: model.config.vocabularySize * 4)
        }
    }

    /// Forgets everything.
    public func reset() {
        tokens.removeAll()
        logitsCurrent = false
        cache.reset()
    }
}
