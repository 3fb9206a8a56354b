/// A set of token ids as one bit each: the tokens a grammar allows next.
public struct TokenMask: Sendable, Equatable {
    private(set) var words: [UInt64]
    public let count: Int

    /// No token allowed, over a vocabulary of `count` tokens.
    public init(count: Int) {
        self.count = count
        words = [UInt64](repeating: 0, count: (count + 63) / 64)
    }

    @inline(__always)
    public func contains(_ id: Int) -> Bool {
        id >= 0 && id < count && words[id >> 6] & (1 << UInt64(id & 63)) != 0
    }

    @inline(__always)
    mutating func insert(_ id: Int) {
        words[id >> 6] |= 1 << UInt64(id & 63)
    }

    /// Adds every token except those in `excluded` (which keep their bit as it was).
    mutating func insertAll(except excluded: Set<Int>) {
        var all = TokenMask(count: count)
        for index in all.words.indices { all.words[index] = ~0 }
        if count % 64 != 0 { all.words[all.words.count - 1] = (1 << UInt64(count % 64)) - 1 }
        for id in excluded where id >= 0 && id < count { all.words[id >> 6] &= ~(1 << UInt64(id & 63)) }
        formUnion(all)
    }

    mutating func formUnion(_ other: TokenMask) {
        for index in words.indices { words[index] |= other.words[index] }
    }

    /// The allowed ids in increasing order.
    public var ids: [Int] {
        var result: [Int] = []
        for (index, word) in words.enumerated() where word != 0 {
            var bits = word
            while bits != 0 {
                result.append(index * 64 + bits.trailingZeroBitCount)
                bits &= bits - 1
            }
        }
        return result
    }

    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }
}
