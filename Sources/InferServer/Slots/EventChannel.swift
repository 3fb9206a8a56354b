import Foundation
import InferKit

/// Carries one generation's events from the server's generation loop (`SlotScheduler`) to the task
/// that writes the HTTP response. The loop steps a generation only while it `hasRoom` (fewer than
/// `capacity` events wait unread), so a slow client slows its own generation, not the others',
/// instead of piling up text in memory. The loop learns at once when the reader is gone
/// (`close()`) or a stop is asked for: `onChange` is called then, and whenever the reader makes
/// room.
final class EventChannel: @unchecked Sendable {
    /// An event and the log-probabilities of its tokens (when the request asked for them).
    struct Piece: Sendable, Equatable {
        let event: GenerationEvent
        let logprobs: [TokenLogprob]
    }

    private let capacity: Int
    private let onChange: @Sendable () -> Void
    /// Guards everything below.
    private let condition = NSCondition()
    private var buffer: [Piece] = []
    private var reader: CheckedContinuation<Piece?, any Error>?
    private var readerGone = false
    private var stopRequested = false
    private var ended = false
    private var failure: (any Error)?

    /// - Parameter onChange: called (on whichever thread did it) when the reader takes an event,
    ///   leaves, or a stop is asked for; never with the channel's lock held.
    init(capacity: Int = 8, onChange: @escaping @Sendable () -> Void = {}) {
        self.capacity = capacity
        self.onChange = onChange
    }

    // MARK: The generating side

    /// Whether generation should end early: the reader is gone, or the server is shutting down.
    var shouldStop: Bool {
        condition.withLock { readerGone || stopRequested }
    }

    /// Whether the reader is gone: nothing more will be read.
    var isReaderGone: Bool {
        condition.withLock { readerGone }
    }

    /// Whether fewer than `capacity` events wait unread (or the reader is gone, and events are
    /// dropped): a generation steps only then.
    var hasRoom: Bool {
        condition.withLock { readerGone || buffer.count < capacity }
    }

    /// Delivers `event` (or drops it when the reader is gone). Never blocks: the producer keeps
    /// to the capacity by asking `hasRoom` before it generates.
    func send(_ event: GenerationEvent, logprobs: [TokenLogprob] = []) {
        condition.lock()
        guard !readerGone else { return condition.unlock() }
        buffer.append(Piece(event: event, logprobs: logprobs))
        deliverBuffered()
    }

    /// Ends the stream with `last` (the `.finished` event) or with `error`. Never blocks.
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
                let madeRoom = buffer.count == capacity - 1 && !ended
                condition.unlock()
                if madeRoom { onChange() }  // the generation may step again
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

    /// The reader is gone (the client disconnected, or the response failed): generation stops,
    /// and a pending `next()` returns nil.
    func close() {
        condition.lock()
        let first = !readerGone
        readerGone = true
        buffer.removeAll()
        let reader = self.reader
        self.reader = nil
        let ended = self.ended
        condition.unlock()
        reader?.resume(returning: nil)
        if first && !ended { onChange() }
    }

    /// Asks for generation to end early; the reader still gets the held-back text and the
    /// `.finished(.cancelled, ...)` event.
    func requestStop() {
        let first = condition.withLock {
            defer { stopRequested = true }
            return !stopRequested && !ended
        }
        if first { onChange() }
    }
}

/// The reading end of an `EventChannel`, owned by the response. However the response ends
/// (read to the end, failed, or dropped unread), the channel closes with it, so a generation can
/// never stay waiting on a reader that is gone.
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
