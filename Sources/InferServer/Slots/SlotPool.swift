import InferKit
import Synchronization

/// The server's slots and the requests waiting for one.
///
/// A request goes to the free slot whose cache saves the most: the tokens of its prompt
/// already computed there, less the cached tokens it would throw away. So a conversation's
/// next turn finds its earlier turns in the slot that holds them, and a new conversation that
/// merely starts like another (the same system prompt) takes an empty slot rather than evict
/// that one, where llama.cpp's server, choosing by the longest shared prefix alone, would
/// evict it. Among equals, the slot idle the longest. When every slot is busy, up to
/// `queueLimit` requests wait in line, first come first served; more are refused. The busy
/// slots' jobs run together in one generation loop (`SlotScheduler`).
final class SlotPool: Sendable {
    /// Why a request got no slot.
    enum Refusal: Error, Equatable {
        /// All slots are busy and the line is full.
        case queueFull
        /// The server is shutting down.
        case shuttingDown
    }

    /// Counts for /health.
    struct Status: Sendable, Equatable {
        var idle: Int
        var busy: Int
        var waiting: Int
    }

    private struct Waiter {
        let ticket: Int
        let continuation: CheckedContinuation<Slot, any Error>
    }

    private struct State {
        var idle: [Slot]
        /// When each slot last went idle (a counter), to prefer the least recently used.
        var idleSince: [Int]
        var clock = 0
        var waiters: [Waiter] = []
        var nextTicket = 0
        /// The event channel of each busy slot, so that shutdown can stop them.
        var running: [Int: EventChannel] = [:]
        var closed = false
    }

    /// Positions in each slot's KV cache.
    let contextLength: Int
    let queueLimit: Int
    private let slots: [Slot]
    private let state: Mutex<State>
    private let scheduler: SlotScheduler

    /// - Parameters:
    ///   - count: slots, each with a KV cache of `contextLength` positions (default: the
    ///     model's context, at most 4096).
    ///   - threads: threads the generation loop computes with.
    ///   - queueLimit: requests that may wait for a slot.
    init(model: Model, count: Int, contextLength: Int?, threads: Int, cacheType: KVCacheType = Session.defaultCacheType,
         contextShift: Bool = true, queueLimit: Int) throws {
        precondition(count > 0 && queueLimit >= 0)
        slots = try (0..<count).map { try Slot(index: $0, model: model, contextLength: contextLength, threads: threads, cacheType: cacheType) }
        scheduler = try SlotScheduler(model: model, threads: threads, contextShift: contextShift)
        self.contextLength = slots[0].session.contextLength
        self.queueLimit = queueLimit
        state = Mutex(State(idle: slots, idleSince: Array(repeating: 0, count: count)))
    }

    var status: Status {
        state.withLock { Status(idle: $0.idle.count, busy: slots.count - $0.idle.count, waiting: $0.waiters.count) }
    }

    /// Starts generating in a slot, waiting in line if none is free. Returns the events as
    /// they are generated.
    /// - Parameter connection: the client's connection: a client that leaves while waiting
    ///   leaves the line, and one that leaves while its answer is generated stops it.
    /// - Throws: `Refusal`, or `CancellationError` when the client left while waiting.
    func generate(prompt: [Int], parameters: GenerateParameters, dropLeadingWhitespace: Bool,
                  connection: ClientConnection?) async throws -> GenerationEvents {
        let slot = try await acquire(prompt: prompt, connection: connection)
        let events = EventChannel(onChange: { [scheduler] in scheduler.wake() })
        let closed = state.withLock { state in
            state.running[slot.index] = events
            return state.closed
        }
        if closed { events.requestStop() }  // shutdown began while this request was let in
        connection?.onGone { events.close() }
        scheduler.start(GenerationJob(prompt: prompt, parameters: parameters, dropLeadingWhitespace: dropLeadingWhitespace,
                                      events: events, onIdle: { [self] in release(slot) }), in: slot)
        return GenerationEvents(events)
    }

