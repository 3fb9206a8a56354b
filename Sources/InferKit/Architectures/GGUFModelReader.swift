import CKernels

/// A GGUF file as a model family reads it: its `<architecture>.*` hyperparameters and its
/// tensors, each checked against the shape the hyperparameters give and against the types the
/// kernels compute, with errors that name the key or tensor. It remembers which tensors were
/// read, so that a tensor no family reads (a feature infer does not implement) is refused by name.
final class GGUFModelReader {
    let gguf: GGUFFile
    let architecture: String
    private var read = Set<String>()

    init(_ gguf: GGUFFile, architecture: String) {
        self.gguf = gguf
        self.architecture = architecture
    }

    var path: String { gguf.file.path }

    func invalid(_ problem: String) -> InferError { .invalidFile(path: path, problem: problem) }
    func unsupported(_ what: String) -> InferError { .unsupported(path: path, what: what) }

    // MARK: hyperparameters (`<architecture>.<key>`)

    func int(_ key: String) -> Int? { gguf.int("\(architecture).\(key)") }
    func float(_ key: String) -> Float? { gguf.double("\(architecture).\(key)").map(Float.init) }
    func string(_ key: String) -> String? { gguf.string("\(architecture).\(key)") }
    func array(_ key: String) -> [GGUFValue]? { gguf.array("\(architecture).\(key)") }
    func has(_ key: String) -> Bool { gguf.metadata["\(architecture).\(key)"] != nil }

    func required(_ key: String) throws -> Int {
        guard let value = int(key) else {
            throw invalid("metadata \(architecture).\(key) is missing or not an integer")
        }
        return value
    }

    /// The hyperparameters every family has, and the Llama block over them (pre-norm, SwiGLU,
    /// one rotation of `rope.freq_base`, attention scaled by 1/√head_dim); a family then turns
    /// on its own features. Refuses what no family here implements: keys and values of different
    /// head sizes, RoPE scaling other than linear and the kinds in `ropeScalings` (which the
    /// family reads itself).
    func hyperparameters(ropeStyle: RopeStyle, ropeScalings: Set<String> = []) throws -> ModelConfig {
        let dim = try required("embedding_length")
        let heads = try required("attention.head_count")
        let headDim = int("attention.key_length") ?? (heads > 0 ? dim / heads : 0)
        if let valueLength = int("attention.value_length"), valueLength != headDim {
            throw unsupported("value heads of \(valueLength) elements with key heads of \(headDim)")
        }
        guard let embedding = gguf.tensor(named: TensorName.tokenEmbedding.weight()), embedding.shape.count == 2 else {
            throw invalid("tensor '\(TensorName.tokenEmbedding.weight())' is missing or not 2-dimensional")
        }
        // Every block has tensors of its own: a count the file cannot hold is refused before
        // anything is sized by it.
        let blocks = try required("block_count")
        guard blocks <= gguf.tensors.count else {
            throw invalid("block_count \(blocks) is more than the file's \(gguf.tensors.count) tensors can hold")
        }
        var config = ModelConfig.llama(
            architecture: architecture, dim: dim, hiddenDim: try required("feed_forward_length"),
            layerCount: blocks, headCount: heads,
            kvHeadCount: int("attention.head_count_kv") ?? heads, headDim: headDim,
            vocabularySize: embedding.shape[1], contextLength: int("context_length") ?? 2048,
            rmsEpsilon: float("attention.layer_norm_rms_epsilon") ?? 1e-5, ropeBase: float("rope.freq_base") ?? 10000,
            ropeDim: int("rope.dimension_count") ?? headDim, ropeStyle: ropeStyle)
        if !ropeScalings.contains(string("rope.scaling.type") ?? "none") {
            config.block.rope.rotations[0].scale = try linearRopeScale()
        }
        return config
    }

