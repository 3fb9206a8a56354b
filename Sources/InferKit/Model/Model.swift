import CKernels
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Which file format a model came from.
public enum ModelFormat: Sendable, Equatable, CustomStringConvertible {
    case gguf(version: Int)
    case llama2c(version: Int)

    public var description: String {
        switch self {
        case .gguf(let v): return "GGUF v\(v)"
        case .llama2c(let v): return "llama2.c v\(v)"
        }
    }
}

/// A loaded model: hyperparameters, weights (memory-mapped, used in place) and
/// tokenizer. Immutable after loading, so one `Model` can serve many sessions at once.
public final class Model: Sendable {
    public let path: String
    public let format: ModelFormat
    public let config: ModelConfig
    public let tokenizer: any Tokenizer
    /// GGUF metadata (empty for llama2.c files).
    public let metadata: [String: GGUFValue]
    /// The chat template the file carries (`tokenizer.chat_template`), if any.
    public let chatTemplate: String?
    /// Number of tensors in the file.
    public let tensorCount: Int
    let transformer: Transformer
    private let file: MappedFile
    /// Where the file's tensor data starts (the rest of the file, from there, is weights).
    private let tensorDataOffset: Int
    private let identityCache = IdentityCache()

    /// Loads a GGUF or llama2.c model. A llama2.c checkpoint has no vocabulary of its
    /// own and needs `tokenizerPath`; a GGUF uses its embedded vocabulary unless one is given.
    /// - Parameter threads: the thread count the weights are laid out for (default: the cores,
    ///   as sessions' default): generation is fastest in sessions with that many threads, and
    ///   computes the same results, a little slower, with any other count.
    public convenience init(path: String, tokenizerPath: String? = nil, threads: Int? = nil) throws {
        try self.init(file: MappedFile(path: path), tokenizerPath: tokenizerPath,
                      columnParts: threads ?? ThreadPool.defaultThreadCount)
    }

    /// Loads a model as `init(path:tokenizerPath:)` does, reading the whole file into memory
    /// first and reporting the fraction read to `loading` (from the disk, a large model takes a
    /// while; the interleaved copies of its weights are then made from memory).
    public convenience init(path: String, tokenizerPath: String? = nil, threads: Int? = nil,
                            loading: (Double) -> Void) throws {
        let file = try MappedFile(path: path)
        file.prefetch(progress: loading)
        try self.init(file: file, tokenizerPath: tokenizerPath, columnParts: threads ?? ThreadPool.defaultThreadCount)
    }

    /// Whether loading makes interleaved copies of matrices for the AVX-512 kernels
    /// (`ModelWeights.arranged`): yes unless the environment variable INFER_INTERLEAVE is 0.
    static let interleavesByDefault = getenv("INFER_INTERLEAVE").map { String(cString: $0) != "0" } ?? true

    /// Loads a model from bytes already in memory for the life of the process (a GGUF
    /// linked into an executable); `name` stands for its path in messages.
    /// - Parameter threads: as in `init(path:tokenizerPath:threads:)`.
    public convenience init(staticBytes: UnsafeRawBufferPointer, name: String, threads: Int? = nil) throws {
        try self.init(file: MappedFile(staticBytes: staticBytes, name: name), tokenizerPath: nil,
                      columnParts: threads ?? ThreadPool.defaultThreadCount)
    }

