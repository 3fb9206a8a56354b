/// A pseudo-random sequence fixed by the input's bytes, for the choices a harness makes past
/// what the input says (which allowed token to take, which byte to write next): the same input
/// always takes the same path, so that a finding replays.
public struct InputSeed {
    private var state: UInt64

    public init(_ bytes: UnsafeRawBufferPointer) {
        // FNV-1a over the input; never 0, which xorshift cannot leave.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        state = hash == 0 ? 1 : hash
    }

    /// The next number in 0..<count (count > 0).
    public mutating func next(_ count: Int) -> Int {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return Int(state % UInt64(count))
    }
}
