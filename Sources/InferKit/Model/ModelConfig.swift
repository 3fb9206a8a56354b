/// The hyperparameters of a transformer, read from the model file, and the description of its
/// blocks that every execution path reads (`block`, `layers`).
public struct ModelConfig: Sendable, Equatable {
    /// The model's family (`general.architecture`: llama, qwen2, gemma3, ...).
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
    /// What a block computes, the same in every block.
    public var block: BlockDescription
    /// What differs between blocks: (layers).
    public var layers: [LayerDescription]

    public var kvDim: Int { kvHeadCount * headDim }
    public var qDim: Int { headCount * headDim }
    /// Leading elements of each head that rotate (the rest pass through).
    public var ropeDim: Int { block.rope.dimensions }

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
        guard rmsEpsilon > 0, rmsEpsilon < 1 else {
            throw fail("RMS epsilon \(rmsEpsilon) is out of range")
        }
        guard layers.count == layerCount else {
            throw fail("\(layers.count) layer descriptions for \(layerCount) blocks")
        }
        try block.validate(layers: layers, ropeDim: ropeDim, fail: fail)
    }
}

/// How rotary position embedding pairs up the elements of a head.
public enum RopeStyle: String, Sendable {
    /// Adjacent pairs (x[2i], x[2i+1]): llama2.c and GGUF `llama` files.
    case normal
    /// Halves (x[i], x[i + d/2]): NeoX, Qwen2, Phi-3, Gemma.
    case neox
}

/// Rotary position embedding: how pairs are formed and the rotations the blocks use.
public struct RoPE: Sendable, Equatable {
    public var style: RopeStyle
    /// Leading elements of each head that rotate.
    public var dimensions: Int
    /// The distinct rotations; each block names one (`LayerDescription.rotation`).
    public var rotations: [Rotation]

    /// The angles of one rotation: pair i turns by position × base^(-2i/dimensions) ÷ factor_i × scale.
    public struct Rotation: Sendable, Equatable {
        public var base: Float
        /// Per-pair divisors of the frequencies (`rope_freqs.weight`: Llama 3.1's long-context
        /// scaling; Phi-3's long or short factors), (dimensions / 2); nil: none.
        public var frequencyFactors: [Float]?
        /// Linear position scaling (1 / `rope.scaling.factor`); 1: none.
        public var scale: Float = 1
        /// Multiplies the cosines and sines (Phi-3's long-context attention factor); 1: none.
        public var magnitude: Float = 1
        /// Other frequency factors for sessions of a longer context (Phi-3's long factors).
        public var longContext: LongContext?

        public init(base: Float, frequencyFactors: [Float]? = nil, scale: Float = 1, magnitude: Float = 1) {
            self.base = base
            self.frequencyFactors = frequencyFactors
            self.scale = scale
            self.magnitude = magnitude
        }

        /// The frequency factors of a session that holds `contextLength` positions.
        public func frequencyFactors(contextLength: Int) -> [Float]? {
            if let longContext, contextLength >= longContext.from { return longContext.frequencyFactors }
            return frequencyFactors
        }
    }

    /// Frequency factors that replace a rotation's own in sessions of at least `from` positions.
    public struct LongContext: Sendable, Equatable {
        public var frequencyFactors: [Float]
        public var from: Int
    }

    public init(style: RopeStyle, dimensions: Int, rotations: [Rotation]) {
        self.style = style
        self.dimensions = dimensions
        self.rotations = rotations
    }
}

/// What every block of a model computes, beyond the Llama block (RMSNorm → attention with RoPE
/// → residual, RMSNorm → SwiGLU feed-forward → residual): the features a family turns on.
/// Every execution path (one token, a batch) reads this, and nothing else, to know what to do.
public struct BlockDescription: Sendable, Equatable {
    /// Where the RMSNorms of a sublayer are.
    public enum NormPlacement: String, Sendable {
        /// Before each sublayer (Llama).
        case pre = "pre-norm"
        /// Before each sublayer and on its output before the residual add (Gemma 2 and 3).
        case preAndPost = "pre- and post-norm"
    }

    /// What gates the feed-forward's up projection.
    public enum Activation: String, Sendable {
        /// silu(gate) × up (Llama, Qwen, Phi-3).
        case swiglu = "SwiGLU"
        /// gelu_tanh(gate) × up (Gemma).
        case geglu = "GeGLU (GELU tanh)"
    }

