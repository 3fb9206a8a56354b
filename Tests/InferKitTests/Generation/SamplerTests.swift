import Foundation
import Testing
@testable import InferKit

/// The sampler chain's steps with exact expected distributions.
struct SamplerTests {
    /// Logits whose softmax is exactly the given probabilities.
    static func logits(_ probabilities: [Double]) -> [Float] { probabilities.map { Float(log($0)) } }

    static func distribution(_ steps: [any SamplerStep], _ logits: [Float], history: [Int] = []) -> [(Int, Float)] {
        logits.withUnsafeBufferPointer { buffer in
            SamplerChain(steps: steps, seed: 0).distribution(logits: buffer, history: history[...]).map { ($0.id, $0.probability) }
        }
    }

    static func expect(_ actual: [(Int, Float)], _ expected: [(Int, Double)], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(actual.map(\.0) == expected.map(\.0), sourceLocation: sourceLocation)
        for ((_, p), (_, q)) in zip(actual, expected) {
            #expect(abs(Double(p) - q) < 1e-6, "\(p) vs \(q)", sourceLocation: sourceLocation)
        }
    }

    static let base = logits([0.1, 0.2, 0.3, 0.4])

    @Test func topK() {
        Self.expect(Self.distribution([TopKStep(k: 1)], Self.base), [(3, 1)])
        Self.expect(Self.distribution([TopKStep(k: 3)], Self.base), [(3, 4.0 / 9), (2, 3.0 / 9), (1, 2.0 / 9)])
        Self.expect(Self.distribution([TopKStep(k: 0)], Self.base), [(0, 0.1), (1, 0.2), (2, 0.3), (3, 0.4)])
        // The bounded-heap path (k much smaller than the vocabulary) agrees with sorting.
        var random = SplitMix64(seed: 9)
        let many = (0..<5000).map { _ in Float(random.nextUnitDouble() * 10) }
        let sorted = many.enumerated().sorted { $0.element > $1.element }.prefix(40).map(\.offset)
        #expect(Self.distribution([TopKStep(k: 40)], many).map(\.0) == sorted)
    }

    @Test func topP() {
        Self.expect(Self.distribution([TopPStep(p: 0)], Self.base), [(3, 1)])
        Self.expect(Self.distribution([TopPStep(p: 0.7)], Self.base), [(3, 4.0 / 7), (2, 3.0 / 7)])
        Self.expect(Self.distribution([TopPStep(p: 0.71)], Self.base), [(3, 4.0 / 9), (2, 3.0 / 9), (1, 2.0 / 9)])
        Self.expect(Self.distribution([TopPStep(p: 1)], Self.base), [(0, 0.1), (1, 0.2), (2, 0.3), (3, 0.4)])
    }

    @Test func minP() {
        Self.expect(Self.distribution([MinPStep(p: 0.76)], Self.base), [(3, 1)])
        Self.expect(Self.distribution([MinPStep(p: 0.74)], Self.base), [(3, 4.0 / 7), (2, 3.0 / 7)])
        Self.expect(Self.distribution([MinPStep(p: 0.24)], Self.base), [(3, 0.4), (2, 0.3), (1, 0.2), (0, 0.1)])
    }

    @Test func temperature() {
        // softmax(log p / 0.5) ∝ p²: 1, 4, 9, 16 over 30.
        Self.expect(Self.distribution([TemperatureStep(temperature: 0.5)], Self.base),
                    [(0, 1.0 / 30), (1, 4.0 / 30), (2, 9.0 / 30), (3, 16.0 / 30)])
        Self.expect(Self.distribution([TemperatureStep(temperature: 0)], Self.base), [(3, 1)])
    }

    @Test func penalties() {
        let logits: [Float] = [2, -2, 1, 0.5]
        let history = [0, 1, 1, 5]
        // repeat 2: 2 → 1, -2 → -4; frequency 0.5 × count; presence 0.25.
        var candidates = TokenCandidates(logits.enumerated().map { .init(id: $0.offset, logit: $0.element) })
        PenaltiesStep(repeatPenalty: 2, frequency: 0.5, presence: 0.25, window: 64).apply(to: &candidates, history: history[...])
        let expected: [Float] = [0.25, -5.25, 1, 0.5]  // 2/2 - 0.5·1 - 0.25; -2·2 - 0.5·2 - 0.25
        #expect(candidates.candidates.map(\.logit) == expected)
        // Only the window counts: the last 2 tokens are 1 and 5.
        var windowed = TokenCandidates(logits.enumerated().map { .init(id: $0.offset, logit: $0.element) })
        PenaltiesStep(repeatPenalty: 2, frequency: 0, presence: 0, window: 2).apply(to: &windowed, history: history[...])
        let expectedWindowed: [Float] = [2, -4, 1, 0.5]
        #expect(windowed.candidates.map(\.logit) == expectedWindowed)
    }

