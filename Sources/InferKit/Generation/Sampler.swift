#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Chooses the next token from logits: the most likely one at temperature 0, else a
/// draw from softmax(logits / temperature) with a seeded generator, so a seed always
/// gives the same text.
public struct Sampler: Sendable {
    public var temperature: Float
    private var random: SplitMix64

    public init(temperature: Float, seed: UInt64) {
        self.temperature = temperature
        self.random = SplitMix64(seed: seed)
    }

    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int {
        if temperature <= 0 { return Sampler.argmax(logits) }
        let maxLogit = logits.max() ?? 0
        let weights = logits.map { exp(Double(($0 - maxLogit) / temperature)) }
        let total = weights.reduce(0, +)
        let target = random.nextUnitDouble() * total
        var cumulative = 0.0
        for i in weights.indices {
            cumulative += weights[i]
            if target < cumulative { return i }
        }
        return logits.count - 1
    }

    /// Index of the largest value; the first one on ties.
    public static func argmax(_ values: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }
}

/// A small, fast, seedable generator (Steele, Lea & Flood's SplitMix64).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }
}
