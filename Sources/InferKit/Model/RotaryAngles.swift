import CKernels

/// The rotations of a session's RoPE: each rotation's frequencies, computed once for the session's
/// context (Phi-3's factors depend on it), and the cosines and sines of a position for all of them.
struct RotaryAngles {
    /// Rotating pairs of a head.
    let pairs: Int
    /// Rotations a position's angles cover (`RoPE.rotations`).
    let count: Int
    private let frequencies: [Float]  // (rotations, pairs)
    private let magnitudes: [Float]   // (rotations)

    init(rope: RoPE, contextLength: Int) {
        let pairs = rope.dimensions / 2
        self.pairs = pairs
        count = rope.rotations.count
        var frequencies = [Float](repeating: 0, count: rope.rotations.count * pairs)
        frequencies.withUnsafeMutableBufferPointer { out in
            for (r, rotation) in rope.rotations.enumerated() {
                let factors = rotation.frequencyFactors(contextLength: contextLength)
                infer_rope_frequencies(Int32(rope.dimensions), rotation.base, factors, rotation.scale,
                                       out.baseAddress! + r * pairs)
            }
        }
        self.frequencies = frequencies
        magnitudes = rope.rotations.map(\.magnitude)
    }

    /// The cosines and sines of `position` for every rotation, (rotations, pairs) each; with
    /// `pure`, without the rotations' magnitudes (turning an already rotated key further).
    func write(position: Int, cosines: UnsafeMutablePointer<Float>, sines: UnsafeMutablePointer<Float>,
               pure: Bool = false) {
        frequencies.withUnsafeBufferPointer { f in
            for r in 0..<count {
                infer_rope_angles_of(Int32(position), Int32(pairs), f.baseAddress! + r * pairs, pure ? 1 : magnitudes[r],
                                     cosines + r * pairs, sines + r * pairs)
            }
        }
    }
}