    /// - Parameter columnParts: O and down in that many column parts where they split so
    ///   (`ModelWeights.arranged`): one a thread of generation's forward pass (`infer_decode`);
    ///   by default one a core, as sessions' threads.
    init(file: MappedFile, tokenizerPath: String?, interleave: Bool = Model.interleavesByDefault,
         columnParts: Int = ThreadPool.defaultThreadCount) throws {
        let path = file.path
        let magic = file.bytes(at: 0, count: 4).map { $0.loadUnaligned(as: UInt32.self) }
        var tokenizer: (any Tokenizer)? = try tokenizerPath.map { try TokenizerLoader.load(path: $0) }
        var weights: ModelWeights
        if magic == GGUFFile.magic {
            let gguf = try GGUFFile(file: file)
            (config, weights) = try Architectures.load(gguf)
            tensorDataOffset = gguf.dataOffset
            format = .gguf(version: Int(gguf.version))
            tensorCount = gguf.tensors.count
            metadata = gguf.metadata
            chatTemplate = gguf.string("tokenizer.chat_template")
            if tokenizer == nil { tokenizer = try GGUFTokenizer.load(from: gguf) }
        } else {
            let loaded = try Llama2CModelFile.load(file)
            config = loaded.config
            weights = loaded.weights
            format = .llama2c(version: loaded.version)
            tensorDataOffset = 0
            tensorCount = loaded.weights.matrices.count + 2 * config.layerCount + 1
            metadata = [:]
            chatTemplate = nil
        }
        guard let tokenizer else {
            throw InferError.missingTokenizer(path: path, hint: "a llama2.c checkpoint has no vocabulary; pass its tokenizer.bin with --tokenizer (-z)")
        }
        guard tokenizer.vocabularySize >= config.vocabularySize else {
            throw InferError.invalidArgument("\(tokenizerPath ?? path): the tokenizer has \(tokenizer.vocabularySize) tokens but the model \(path) has a vocabulary of \(config.vocabularySize)")
        }
        // Interleaved copies are what every product reads: the file's pages of those matrices can
        // leave memory (they come back from the page cache if ever read).
        weights = weights.arranged(columnParts: columnParts, interleave: interleave, config: config) {
            file.release(bytesAt: $0.dataStart, count: $0.byteCount)
        }
        self.path = path
        self.file = file
        self.tokenizer = tokenizer
        self.transformer = Transformer(config: config, weights: weights)
    }

    /// Tokens that end generation: the tokenizer's EOS/EOT, and for llama2.c checkpoints
    /// BOS as well (llama2.c treats BOS as the boundary between stories).
    public var endOfGenerationTokens: Set<Int> {
        var tokens = tokenizer.special.endOfGeneration
        if case .llama2c = format, let bos = tokenizer.special.bos { tokens.insert(bos) }
        return tokens
    }

    /// Bytes of weights in the file, by storage type name.
    public var weightBytesByType: [(type: String, bytes: Int)] {
        var totals: [String: Int] = [:]
        var seen = Set<UnsafeRawPointer>()
        for (_, matrix) in transformer.weights.matrices where seen.insert(matrix.dataStart).inserted {
            totals[matrix.typeName, default: 0] += matrix.byteCount
        }
        return totals.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Reads the whole model file into memory now, reporting the fraction done (see
    /// `MappedFile.prefetch`).
    public func prefetch(progress: (Double) -> Void) {
        // Matrices read from interleaved copies: their file bytes are not needed.
        let copied = transformer.weights.matrices.compactMap { _, m -> Range<Int>? in
            guard m.isInterleaved else { return nil }
            let start = m.dataStart - file.base
            return start..<(start + m.byteCount)
        }
        file.prefetch(skipping: copied, progress: progress)
    }

    /// Size of the model file in bytes.
    public var fileSize: Int { file.size }

    /// A 64-bit hash of the model's tensor data (XXH64 of every byte of weights in the file, with
    /// its configuration): the same for every copy of the file wherever it lies, different for
    /// other weights. Prompt cache files carry it. Computed on first use (it reads the whole file).
    public var identity: UInt64 {
        identityCache.value {
            let data = file.base + tensorDataOffset
            let weights = infer_hash64(data, file.size - tensorDataOffset, 0)
            let shape = "\(config)"
            return Array(shape.utf8).withUnsafeBytes { infer_hash64($0.baseAddress, $0.count, weights) }
        }
    }
}

/// A value computed once, on first use, by whichever thread asks first.
private final class IdentityCache: @unchecked Sendable {
    private let lock = NSLock()
    private var cached: UInt64?

    func value(_ compute: () -> UInt64) -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        let value = compute()
        cached = value
        return value
    }
}
