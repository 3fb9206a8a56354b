#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The entries of a vocabulary, their types, and a byte-exact index from entry text to id.
/// (Strings are never keys: Swift's `String` equality is canonical equivalence, and "é" and
/// "e\u{301}" are different tokens.)
struct Vocabulary: Sendable {
    /// Entries as stored (`Ġthe`, `▁the`, `<|endoftext|>`).
    let pieces: [String]
    let types: [TokenType]
    let index: ByteIndex

    init(pieces: [String], types: [TokenType]) {
        self.pieces = pieces
        self.types = types
        self.index = ByteIndex(pieces.map(\.utf8))
    }

    var count: Int { pieces.count }

    func id(of text: String) -> Int? {
        var text = text
        return text.withUTF8 { index.id(of: $0) }.map(Int.init)
    }
}

/// A hash index from byte strings to their position in a list, built for vocabularies of
/// 100k+ entries: the texts live in one buffer and the table is one flat array, so building
/// it allocates twice and a lookup touches two cache lines. Where a text repeats, its first
/// position counts.
struct ByteIndex: Sendable {
    /// All texts, back to back; text `i` is `storage[starts[i]..<starts[i + 1]]`.
    private let storage: [UInt8]
    private let starts: [Int]
    /// 0 is empty; otherwise the hash's high 32 bits, then the position plus one.
    private let slots: [UInt64]
    private let mask: Int

    init<Text: Sequence<UInt8>>(_ texts: [Text]) {
        var storage: [UInt8] = []
        storage.reserveCapacity(texts.reduce(0) { $0 + $1.underestimatedCount })
        var starts: [Int] = [0]
        starts.reserveCapacity(texts.count + 1)
        for text in texts {
            storage += text
            starts.append(storage.count)
        }
        var capacity = 16
        while capacity < texts.count * 2 { capacity *= 2 }
        var slots = [UInt64](repeating: 0, count: capacity)
        let mask = capacity - 1
        storage.withUnsafeBufferPointer { all in
            for position in texts.indices {
                let text = UnsafeBufferPointer(rebasing: all[starts[position]..<starts[position + 1]])
                let hash = Self.hash(text)
                var slot = Int(truncatingIfNeeded: hash) & mask
                while slots[slot] != 0 {
                    let existing = Int(slots[slot] & 0xFFFF_FFFF) - 1
                    if slots[slot] >> 32 == hash >> 32
                        && all[starts[existing]..<starts[existing + 1]].elementsEqual(text) { break }
                    slot = (slot + 1) & mask
                }
                if slots[slot] == 0 { slots[slot] = hash & 0xFFFF_FFFF_0000_0000 | UInt64(position + 1) }
            }
        }
        self.storage = storage
        self.starts = starts
        self.slots = slots
        self.mask = mask
    }

    func id(of text: UnsafeBufferPointer<UInt8>) -> Int32? {
        let hash = Self.hash(text)
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { return nil }
            if entry >> 32 == hash >> 32 {
                let position = Int(entry & 0xFFFF_FFFF) - 1
                let start = starts[position], end = starts[position + 1]
                if end - start == text.count && storage.withUnsafeBufferPointer({
                    text.count == 0 || memcmp($0.baseAddress! + start, text.baseAddress!, text.count) == 0
                }) {
                    return Int32(position)
                }
            }
            slot = (slot + 1) & mask
        }
    }

    func id(of bytes: [UInt8]) -> Int32? {
        bytes.withUnsafeBufferPointer { id(of: $0) }
    }

    /// FNV-1a, then a final mix so that the low bits (the slot) depend on every byte.
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        return h
    }
}
