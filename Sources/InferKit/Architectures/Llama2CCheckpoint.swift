/// llama2.c checkpoints (`model.bin`):
/// - version 0 (legacy): a 7-int32 header (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
///   vocab_size, seq_len; a negative vocab_size means a separate classifier), then f32
///   weights grouped by kind across layers, with RoPE tables that infer recomputes.
/// - version 1: magic "ak42", version, the same 7 ints, a shared-classifier byte, padding
///   to 256 bytes, then f32 weights (norms first).
/// - version 2: as version 1 plus an int32 group size; norms in f32, then every matrix as
///   int8 values followed by one f32 scale per group over the flattened matrix.
enum Llama2CModelFile {
    static let magic: UInt32 = 0x616B_3432  // "ak42"

    struct Loaded {
        let config: ModelConfig
        let weights: ModelWeights
        let version: Int
    }

    static func load(_ file: MappedFile) throws -> Loaded {
        var reader = ByteReader(file)
        let path = file.path
        func invalid(_ problem: String) -> InferError { .invalidFile(path: path, problem: problem) }

        let first = try reader.read(UInt32.self, "header")
        var version = 0
        if first == magic {
            version = Int(try reader.read(Int32.self, "version"))
            guard version == 1 || version == 2 else {
                throw InferError.unsupported(path: path, what: "llama2.c checkpoint version \(version) (1 and 2 are known)")
            }
        } else {
            reader = ByteReader(file)
        }
        var header: [Int] = []
        for name in ["dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"] {
            header.append(Int(try reader.read(Int32.self, "header field \(name)")))
        }
        var shared = header[5] > 0
        var groupSize = 0
        if version >= 1 {
            shared = try reader.read(UInt8.self, "shared-classifier flag") != 0
            if version == 2 { groupSize = Int(try reader.read(Int32.self, "group size")) }
        }
        // The file's size is checked against the header before anything is sized by the header
        // (a hostile one claims 2^24 layers of 2^24 x 2^24 matrices), with arithmetic that stops
        // at overflow (nil): no file holds that many bytes.
        for (name, value) in zip(["dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"], header)
        where value == 0 || (value < 0 && name != "vocab_size") {
            throw invalid("not a llama2.c checkpoint (header: \(name) \(value))")
        }
        guard header[0] % header[3] == 0 else {
            throw invalid("not a llama2.c checkpoint (header: dim \(header[0]), n_heads \(header[3]))")
        }
        let L = header[2], dim = header[0], hidden = header[1], vocab = abs(header[5])
        let headDim = dim / header[3], kvDim = headDim * header[4]
        // (name, rows, cols) of the matrices each layer has, in file order.
        let layerShapes = [("wq", dim, dim), ("wk", kvDim, dim), ("wv", kvDim, dim), ("wo", dim, dim),
                           ("w1", hidden, dim), ("w2", dim, hidden), ("w3", hidden, dim)]
        let embeddingValues = vocab * dim  // at most 2^62
        let matrixValues = Checked.sum([embeddingValues, shared ? 0 : embeddingValues]
                                       + layerShapes.map { Checked.product(L, Checked.product($0.1, $0.2)) })
        let normCount = Checked.sum([Checked.product(2 * L, dim), dim])
        let ropeTableFloats = Checked.product(header[6], headDim)  // version 0: freq_cis_real + imag
        switch version {
        case 0:
            try checkSize(file, expected: Checked.sum([28, Checked.product(4, Checked.sum([normCount, matrixValues, ropeTableFloats]))]))
        case 1:
            try checkSize(file, expected: Checked.sum([256, Checked.product(4, Checked.sum([normCount, matrixValues]))]))
        default:
            // Multiples of 4 keep every f32 scale array 4-byte aligned in the mapping.
            guard groupSize > 0, groupSize <= 1 << 16, groupSize % 4 == 0 else {
                throw invalid("group size \(groupSize) is out of range")
            }
            for (name, rows, cols) in [("tok_embeddings", vocab, dim)] + layerShapes
            where Checked.product(rows, cols).map({ $0 % groupSize != 0 }) ?? true {
                throw invalid("\(name) has \(rows) x \(cols) values, not a multiple of the group size \(groupSize)")
            }
            // Every matrix's values as int8, then one f32 scale per group.
            let quantBytes = Checked.sum([matrixValues, Checked.product(4, matrixValues.map { $0 / groupSize })])
            try checkSize(file, expected: Checked.sum([256, Checked.product(4, normCount), quantBytes]))
        }
        let config = ModelConfig.llama(
            dim: dim, hiddenDim: hidden, layerCount: L, headCount: header[3], kvHeadCount: header[4], headDim: headDim,
            vocabularySize: vocab, contextLength: header[6], rmsEpsilon: 1e-5, ropeBase: 10000, ropeDim: headDim)
        try config.validate(path: path)

        var section = Sections(file: file)
        let weights: ModelWeights
        switch version {
        case 0:
            section.offset = 28
            let embedding = section.f32Matrix(rows: vocab, cols: dim)
            let attNorm = section.f32Vectors(count: L, length: dim)
            let wq = section.f32Matrices(count: L, rows: dim, cols: dim)
            let wk = section.f32Matrices(count: L, rows: kvDim, cols: dim)
            let wv = section.f32Matrices(count: L, rows: kvDim, cols: dim)
            let wo = section.f32Matrices(count: L, rows: dim, cols: dim)
            let ffnNorm = section.f32Vectors(count: L, length: dim)
            let w1 = section.f32Matrices(count: L, rows: hidden, cols: dim)
            let w2 = section.f32Matrices(count: L, rows: dim, cols: hidden)
            let w3 = section.f32Matrices(count: L, rows: hidden, cols: dim)
            let finalNorm = section.f32Vectors(count: 1, length: dim)[0]
            section.offset += 4 * ropeTableFloats!
            let output = shared ? embedding : section.f32Matrix(rows: vocab, cols: dim)
            weights = assemble(embedding: embedding, attNorm: attNorm, wq: wq, wk: wk, wv: wv, wo: wo,
                               ffnNorm: ffnNorm, w1: w1, w2: w2, w3: w3, finalNorm: finalNorm, output: output)
        case 1:
            section.offset = 256
            let attNorm = section.f32Vectors(count: L, length: dim)
            let ffnNorm = section.f32Vectors(count: L, length: dim)
            let finalNorm = section.f32Vectors(count: 1, length: dim)[0]
            let embedding = section.f32Matrix(rows: vocab, cols: dim)
            let wq = section.f32Matrices(count: L, rows: dim, cols: dim)
            let wk = section.f32Matrices(count: L, rows: kvDim, cols: dim)
            let wv = section.f32Matrices(count: L, rows: kvDim, cols: dim)
            let wo = section.f32Matrices(count: L, rows: dim, cols: dim)
            let w1 = section.f32Matrices(count: L, rows: hidden, cols: dim)
            let w2 = section.f32Matrices(count: L, rows: dim, cols: hidden)
            let w3 = section.f32Matrices(count: L, rows: hidden, cols: dim)
            let output = shared ? embedding : section.f32Matrix(rows: vocab, cols: dim)
            weights = assemble(embedding: embedding, attNorm: attNorm, wq: wq, wk: wk, wv: wv, wo: wo,
                               ffnNorm: ffnNorm, w1: w1, w2: w2, w3: w3, finalNorm: finalNorm, output: output)
        default:
            section.offset = 256
            let attNorm = section.f32Vectors(count: L, length: dim)
            let ffnNorm = section.f32Vectors(count: L, length: dim)
            let finalNorm = section.f32Vectors(count: 1, length: dim)[0]
            func q8(_ count: Int, _ rows: Int, _ cols: Int) -> [WeightMatrix] {
                (0..<count).map { _ in section.q8Matrix(rows: rows, cols: cols, groupSize: groupSize) }
            }
            let embedding = q8(1, vocab, dim)[0]
            let wq = q8(L, dim, dim), wk = q8(L, kvDim, dim), wv = q8(L, kvDim, dim), wo = q8(L, dim, dim)
            let w1 = q8(L, hidden, dim), w2 = q8(L, dim, hidden), w3 = q8(L, hidden, dim)
            let output = shared ? embedding : q8(1, vocab, dim)[0]
            weights = assemble(embedding: embedding, attNorm: attNorm, wq: wq, wk: wk, wv: wv, wo: wo,
                               ffnNorm: ffnNorm, w1: w1, w2: w2, w3: w3, finalNorm: finalNorm, output: output)
        }
        return Loaded(config: config, weights: weights, version: version)
    }