    @Test func defaultChainOrder() {
        // top-k 3 → {3, 2, 1}; top-p 0.5 over them (4/9, 3/9) keeps {3, 2}; min-p 0.05 keeps both;
        // temperature 0.5 squares: 16 : 9.
        let p = GenerateParameters(temperature: 0.5, topK: 3, topP: 0.5, minP: 0.05)
        let chain = SamplerChain(parameters: p)
        let result = Self.base.withUnsafeBufferPointer { chain.distribution(logits: $0, history: []) }
        Self.expect(result.map { ($0.id, $0.probability) }, [(3, 16.0 / 25), (2, 9.0 / 25)])
    }

    @Test func sameSeedSameTokensDifferentSeedsDiffer() {
        let logits = [Float](repeating: 0, count: 1000)
        func draw(_ seed: UInt64) -> [Int] {
            var chain = SamplerChain(steps: [], seed: seed)
            return logits.withUnsafeBufferPointer { buffer in (0..<50).map { _ in chain.sample(logits: buffer, history: []) } }
        }
        #expect(draw(7) == draw(7))
        #expect(draw(7) != draw(8))
    }

    @Test func drawsFollowTheDistribution() {
        var chain = SamplerChain(steps: [], seed: 1)
        let logits = Self.base
        var counts = [0, 0, 0, 0]
        logits.withUnsafeBufferPointer { buffer in
            for _ in 0..<20000 { counts[chain.sample(logits: buffer, history: [])] += 1 }
        }
        for (i, expected) in [0.1, 0.2, 0.3, 0.4].enumerated() {
            #expect(abs(Double(counts[i]) / 20000 - expected) < 0.015)
        }
    }

    @Test func parametersAreValidated() {
        #expect(throws: InferError.self) { try GenerateParameters(temperature: -1).validate() }
        #expect(throws: InferError.self) { try GenerateParameters(topP: 0).validate() }
        #expect(throws: InferError.self) { try GenerateParameters(stop: [""]).validate() }
        #expect(throws: Never.self) { try GenerateParameters().validate() }
    }
}

/// Stop strings that arrive split over several pieces of text.
struct StopStringTests {
    static func run(_ pieces: [String], stops: [String]) -> (String, Bool) {
        var matcher = StopStringMatcher(stops)
        var out = ""
        for piece in pieces {
            let (emit, stopped) = matcher.feed(piece)
            out += emit
            if stopped { return (out, true) }
        }
        return (out + matcher.flush(), false)
    }

    @Test func stopSpanningPieces() {
        #expect(Self.run(["Hello", " <|", "end", "|> after"], stops: ["<|end|>"]) == ("Hello ", true))
        #expect(Self.run(["ab", "c"], stops: ["bc"]) == ("a", true))
    }

    @Test func falseStartIsReleased() {
        #expect(Self.run(["Hello <|", "en", "d but not"], stops: ["<|end|>"]) == ("Hello <|end but not", false))
        var matcher = StopStringMatcher(["STOP"])
        #expect(matcher.feed("go ST").emit == "go ")   // "ST" is held back
        #expect(matcher.feed("ay").emit == "STay")       // ruled out: released
    }

    @Test func earliestStopWins() {
        #expect(Self.run(["one two three"], stops: ["three", "two"]) == ("one ", true))
    }

    @Test func multiByteStops() {
        #expect(Self.run(["日本", "語で", "す"], stops: ["語で"]) == ("日本", true))
        #expect(Self.run(["naïve ", "café"], stops: ["é!"]) == ("naïve café", false))
    }
}

/// Streaming detokenization never splits a character.
struct StreamingTests {
    @Test func heldBytesCompleteCharacters() {
        #expect(UTF8Boundary.completePrefixLength([0x61, 0xE6, 0x97]) == 1)
        #expect(UTF8Boundary.completePrefixLength([0x61, 0xE6, 0x97, 0xA5]) == 4)
        #expect(UTF8Boundary.completePrefixLength([0xF0, 0x9F, 0x98]) == 0)
        #expect(UTF8Boundary.completePrefixLength([0x80]) == 1)  // stray continuation byte: emitted as U+FFFD
    }

    @Test func byteFallbackTokensAreJoined() throws {
        let model = try Model(path: try TinyModel().builder().write())
        // "é" = C3 A9 and "😀" = F0 9F 98 80, one byte token each (byte b is token 3 + b).
        let ids = [0xC3, 0xA9, 0x61, 0xF0, 0x9F, 0x98, 0x80].map { 3 + $0 }
        var detokenizer = StreamingDetokenizer(tokenizer: model.tokenizer)
        var pieces: [String] = []
        for id in ids { pieces.append(detokenizer.append(id)) }
        pieces.append(detokenizer.flush())
        #expect(pieces == ["", "é", "a", "", "", "", "😀", ""])
        #expect(pieces.joined() == model.tokenizer.decode(ids))
    }
}