    /// 1 / the linear RoPE scaling factor (`rope.scaling.type` linear, or the older
    /// `rope.scale_linear`); 1 without scaling. Other kinds of scaling are refused by name.
    func linearRopeScale() throws -> Float {
        let kind = string("rope.scaling.type") ?? "none"
        switch kind {
        case "none":
            if let factor = float("rope.scale_linear"), factor != 1 {
                guard factor > 0, factor.isFinite else { throw invalid("rope.scale_linear \(factor) is out of range") }
                return 1 / factor
            }
            return 1
        case "linear":
            let factor = float("rope.scaling.factor") ?? 1
            guard factor > 0, factor.isFinite else { throw invalid("rope.scaling.factor \(factor) is out of range") }
            return 1 / factor
        default:
            throw unsupported("RoPE scaling '\(kind)' (\(architecture).rope.scaling.type; infer implements linear scaling and frequency factors)")
        }
    }

    /// Which blocks use a sliding window, from `attention.sliding_window_pattern` (an array of
    /// booleans, one a block, or a period n: every block but each n-th), else `defaultPeriod`,
    /// as llama.cpp reads it (a period of n: block l is windowed where l mod n < n - 1).
    func slidingLayers(count: Int, defaultPeriod: Int) throws -> [Bool] {
        if let values = array("attention.sliding_window_pattern") {
            let flags = values.compactMap(\.bool)
            guard flags.count == values.count, flags.count == count else {
                throw invalid("\(architecture).attention.sliding_window_pattern has \(values.count) values for \(count) blocks")
            }
            return flags
        }
        let period = int("attention.sliding_window_pattern") ?? defaultPeriod
        guard period >= 0 else { throw invalid("\(architecture).attention.sliding_window_pattern is \(period)") }
        return (0..<count).map { period == 0 || $0 % period < period - 1 }
    }

    // MARK: tensors

    func hasTensor(_ name: String) -> Bool { gguf.tensor(named: name) != nil }

    private func tensor(_ name: String, _ shape: [Int]) throws -> GGUFFile.TensorInfo {
        guard let t = gguf.tensor(named: name) else {
            throw invalid("tensor '\(name)' is missing")
        }
        guard t.shape == shape else {
            throw invalid("tensor '\(name)' has shape \(t.shape) but the hyperparameters need \(shape)")
        }
        guard t.type.isSupported else {
            throw unsupported("tensor '\(name)' has type \(t.type.name), which infer cannot compute yet")
        }
        read.insert(name)
        return t
    }

    /// A (rows, cols) matrix; `cols` is the input length (GGML's ne0), `rows` the output length.
    func matrix(_ name: String, rows: Int, cols: Int) throws -> WeightMatrix {
        let t = try tensor(name, [cols, rows])
        return WeightMatrix(rows: rows, cols: cols, storage: .ggml(t.type, gguf.data(of: t), rowBytes: t.byteCount / rows))
    }

    /// A matrix whose rows hold several matrices one after the other (Phi-3's fused Q/K/V and
    /// gate/up), as views of their rows (nothing is copied).
    func fusedMatrices(_ name: String, rows: [Int], cols: Int) throws -> [WeightMatrix] {
        let whole = try matrix(name, rows: rows.reduce(0, +), cols: cols)
        guard case .ggml(let type, let data, let rowBytes) = whole.storage else { preconditionFailure() }
        var first = 0
        return rows.map { count in
            defer { first += count }
            return WeightMatrix(rows: count, cols: cols, storage: .ggml(type, data + first * rowBytes, rowBytes: rowBytes))
        }
    }

    /// A vector of `length` values as f32 (norms, biases, RoPE factors).
    func vector(_ name: String, length: Int) throws -> [Float] {
        let t = try tensor(name, [length])
        var out = [Float](repeating: 0, count: length)
        out.withUnsafeMutableBufferPointer { buffer in
            infer_dequantize_row(infer_type(t.type.rawValue), gguf.data(of: t), buffer.baseAddress!, Int32(length))
        }
        return out
    }

    /// The vector if the file has it (checked like any), else nil.
    func optionalVector(_ name: String, length: Int) throws -> [Float]? {
        hasTensor(name) ? try vector(name, length: length) : nil
    }

    /// Refuses a tensor no part of the family read: the file uses a feature infer does not
    /// implement, and running without it would give wrong text.
    func checkEveryTensorRead() throws {
        if let unread = gguf.tensors.first(where: { !read.contains($0.name) }) {
            throw unsupported("tensor '\(unread.name)' (a feature of this \(architecture) model that infer does not implement)")
        }
    }
}