    /// `expected` nil: the header describes more bytes than an Int can count.
    private static func checkSize(_ file: MappedFile, expected: Int?) throws {
        guard let expected else {
            throw InferError.invalidFile(path: file.path, problem: "its header describes more weights than any file can hold: the header is corrupt")
        }
        if file.size < expected {
            throw InferError.invalidFile(path: file.path, problem: "file is truncated: its header needs \(expected) bytes of weights but the file has \(file.size)")
        }
        if file.size > expected {
            throw InferError.invalidFile(path: file.path, problem: "file has \(file.size) bytes but its header describes \(expected): the hyperparameters do not match the weights")
        }
    }

    private static func assemble(embedding: WeightMatrix, attNorm: [[Float]], wq: [WeightMatrix], wk: [WeightMatrix],
                                 wv: [WeightMatrix], wo: [WeightMatrix], ffnNorm: [[Float]], w1: [WeightMatrix],
                                 w2: [WeightMatrix], w3: [WeightMatrix], finalNorm: [Float], output: WeightMatrix) -> ModelWeights {
        let layers = (0..<wq.count).map { l in
            LayerWeights(attentionNorm: attNorm[l], wq: wq[l], wk: wk[l], wv: wv[l], wo: wo[l],
                         ffnNorm: ffnNorm[l], gate: w1[l], up: w3[l], down: w2[l])
        }
        return ModelWeights(tokenEmbedding: embedding, layers: layers, outputNorm: finalNorm, output: output)
    }

