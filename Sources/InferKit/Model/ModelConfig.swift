/// How rotary position embedding pairs up the elements of a head.
public enum RopeStyle: String, Sendable {
    /// Adjacent pairs (x[2i], x[2i+1]): llama2.c and GGUF `llama` files.
    case normal
    /// Halves (x[i], x[i + d/2]): NeoX, Qwen2, Phi-3, Gemma.
    case neox
}

/// The hyperparameters of a transformer, read from the model file.
public struct ModelConfig: Sendable, Equatable {
    public var architecture: String
    public var dim: Int
    public var hiddenDim: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var vocabularySize: Int
    /// The context length the model was trained for.
    public var contextLength: Int
    public var rmsEpsilon: Float
    public var ropeTheta: Float
    /// Leading elements of each head that rotate (the rest pass through).
    public var ropeDim: Int
    public var ropeStyle: RopeStyle

    public var kvDim: Int { kvHeadCount * headDim }
    public var qDim: Int { headCount * headDim }

    /// Checks the values are usable; `path` names the file in the error.
    func validate(path: String) throws {
        func fail(_ problem: String) -> InferError { .invalidFile(path: path, problem: problem) }
        let positive: [(String, Int)] = [
            ("embedding length", dim), ("feed-forward length", hiddenDim), ("block count", layerCount),
            ("head count", headCount), ("KV head count", kvHeadCount), ("head dimension", headDim),
            ("vocabulary size", vocabularySize), ("context length", contextLength),
        ]
        for (name, value) in positive where value <= 0 || value > 1 << 24 {
            throw fail("\(name) \(value) is out of range")
        }
        guard headCount % kvHeadCount == 0 else {
            throw fail("head count \(headCount) is not a multiple of the KV head count \(kvHeadCount)")
        }
        guard ropeDim > 0, ropeDim <= headDim, ropeDim % 2 == 0 else {
            throw fail("RoPE dimension \(ropeDim) does not fit head dimension \(headDim)")
        }
        guard rmsEpsilon > 0, rmsEpsilon < 1, ropeTheta > 0 else {
            throw fail("RMS epsilon \(rmsEpsilon) or RoPE base \(ropeTheta) is out of range")
        }
    }
}
