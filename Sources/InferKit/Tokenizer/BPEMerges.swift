/// The merges of a BPE vocabulary keyed by the ids of the two tokens they join, and the loop
/// that applies them to one word: the pair with the lowest rank merges first, the leftmost on
/// ties, until no adjacent pair has a merge (what Hugging Face `tokenizers` and llama.cpp do).
struct BPEMerges: Sendable {
    /// `left << 32 | right` → `rank << 32 | merged`.
    private let table: [UInt64: UInt64]

    /// `merges` in rank order; when a pair appears twice its first rank counts.
    init(_ merges: [(left: Int32, right: Int32, merged: Int32)]) {
        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(merges.count)
        for (rank, merge) in merges.enumerated() {
            let key = UInt64(UInt32(merge.left)) << 32 | UInt64(UInt32(merge.right))
            if table[key] == nil { table[key] = UInt64(rank) << 32 | UInt64(UInt32(merge.merged)) }
        }
        self.table = table
    }

    var count: Int { table.count }

    /// The packed `rank << 32 | merged` of a pair, or nil.
    @inline(__always)
    private func lookup(_ left: Int32, _ right: Int32) -> UInt64? {
        table[UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))]
    }

    /// A pair waiting to merge: `rank << 32 | position`, smallest first.
    fileprivate struct Candidate: Comparable {
        let key: UInt64
        static func < (a: Candidate, b: Candidate) -> Bool { a.key > b.key }
    }

    /// Buffers reused from word to word, so merging allocates nothing in the steady state.
    struct Workspace {
        fileprivate var next: [Int32] = []
        fileprivate var prev: [Int32] = []
        fileprivate var queue = Heap<Candidate>()
    }

    /// Merges the token ids of one word in place.
    func apply(to symbols: inout [Int32], workspace w: inout Workspace) {
        let n = symbols.count
        guard n > 1 else { return }
        w.next.removeAll(keepingCapacity: true)
        w.prev.removeAll(keepingCapacity: true)
        w.queue.removeAll()
        for i in 0..<n {
            w.next.append(i + 1 < n ? Int32(i + 1) : -1)
            w.prev.append(Int32(i - 1))
        }
        func enqueue(_ position: Int32) {
            guard position >= 0 else { return }
            let right = w.next[Int(position)]
            guard right >= 0, let found = lookup(symbols[Int(position)], symbols[Int(right)]) else { return }
            w.queue.push(Candidate(key: found & 0xFFFF_FFFF_0000_0000 | UInt64(position)))
        }
        for i in 0..<(n - 1) { enqueue(Int32(i)) }

        while let top = w.queue.pop() {
            let position = Int(top.key & 0xFFFF_FFFF)
            let right = Int(w.next[position])
            // A stale entry: its left symbol merged away or its pair changed since it was queued.
            guard symbols[position] >= 0, right >= 0,
                  let found = lookup(symbols[position], symbols[right]),
                  found >> 32 == top.key >> 32
            else { continue }
            symbols[position] = Int32(truncatingIfNeeded: found & 0xFFFF_FFFF)
            symbols[right] = -1
            let after = w.next[right]
            w.next[position] = after
            if after >= 0 { w.prev[Int(after)] = Int32(position) }
            enqueue(w.prev[position])
            enqueue(Int32(position))
        }
        var write = 0
        for i in 0..<n where symbols[i] >= 0 {
            symbols[write] = symbols[i]
            write += 1
        }
        symbols.removeLast(n - write)
    }
}
