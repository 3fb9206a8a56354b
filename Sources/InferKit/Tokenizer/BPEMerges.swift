/// The merges of a BPE vocabulary keyed by the ids of the two tokens they join, and the loop
/// that applies them to one word: the pair with the lowest rank merges first, the leftmost on
/// ties, until no adjacent pair has a merge (what Hugging Face `tokenizers` and llama.cpp do).
struct BPEMerges: Sendable {
    private let table: PairTable

    /// `merges` in rank order; when a pair appears twice its first rank counts.
    init(_ merges: [(left: Int32, right: Int32, merged: Int32)]) {
        var table = PairTable(capacity: merges.count)
        for (rank, merge) in merges.enumerated() {
            table.insert(left: merge.left, right: merge.right, value: UInt64(rank) << 32 | UInt64(UInt32(merge.merged)))
        }
        self.table = table
    }

    /// Resolves merges as stored against their vocabulary; a merge that is malformed or
    /// names a token the vocabulary lacks is an error.
    init(_ spellings: [MergeSpelling], vocabulary: Vocabulary) throws(MergeError) {
        var pairs: [(left: Int32, right: Int32, merged: Int32)] = []
        pairs.reserveCapacity(spellings.count)
        var joined: [UInt8] = []
        for (rank, spelling) in spellings.enumerated() {
            joined.removeAll(keepingCapacity: true)
            var leftCount = 0
            switch spelling {
            case .joined(var text):
                // "left right": llama.cpp splits at the first space after the first byte.
                let split: Int? = text.withUTF8 { utf8 in
                    guard let space = utf8.dropFirst().firstIndex(of: 0x20) else { return nil }
                    joined += utf8[..<space]
                    joined += utf8[(space + 1)...]
                    return space
                }
                guard let split else { throw MergeError(rank: rank, problem: "is not two tokens separated by a space") }
                leftCount = split
            case .pair(let left, let right):
                joined += left.utf8
                leftCount = joined.count
                joined += right.utf8
            }
            let ids = joined.withUnsafeBufferPointer { all in
                (vocabulary.index.id(of: UnsafeBufferPointer(rebasing: all[..<leftCount])),
                 vocabulary.index.id(of: UnsafeBufferPointer(rebasing: all[leftCount...])),
                 vocabulary.index.id(of: all))
            }
            guard let left = ids.0, let right = ids.1, let merged = ids.2 else {
                let name = { (bytes: ArraySlice<UInt8>) in String(decoding: bytes, as: UTF8.self) }
                let missing = ids.0 == nil ? name(joined[..<leftCount]) : ids.1 == nil ? name(joined[leftCount...]) : name(joined[...])
                throw MergeError(rank: rank, problem: "'\(name(joined[..<leftCount])) \(name(joined[leftCount...]))' needs '\(missing)', which is not in the vocabulary")
            }
            pairs.append((left, right, merged))
        }
        self.init(pairs)
    }

    /// The packed `rank << 32 | merged` of a pair, or nil.
    @inline(__always)
    private func lookup(_ left: Int32, _ right: Int32) -> UInt64? {
        table.value(left: left, right: right)
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

/// Token-id pair → packed value, open addressing in one flat array: merge lookups are the
/// inner loop of encoding, and a `Dictionary` hashes each key with SipHash.
private struct PairTable: Sendable {
    /// Key `left << 32 | right` and value side by side; an all-ones key marks an empty slot.
    private var slots: [UInt64]
    private let mask: Int

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size *= 2 }
        slots = [UInt64](repeating: .max, count: size * 2)
        mask = size - 1
    }

    @inline(__always)
    private func start(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// Keeps the first value of a key.
    mutating func insert(left: Int32, right: Int32, value: UInt64) {
        let key = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
        var slot = start(key)
        while slots[2 * slot] != .max {
            if slots[2 * slot] == key { return }
            slot = (slot + 1) & mask
        }
        slots[2 * slot] = key
        slots[2 * slot + 1] = value
    }

    @inline(__always)
    func value(left: Int32, right: Int32) -> UInt64? {
        let key = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
        var slot = start(key)
        return slots.withUnsafeBufferPointer { slots in
            while true {
                let stored = slots[2 * slot]
                if stored == key { return slots[2 * slot + 1] }
                if stored == .max { return nil }
                slot = (slot + 1) & mask
            }
        }
    }
}

/// How a merge is stored: "left right" (GGUF, most tokenizer.json files) or as a pair.
enum MergeSpelling: Sendable {
    case joined(String)
    case pair(String, String)
}

struct MergeError: Error {
    /// The merge's position (its rank).
    let rank: Int
    let problem: String
}
