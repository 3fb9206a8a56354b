import Foundation

/// Size and type of a model as llama.cpp reports them (llama-bench's `model_type`,
/// `model_size` and `model_n_params`), so the two engines' tables read alike.
extension Model {
    /// Parameters: every weight matrix (a tied output matrix counted once) and norm vector.
    public var parameterCount: Int {
        distinctMatrices.reduce(normElementCount) { $0 + $1.rows * $1.cols }
    }

    /// Bytes of all tensors as stored in the file (norm vectors are f32).
    public var weightByteCount: Int {
        distinctMatrices.reduce(normElementCount * MemoryLayout<Float>.size) { $0 + $1.byteCount }
    }

    /// "<architecture> <size> <type>", e.g. "llama 1.1B Q4_0": the type is the file's
    /// `general.file_type` in llama.cpp's words, or else the type holding the most bytes.
    public var typeDescription: String {
        let n = Double(parameterCount)
        let size = n >= 1e9 ? String(format: "%.1fB", n / 1e9)
            : n >= 1e6 ? String(format: "%.0fM", n / 1e6) : String(format: "%.0fK", n / 1e3)
        let type = metadata["general.file_type"]?.int.flatMap { Self.fileTypeNames[$0] }
            ?? weightBytesByType.max { $0.bytes < $1.bytes }?.type ?? "?"
        return "\(config.architecture) \(size) \(type)"
    }

    /// llama.cpp's names of `general.file_type` values (llama_ftype).
    static let fileTypeNames: [Int: String] = [
        0: "all F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1",
        10: "Q2_K - Medium", 11: "Q3_K - Small", 12: "Q3_K - Medium", 13: "Q3_K - Large",
        14: "Q4_K - Small", 15: "Q4_K - Medium", 16: "Q5_K - Small", 17: "Q5_K - Medium",
        18: "Q6_K", 32: "BF16",
    ]

    /// What the model's blocks compute, as (name, description) lines for `infer info`: norms,
    /// attention (biases, Q/K norms, scale, soft-cap, sliding window), feed-forward activation,
    /// RoPE (layout, bases, factors, scaling), embedding scale, output, logit soft-cap.
    public var blockFeatures: [(name: String, value: String)] {
        let c = config, b = c.block
        var attention: [String] = []
        if b.qkvBias { attention.append("Q/K/V biases") }
        if b.qkNorm { attention.append("Q/K RMSNorm") }
        if abs(b.attentionScale * Float(c.headDim).squareRoot() - 1) > 1e-6 {
            attention.append("scale \(b.attentionScale)")
        }
        if let cap = b.attentionSoftCap { attention.append("scores soft-capped at \(cap)") }
        let windows = c.layers.compactMap(\.slidingWindow)
        if let window = windows.first {
            attention.append("sliding window of \(window) on \(windows.count) of \(c.layerCount) blocks")
        }
        let rotations = b.rope.rotations.enumerated().map { r, rotation -> String in
            var parts = ["base \(rotation.base)"]
            if rotation.frequencyFactors != nil { parts.append("frequency factors") }
            if let long = rotation.longContext { parts.append("long-context factors from \(long.from) positions") }
            if rotation.scale != 1 { parts.append("linear scale \(rotation.scale)") }
            if rotation.magnitude != 1 { parts.append("attention factor \(rotation.magnitude)") }
            let users = c.layers.filter { $0.rotation == r }.count
            return parts.joined(separator: ", ") + (b.rope.rotations.count > 1 ? " (\(users) blocks)" : "")
        }
        var lines: [(String, String)] = [
            ("block", b.norms.rawValue),
            ("attention", attention.isEmpty ? "plain" : attention.joined(separator: ", ")),
            ("activation", b.activation.rawValue),
            ("RoPE", "\(b.rope.style.rawValue), \(b.rope.dimensions) dimensions, " + rotations.joined(separator: "; ")),
        ]
        if b.embeddingScale != 1 { lines.append(("embedding", "scaled by \(b.embeddingScale)")) }
        lines.append(("output", b.tiedOutput ? "tied to the embedding" : "its own matrix"))
        if let cap = b.finalLogitSoftCap { lines.append(("logits", "soft-capped at \(cap)")) }
        return lines
    }

    private var distinctMatrices: [WeightMatrix] {
        var seen = Set<UnsafeRawPointer>()
        return transformer.weights.matrices.map(\.1).filter { seen.insert($0.dataStart).inserted }
    }

    private var normElementCount: Int {
        transformer.weights.layers.reduce(config.dim) { $0 + $1.vectors.reduce(0) { $0 + $1.count } }
    }
}