    private func acquire(prompt: [Int], connection: ClientConnection?) async throws -> Slot {
        let ticket = state.withLock { state in
            state.nextTicket += 1
            return state.nextTicket
        }
        connection?.onGone { [self] in withdraw(ticket) }
        defer { connection?.onGone(nil) }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let outcome: Result<Slot, any Error>? = state.withLock { state in
                    if state.closed { return .failure(Refusal.shuttingDown) }
                    if Task.isCancelled || connection?.isGone == true { return .failure(CancellationError()) }
                    if let slot = Self.takeBestIdle(for: prompt, state: &state) { return .success(slot) }
                    if state.waiters.count >= queueLimit { return .failure(Refusal.queueFull) }
                    state.waiters.append(Waiter(ticket: ticket, continuation: continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            withdraw(ticket)
        }
    }

    /// Takes the free slot where `prompt` saves the most (see the type's comment).
    private static func takeBestIdle(for prompt: [Int], state: inout State) -> Slot? {
        var best: (position: Int, saving: Int, since: Int)?
        for (position, slot) in state.idle.enumerated() {
            let cached = slot.session.tokens
            let shared = zip(cached, prompt).prefix { $0 == $1 }.count
            let saving = shared - (cached.count - shared)
            let since = state.idleSince[slot.index]
            if let b = best, saving < b.saving || (saving == b.saving && since >= b.since) { continue }
            best = (position, saving, since)
        }
        return best.map { state.idle.remove(at: $0.position) }
    }

    /// Takes a waiting request out of the line (its client left).
    private func withdraw(_ ticket: Int) {
        let waiter: Waiter? = state.withLock { state in
            state.waiters.firstIndex { $0.ticket == ticket }.map { state.waiters.remove(at: $0) }
        }
        waiter?.continuation.resume(throwing: CancellationError())
    }

    /// A slot's job is done: the first request in line gets the slot, or it goes idle.
    private func release(_ slot: Slot) {
        let waiter: Waiter? = state.withLock { state in
            state.running[slot.index] = nil
            guard state.waiters.isEmpty else { return state.waiters.removeFirst() }
            state.clock += 1
            state.idleSince[slot.index] = state.clock
            state.idle.append(slot)
            return nil
        }
        waiter?.continuation.resume(returning: slot)
    }

    /// Runs `body` with slot `index` held out of use, so that no request takes it meanwhile (a
    /// request that finds no other slot waits in line); then the slot is idle again, or the first
    /// request in line gets it.
    /// - Throws: `APIError`: 404 for an index that is no slot's, 409 when the slot is answering a
    ///   request, 503 while shutting down; and what `body` throws.
    func withIdleSlot<T>(_ index: Int, _ body: (Slot) throws -> T) throws -> T {
        let taken: Result<Slot, APIError> = state.withLock { state in
            if state.closed { return .failure(.shuttingDown) }
            guard slots.indices.contains(index) else {
                return .failure(APIError(status: .notFound, message: "There is no slot \(index): the slots are 0...\(slots.count - 1).",
                                         type: "invalid_request_error", code: "slot_not_found"))
            }
            guard let position = state.idle.firstIndex(where: { $0.index == index }) else {
                return .failure(APIError(status: .conflict, message: "Slot \(index) is answering a request; try again when it is idle.",
                                         type: "invalid_request_error", code: "slot_busy"))
            }
            return .success(state.idle.remove(at: position))
        }
        let slot = try taken.get()
        defer { release(slot) }
        return try body(slot)
    }

    /// Refuses new requests and those waiting, and stops the generations running (their
    /// clients still get the text so far and the end of the answer).
    func shutDown() {
        let (waiters, running) = state.withLock { state in
            state.closed = true
            defer { state.waiters.removeAll() }
            return (state.waiters, Array(state.running.values))
        }
        for waiter in waiters { waiter.continuation.resume(throwing: Refusal.shuttingDown) }
        for events in running { events.requestStop() }
    }

    /// Ends the generation loop's thread once its jobs are done. The pool serves no more requests.
    func stopThreads() {
        shutDown()
        scheduler.stop()
    }
}
