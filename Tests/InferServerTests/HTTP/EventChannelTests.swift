import Foundation
import InferKit
@testable import InferServer
import Synchronization
import Testing

/// The hand-over between the generation loop and the response: bounded, and never stuck.
struct EventChannelTests {
    static func piece(_ n: Int) -> GenerationEvent { .text("\(n)", tokens: [n]) }

    final class Counter: Sendable {
        private let count = Atomic(0)
        func increment() { count.add(1, ordering: .relaxed) }
        var value: Int { count.load(ordering: .relaxed) }
    }

    /// Sends `count` events from a thread of its own, each once the channel has room (as the
    /// generation loop steps a slot only then), counting those handed over; then finishes.
    static func produce(_ channel: EventChannel, count: Int, sent: Counter) {
        Thread.detachNewThread {
            for n in 0..<count {
                while !channel.hasRoom { Thread.sleep(forTimeInterval: 0.001) }
                channel.send(piece(n))
                sent.increment()
            }
            channel.finish(.finished(.length, GenerationStats()))
        }
    }

    @Test func aSlowReaderHoldsItsProducerBackAndGetsEverythingInOrder() async throws {
        let changes = Counter()
        let channel = EventChannel(capacity: 2, onChange: { changes.increment() })
        let sent = Counter()
        Self.produce(channel, count: 20, sent: sent)
        try await Task.sleep(for: .milliseconds(200))
        #expect(sent.value == 2, "no room once 2 events are unread")
        #expect(!channel.hasRoom)
        var received: [GenerationEvent] = []
        while let event = try await channel.next() { received.append(event) }
        #expect(received == (0..<20).map(Self.piece) + [.finished(.length, GenerationStats())])
        #expect(changes.value >= 1, "the producer is told when the reader makes room")
    }

    @Test func sendNeverBlocks() {
        let channel = EventChannel(capacity: 1)
        for n in 0..<5 { channel.send(Self.piece(n)) }
        #expect(!channel.hasRoom)
    }

    @Test func closingTellsTheProducerAndDropsWhatFollows() async throws {
        let changes = Counter()
        let channel = EventChannel(capacity: 1, onChange: { changes.increment() })
        channel.send(Self.piece(0))
        #expect(try await channel.next() == Self.piece(0))
        #expect(!channel.shouldStop && !channel.isReaderGone)
        channel.close()
        #expect(channel.shouldStop && channel.isReaderGone)
        #expect(changes.value == 2, "once for the room the read made, once for the close")
        #expect(channel.hasRoom, "events after the close are dropped, never held")
        for n in 1..<1000 { channel.send(Self.piece(n)) }
        #expect(try await channel.next() == nil)
        channel.close()
        #expect(changes.value == 2, "a second close says nothing new")
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
        let changes = Counter()
        let channel = EventChannel(onChange: { changes.increment() })
        channel.requestStop()
        #expect(channel.shouldStop)
        #expect(changes.value == 1, "the producer is told")
        channel.send(Self.piece(1))
        channel.finish(.finished(.cancelled, GenerationStats()))
        #expect(try await channel.next() == Self.piece(1))
        #expect(try await channel.next() == .finished(.cancelled, GenerationStats()))
        #expect(try await channel.next() == nil)
    }
}