    /// Sums and products of sizes from a header, nil once one overflows.
    private enum Checked {
        static func product(_ a: Int?, _ b: Int?) -> Int? {
            guard let a, let b else { return nil }
            let (result, overflow) = a.multipliedReportingOverflow(by: b)
            return overflow ? nil : result
        }

        static func sum(_ terms: [Int?]) -> Int? {
            var total = 0
            for term in terms {
                guard let term else { return nil }
                let (result, overflow) = total.addingReportingOverflow(term)
                if overflow { return nil }
                total = result
            }
            return total
        }
    }

    /// Walks the weight sections in file order. Sizes were checked against the file first.
    private struct Sections {
        let file: MappedFile
        var offset = 0

        mutating func f32Matrix(rows: Int, cols: Int) -> WeightMatrix {
            let m = WeightMatrix(rows: rows, cols: cols, storage: .ggml(.f32, file.base + offset, rowBytes: 4 * cols))
            offset += 4 * rows * cols
            return m
        }

        mutating func f32Matrices(count: Int, rows: Int, cols: Int) -> [WeightMatrix] {
            (0..<count).map { _ in f32Matrix(rows: rows, cols: cols) }
        }

        mutating func f32Vectors(count: Int, length: Int) -> [[Float]] {
            (0..<count).map { _ in
                let v = (0..<length).map { file.base.loadUnaligned(fromByteOffset: offset + 4 * $0, as: Float.self) }
                offset += 4 * length
                return v
            }
        }

        mutating func q8Matrix(rows: Int, cols: Int, groupSize: Int) -> WeightMatrix {
            let count = rows * cols
            let values = (file.base + offset).assumingMemoryBound(to: Int8.self)
            offset += count
            let scales = (file.base + offset).assumingMemoryBound(to: Float.self)
            offset += 4 * (count / groupSize)
            return WeightMatrix(rows: rows, cols: cols, storage: .groupedQ8(values: values, scales: scales, groupSize: groupSize))
        }
    }
}