/// How a family stores a block's matrices.
struct BlockTensors {
    /// Q, K and V in one tensor `attn_qkv` (Phi-3), else three.
    var fusedQKV = false
    /// Gate and up in one tensor `ffn_up` of twice the rows, gate first (Phi-3), else two.
    var fusedGateUp = false
}

extension GGUFModelReader {
    /// The weights of a model whose blocks hold the tensors `config.block` describes (biases,
    /// Q/K norms, post-norms where it says so), stored as `layout` says. A file without
    /// `output.weight` ties the output to the embedding (`config.block.tiedOutput`).
    func weights(config: inout ModelConfig, layout: BlockTensors = BlockTensors()) throws -> ModelWeights {
        let c = config, b = config.block
        let embedding = try matrix(TensorName.tokenEmbedding.weight(), rows: c.vocabularySize, cols: c.dim)
        let layers = try (0..<c.layerCount).map { l -> LayerWeights in
            func weight(_ name: TensorName, rows: Int, cols: Int) throws -> WeightMatrix {
                try matrix(name.weight(layer: l), rows: rows, cols: cols)
            }
            func vector(_ name: TensorName, _ length: Int, bias: Bool = false) throws -> [Float] {
                try self.vector(bias ? name.bias(layer: l) : name.weight(layer: l), length: length)
            }
            let q, k, v: WeightMatrix
            if layout.fusedQKV {
                let parts = try fusedMatrices(TensorName.attentionQKV.weight(layer: l), rows: [c.qDim, c.kvDim, c.kvDim], cols: c.dim)
                (q, k, v) = (parts[0], parts[1], parts[2])
            } else {
                q = try weight(.attentionQ, rows: c.qDim, cols: c.dim)
                k = try weight(.attentionK, rows: c.kvDim, cols: c.dim)
                v = try weight(.attentionV, rows: c.kvDim, cols: c.dim)
            }
            let gate, up: WeightMatrix
            if layout.fusedGateUp {
                let parts = try fusedMatrices(TensorName.ffnUp.weight(layer: l), rows: [c.hiddenDim, c.hiddenDim], cols: c.dim)
                (gate, up) = (parts[0], parts[1])
            } else {
                gate = try weight(.ffnGate, rows: c.hiddenDim, cols: c.dim)
                up = try weight(.ffnUp, rows: c.hiddenDim, cols: c.dim)
            }
            let post = b.norms == .preAndPost
            return LayerWeights(
                attentionNorm: try vector(.attentionNorm, c.dim), wq: q, wk: k, wv: v,
                wo: try weight(.attentionOutput, rows: c.dim, cols: c.qDim),
                qBias: b.qkvBias ? try vector(.attentionQ, c.qDim, bias: true) : nil,
                kBias: b.qkvBias ? try vector(.attentionK, c.kvDim, bias: true) : nil,
                vBias: b.qkvBias ? try vector(.attentionV, c.kvDim, bias: true) : nil,
                qNorm: b.qkNorm ? try vector(.attentionQNorm, c.headDim) : nil,
                kNorm: b.qkNorm ? try vector(.attentionKNorm, c.headDim) : nil,
                postAttentionNorm: post ? try vector(.postAttentionNorm, c.dim) : nil,
                ffnNorm: try vector(.ffnNorm, c.dim), gate: gate, up: up,
                down: try weight(.ffnDown, rows: c.dim, cols: c.hiddenDim),
                postFFNNorm: post ? try vector(.postFFNNorm, c.dim) : nil)
        }
        let outputNorm = try vector(TensorName.outputNorm.weight(), length: c.dim)
        config.block.tiedOutput = !hasTensor(TensorName.output.weight())
        let output = config.block.tiedOutput ? embedding
            : try matrix(TensorName.output.weight(), rows: c.vocabularySize, cols: c.dim)
        return ModelWeights(tokenEmbedding: embedding, layers: layers, outputNorm: outputNorm, output: output)
    }
}
