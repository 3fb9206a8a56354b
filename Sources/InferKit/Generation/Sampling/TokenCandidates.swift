#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The tokens still in the running for the next position, with their logits. Sampler
/// steps narrow and reshape this set; `sortedByLogit` records when it is in descending order.
public struct TokenCandidates: Sendable {
    public struct Candidate: Sendable, Equatable {
        public var id: Int
        public var logit: Float
    }

    public var candidates: [Candidate]
    public var sortedByLogit = false

    public init(logits: UnsafeBufferPointer<Float>) {
        candidates = logits.enumerated().map { Candidate(id: $0.offset, logit: $0.element) }
    }

    public init(_ candidates: [Candidate]) {
        self.candidates = candidates
    }

    public var count: Int { candidates.count }

    /// Sorts by descending logit (ties by ascending id, so results never depend on the sort).
    public mutating func sort() {
        guard !sortedByLogit else { return }
        candidates.sort { $0.logit > $1.logit || ($0.logit == $1.logit && $0.id < $1.id) }
        sortedByLogit = true
    }

    /// Keeps the `k` largest logits, sorted, in O(n log k).
    public mutating func keepTop(_ k: Int) {
        guard k < candidates.count else {
            sort()
            return
        }
        if !sortedByLogit && k * 8 < candidates.count {
            candidates = TokenCandidates.largest(k, of: candidates)
        } else {
            sort()
            candidates.removeLast(candidates.count - k)
        }
        sortedByLogit = true
    }

    /// Softmax probabilities of the candidates, in their current order.
    public func probabilities() -> [Float] {
        guard let maxLogit = candidates.map(\.logit).max() else { return [] }
        let e = candidates.map { exp(Double($0.logit - maxLogit)) }
        let total = e.reduce(0, +)
        return e.map { Float($0 / total) }
    }

    /// The k candidates with the largest logits, in descending order, by a bounded min-heap.
    private static func largest(_ k: Int, of all: [Candidate]) -> [Candidate] {
        func before(_ a: Candidate, _ b: Candidate) -> Bool {  // a ranks above b
            a.logit > b.logit || (a.logit == b.logit && a.id < b.id)
        }
        var heap: [Candidate] = []  // min-heap by rank: heap[0] is the weakest kept
        heap.reserveCapacity(k)
        func siftDown(_ start: Int) {
            var parent = start
            while true {
                let left = 2 * parent + 1, right = left + 1
                var weakest = parent
                if left < heap.count && before(heap[weakest], heap[left]) { weakest = left }
                if right < heap.count && before(heap[weakest], heap[right]) { weakest = right }
                if weakest == parent { return }
                heap.swapAt(parent, weakest)
                parent = weakest
            }
        }
        for c in all {
            if heap.count < k {
                heap.append(c)
                var child = heap.count - 1
                while child > 0 {
                    let parent = (child - 1) / 2
                    guard before(heap[parent], heap[child]) else { break }
                    heap.swapAt(parent, child)
                    child = parent
                }
            } else if before(c, heap[0]) {
                heap[0] = c
                siftDown(0)
            }
        }
        return heap.sorted(by: before)
    }
}
