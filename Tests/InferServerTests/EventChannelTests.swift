import Foundation
import InferKit
@testable import InferServer
import Synchronization
import Testing

/// The hand-over between a slot's thread and the response: bounded, and never stuck.
struct EventChannelTests {
    static func piece(_ n: Int) -> GenerationEvent { .text("\(n)", tokens: [n]) }

    final class Counter: Sendable {
        private let count = Atomic(0)
        func increment() { count.add(1, ordering: .relaxed) }
        var value: Int { count.load(ordering: .relaxed) }
    }

    /// Sends `count` events from a thread of its own, counting those handed over; then finishes.
    static func produce(_ channel: EventChannel, count: Int, sent: Counter) {
        Thread.detachNewThread {
            for n in 0..<count {
                channel.send(piece(n))
                sent.increment()
            }
            channel.finish(.finished(.length, GenerationStats()))
        }
    }

    @Test func aSlowReaderHoldsTheThreadBackAndGetsEverythingInOrder() async throws {
        let channel = EventChannel(capacity: 2)
        let sent = Counter()
        Self.produce(channel, count: 20, sent: sent)
        try await Task.sleep(for: .milliseconds(200))
        #expect(sent.value == 2, "the thread waits once 2 events are unread")
        var received: [GenerationEvent] = []
        while let event = try await channel.next() { received.append(event) }
        #expect(received == (0..<20).map(Self.piece) + [.finished(.length, GenerationStats())])
    }

    @Test func closingReleasesABlockedThreadAndAsksItToStop() async throws {
        let channel = EventChannel(capacity: 1)
        let sent = Counter()
        Self.produce(channel, count: 1000, sent: sent)
        #expect(try await channel.next() == Self.piece(0))
        #expect(!channel.shouldStop)
        channel.close()
        #expect(channel.shouldStop)
        let deadline = ContinuousClock.now + .seconds(5)
        while sent.value < 1000 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(sent.value == 1000, "sends return at once after the reader left")
        #expect(try await channel.next() == nil)
    }

    @Test func aWaitingReaderGetsTheFailure() async throws {
        struct Broken: Error {}
        let channel = EventChannel()
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 0.05)
            channel.finish(throwing: Broken())
        }
        await #expect(throws: Broken.self) { try await channel.next() }
        #expect(try await channel.next() == nil, "the failure is reported once")
    }

    @Test func stopRequestsKeepTheReader() async throws {
        let channel = EventChannel()
        channel.requestStop()
        #expect(channel.shouldStop)
        channel.send(Self.piece(1))
        channel.finish(.finished(.cancelled, GenerationStats()))
        #expect(try await channel.next() == Self.piece(1))
        #expect(try await channel.next() == .finished(.cancelled, GenerationStats()))
        #expect(try await channel.next() == nil)
    }
}
