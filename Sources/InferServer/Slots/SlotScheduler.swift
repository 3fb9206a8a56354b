import Foundation
import InferKit

/// The server's one generation loop: every busy slot's job is a generation of one
/// `BatchGenerator`, stepped on a thread of its own. At each step the next token of every slot
/// past its prompt is computed in one forward pass (the weights read once for all of them), after
/// a chunk of one prompt still being computed (a short prompt first), so that a long prompt holds
/// the others up a chunk at a time and a new request starts at the next step. Each slot samples,
/// stops and streams with its own parameters; a slot whose reader is behind (`EventChannel.hasRoom`)
/// sits steps out while the others go on, a reader that leaves frees its slot at the next step, and
/// a stop request (shutdown) ends the slot's answer there. Generating is CPU-bound and synchronous:
/// on its own thread it never occupies the few threads of Swift's cooperative pool, which keep
/// serving HTTP meanwhile.
final class SlotScheduler: @unchecked Sendable {
    /// A job the loop runs: its slot and its generation's id in the batch.
    private struct Running {
        let slot: Slot
        let job: GenerationJob
        var cancelled = false
    }

    private let batch: BatchGenerator
    /// Whether an answer that fills the context shifts it and goes on.
    private let contextShift: Bool
    /// Guards `incoming`, `changed` and `stopping`; the loop waits on it when it has nothing to do.
    private let condition = NSCondition()
    private var incoming: [(Slot, GenerationJob)] = []
    /// A reader made room, left, or asked to stop, since the loop last looked.
    private var changed = false
    private var stopping = false
    /// The loop thread's own: the jobs in the batch, by generation id.
    private var running: [Int: Running] = [:]

    /// - Parameters:
    ///   - threads: threads of each step (each slot's session computes its prompt chunks with its own).
    init(model: Model, threads: Int, contextShift: Bool) throws {
        batch = try BatchGenerator(model: model, threads: threads)
        self.contextShift = contextShift
        let thread = Thread { [self] in loop() }
        thread.name = "infer-generation"
        thread.start()
    }

    /// Runs `job` in `slot` (which must be idle) from the loop's next step on.
    func start(_ job: GenerationJob, in slot: Slot) {
        condition.withLock {
            incoming.append((slot, job))
            condition.signal()
        }
    }

    /// Something the loop waits for happened: a reader made room, left, or asked to stop.
    func wake() {
        condition.withLock {
            changed = true
            condition.signal()
        }
    }

    /// Ends the loop's thread once no job is left.
    func stop() {
        condition.withLock {
            stopping = true
            condition.signal()
        }
    }

    private func loop() {
        var busy = false
        while let admitted = waitForWork(busy: busy) {
            for (slot, job) in admitted { admit(job, in: slot) }
            var cancels = false
            for (id, run) in running {
                if run.job.events.isReaderGone {
                    // Nobody reads: the slot is free at once, with nothing more to say.
                    batch.remove(id)
                    end(id, with: nil)
                } else if run.job.events.shouldStop && !run.cancelled {
                    batch.cancel(id)
                    running[id]?.cancelled = true
                    cancels = true
                }
            }
            let paused = Set(running.filter { !$0.value.job.events.hasRoom }.map(\.key))
            busy = cancels || running.keys.contains { !paused.contains($0) || batch.isComputingPrompt($0) }
            guard busy else { continue }
            for update in batch.step(pausing: paused) {
                switch update.result {
                case .success(.finished(let reason, let stats)): end(update.id, with: .success(.finished(reason, stats)))
                case .success(let event): running[update.id]?.job.events.send(event, logprobs: update.logprobs)
                case .failure(let error): end(update.id, with: .failure(error))
                }
            }
        }
    }

    /// The jobs that arrived, once there is something to do (at once when `busy`); nil when the
    /// loop should end.
    private func waitForWork(busy: Bool) -> [(Slot, GenerationJob)]? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if !incoming.isEmpty || changed || busy {
                defer {
                    incoming.removeAll()
                    changed = false
                }
                return incoming
            }
            if stopping && running.isEmpty { return nil }
            condition.wait()
        }
    }

    private func admit(_ job: GenerationJob, in slot: Slot) {
        var parameters = job.parameters
        parameters.contextShift = contextShift
        do {
            let id = try batch.add(session: slot.session, prompt: job.prompt, parameters: parameters,
                                   dropLeadingWhitespace: job.dropLeadingWhitespace)
            running[id] = Running(slot: slot, job: job)
        } catch {
            job.onIdle()
            job.events.finish(throwing: error)
        }
    }

    /// Generation `id` is over: its slot is free, then its reader gets the last event (or the
    /// failure; nothing when `outcome` is nil).
    private func end(_ id: Int, with outcome: Result<GenerationEvent, any Error>?) {
        guard let run = running.removeValue(forKey: id) else { return }
        run.job.onIdle()
        switch outcome {
        case .success(let last): run.job.events.finish(last)
        case .failure(let error): run.job.events.finish(throwing: error)
        case nil: run.job.events.finish()
        }
    }
}
