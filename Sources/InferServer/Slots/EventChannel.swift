import Foundation
import InferKit

/// Carries one generation's events from its slot's thread to the task that writes the HTTP
/// response. At most `capacity` events wait unread: past that the thread blocks, so a slow
/// client slows its own generation instead of piling up text in memory. The thread learns at
/// once when the reader is gone (`close()`), and stops generating.
final class EventChannel: @unchecked Sendable {
    /// An event and the log-probabilities of its tokens (when the request asked for them).
    struct Piece: Sendable, Equatable {
        let event: GenerationEvent
        let logprobs: [TokenLogprob]
    }

    private let capacity: Int
    /// Guards everything below; the producing thread waits on it while the buffer is full.
    private let condition = NSCondition()
    private var buffer: [Piece] = []
    private var reader: CheckedContinuation<Piece?, any Error>?
    private var readerGone = false
    private var stopRequested = false
    private var ended = false
    private var failure: (any Error)?

    init(capacity: Int = 8) {
        self.capacity = capacity
    }

    // MARK: The generating thread

    /// Whether generation should end early: the reader is gone, or the server is shutting down.
    var shouldStop: Bool {
        condition.withLock { readerGone || stopRequested }
    }

    /// Delivers `event`, blocking while `capacity` events wait unread. Returns at once, dropping
    /// the event, when the reader is gone.
    func send(_ event: GenerationEvent, logprobs: [TokenLogprob] = []) {
        condition.lock()
        while buffer.count >= capacity && !readerGone { condition.wait() }
        guard !readerGone else { return condition.unlock() }
        buffer.append(Piece(event: event, logprobs: logprobs))
        deliverBuffered()
    }

    /// Ends the stream with `last` (the `.finished` event) or with `error`. Never blocks: the
    /// last event may exceed the capacity, so that the slot's thread is free at once.
    func finish(_ last: GenerationEvent? = nil, throwing error: (any Error)? = nil) {
        condition.lock()
        ended = true
        failure = error
        guard !readerGone else { return condition.unlock() }
        if let last {
            buffer.append(Piece(event: last, logprobs: []))
            deliverBuffered()
        } else if let reader {
            // A waiting reader means nothing is buffered: the stream ends here.
            self.reader = nil
            failure = nil
            condition.unlock()
            if let error { reader.resume(throwing: error) } else { reader.resume(returning: nil) }
        } else {
            condition.unlock()
        }
    }

    /// Delivers `event`, which was just buffered, to a waiting reader. Called locked; unlocks.
    private func deliverBuffered() {
        guard let reader else { return condition.unlock() }
        self.reader = nil
        let event = buffer.removeFirst()
        condition.unlock()
        reader.resume(returning: event)
    }

    // MARK: The reader

    /// The next event; nil once the stream has ended (or the reader closed it). Throws the
    /// error generation failed with.
    func next() async throws -> GenerationEvent? {
        try await nextPiece()?.event
    }

    /// The next event with its tokens' log-probabilities.
    func nextPiece() async throws -> Piece? {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            if !buffer.isEmpty {
                let event = buffer.removeFirst()
                condition.signal()  // room for the thread's next event
                condition.unlock()
                continuation.resume(returning: event)
            } else if ended || readerGone {
                // An error is reported once; after it the stream is simply over.
                let error = readerGone ? nil : failure
                failure = nil
                condition.unlock()
                if let error { continuation.resume(throwing: error) } else { continuation.resume(returning: nil) }
            } else {
                reader = continuation
                condition.unlock()
            }
        }
    }

    /// The reader is gone (the client disconnected, or the response failed): the thread stops
    /// generating, and a pending `next()` returns nil.
    func close() {
        condition.lock()
        readerGone = true
        buffer.removeAll()
        let reader = self.reader
        self.reader = nil
        condition.broadcast()
        condition.unlock()
        reader?.resume(returning: nil)
    }

    /// Asks the thread to end generation early; the reader still gets the held-back text and
    /// the `.finished(.cancelled, ...)` event.
    func requestStop() {
        condition.withLock { stopRequested = true }
    }
}

/// The reading end of an `EventChannel`, owned by the response. However the response ends
/// (read to the end, failed, or dropped unread), the channel closes with it, so a slot's
/// thread can never stay blocked on a reader that is gone.
final class GenerationEvents: Sendable {
    private let channel: EventChannel

    init(_ channel: EventChannel) {
        self.channel = channel
    }

    /// The next event; nil once the stream has ended (or the client left).
    func next() async throws -> GenerationEvent? {
        try await channel.next()
    }

    /// The next event with its tokens' log-probabilities.
    func nextPiece() async throws -> EventChannel.Piece? {
        try await channel.nextPiece()
    }

    /// Stops the generation: nothing more is read.
    func close() {
        channel.close()
    }

    deinit {
        channel.close()
    }
}