    public var norms: NormPlacement = .pre
    /// Q, K and V add biases (Qwen2).
    public var qkvBias = false
    /// Each head of Q and of K is RMS-normed before rotation (Qwen3, Gemma 3).
    public var qkNorm = false
    public var activation: Activation = .swiglu
    /// The token embedding is multiplied by this (Gemma: √dim); 1: as stored.
    public var embeddingScale: Float = 1
    /// Multiplies q · k; 1/√head_dim unless a family says otherwise.
    public var attentionScale: Float
    /// Attention scores are capped to (−cap, cap) by cap · tanh(score / cap) (Gemma 2); nil: none.
    public var attentionSoftCap: Float?
    /// The logits are capped likewise (Gemma 2); nil: none.
    public var finalLogitSoftCap: Float?
    /// The output projection is the token embedding.
    public var tiedOutput = false
    public var rope: RoPE

    public init(attentionScale: Float, rope: RoPE) {
        self.attentionScale = attentionScale
        self.rope = rope
    }

    func validate(layers: [LayerDescription], ropeDim: Int, fail: (String) -> InferError) throws {
        guard !rope.rotations.isEmpty else { throw fail("no RoPE rotation") }
        for rotation in rope.rotations {
            guard rotation.base > 0, rotation.base.isFinite, rotation.scale > 0, rotation.scale.isFinite,
                  rotation.magnitude > 0, rotation.magnitude.isFinite else {
                throw fail("RoPE base \(rotation.base), scale \(rotation.scale) or attention factor \(rotation.magnitude) is out of range")
            }
            for factors in [rotation.frequencyFactors, rotation.longContext?.frequencyFactors].compactMap({ $0 }) {
                guard factors.count == ropeDim / 2 else {
                    throw fail("\(factors.count) RoPE frequency factors for \(ropeDim / 2) rotating pairs")
                }
                guard factors.allSatisfy({ $0 > 0 && $0.isFinite }) else { throw fail("a RoPE frequency factor is not positive") }
            }
        }
        for cap in [attentionSoftCap, finalLogitSoftCap].compactMap({ $0 }) where !(cap > 0 && cap.isFinite) {
            throw fail("soft-capping value \(cap) is not positive")
        }
        guard attentionScale > 0, attentionScale.isFinite, embeddingScale > 0, embeddingScale.isFinite else {
            throw fail("attention scale \(attentionScale) or embedding scale \(embeddingScale) is out of range")
        }
        for (l, layer) in layers.enumerated() {
            guard layer.rotation >= 0, layer.rotation < rope.rotations.count else {
                throw fail("block \(l) names RoPE rotation \(layer.rotation) of \(rope.rotations.count)")
            }
            if let window = layer.slidingWindow, window <= 0 {
                throw fail("block \(l) has a sliding window of \(window) positions")
            }
        }
    }
}

/// What one block does differently from the others.
public struct LayerDescription: Sendable, Equatable {
    /// Queries see only the last `slidingWindow` positions, their own included; nil: all.
    public var slidingWindow: Int?
    /// The rotation (index into `RoPE.rotations`) of its queries and keys.
    public var rotation: Int

    public init(slidingWindow: Int? = nil, rotation: Int = 0) {
        self.slidingWindow = slidingWindow
        self.rotation = rotation
    }
}

extension ModelConfig {
    /// A Llama block description: pre-norm, SwiGLU, one rotation of base `ropeBase` over `ropeDim`
    /// elements, attention scaled by 1/√head_dim.
    static func llama(architecture: String = "llama", dim: Int, hiddenDim: Int, layerCount: Int, headCount: Int,
                      kvHeadCount: Int, headDim: Int, vocabularySize: Int, contextLength: Int, rmsEpsilon: Float,
                      ropeBase: Float, ropeDim: Int, ropeStyle: RopeStyle = .normal) -> ModelConfig {
        let rope = RoPE(style: ropeStyle, dimensions: ropeDim, rotations: [RoPE.Rotation(base: ropeBase)])
        return ModelConfig(
            architecture: architecture, dim: dim, hiddenDim: hiddenDim, layerCount: layerCount, headCount: headCount,
            kvHeadCount: kvHeadCount, headDim: headDim, vocabularySize: vocabularySize, contextLength: contextLength,
            rmsEpsilon: rmsEpsilon,
            block: BlockDescription(attentionScale: headDim > 0 ? 1 / Float(headDim).squareRoot() : 1, rope: rope),
            layers: Array(repeating: LayerDescription(), count: (1...(1 << 24)).contains(layerCount) ? layerCount : 0))
    }
}
