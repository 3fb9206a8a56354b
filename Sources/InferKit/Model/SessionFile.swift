import CKernels
import Foundation

/// A session's state on disk (a prompt cache): its tokens, the next-token logits, every layer's
/// cached keys and values, and optionally a conversation, so that a later run starts from it
/// instead of computing the same prompt again.
///
/// Layout (little-endian): the magic `INFERKVC`, the format version, the model's `identity`, the
/// cache type, layers, KV heads and head size, the token count, the logits count, the
/// conversation's byte count; then the tokens (u32), the logits (f32), the conversation; then for
/// each layer the first position it holds and, for each KV head, the keys then the values of the
/// positions from there (rows of the cache type); last, the XXH64 of everything before. A file for
/// another model or cache type, or one that is truncated or corrupt, is refused by name.
/// Writes are atomic: a temporary file beside the target, synced, then renamed over it.
enum SessionFile {
    static let magic = Array("INFERKVC".utf8)
    static let version: UInt32 = 1

    struct Header {
        var identity: UInt64
        var cacheType: KVCacheType
        var layers: Int, kvHeads: Int, headDim: Int
        var tokenCount: Int, logitCount: Int, conversationBytes: Int
    }

    static let cacheTypes: [KVCacheType] = [.f32, .f16, .q8_0]
    static let headerBytes = 8 + 4 + 8 + 6 * 4 + 4

    static func invalid(_ path: String, _ problem: String) -> InferError {
        .invalidFile(path: path, problem: "prompt cache: \(problem)")
    }

    /// The header of the file at `path`, checked for this format and whole (its checksum).
    static func header(of file: MappedFile) throws -> Header {
        let path = file.path
        guard file.size >= headerBytes + 8 else { throw invalid(path, "the file is truncated (\(file.size) bytes)") }
        let bytes = UnsafeRawBufferPointer(start: file.base, count: file.size)
        guard Array(bytes[0..<8]) == magic else { throw invalid(path, "not an infer prompt cache (wrong magic)") }
        func u32(_ at: Int) -> Int { Int(bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        guard u32(8) == version else { throw invalid(path, "format version \(u32(8)), this infer reads version \(version)") }
        let stored = bytes.loadUnaligned(fromByteOffset: file.size - 8, as: UInt64.self)
        guard infer_hash64(file.base, file.size - 8, 0) == stored else {
            throw invalid(path, "the checksum does not match: the file is truncated or corrupt")
        }
        guard u32(20) < cacheTypes.count else { throw invalid(path, "unknown cache type \(u32(20))") }
        return Header(identity: bytes.loadUnaligned(fromByteOffset: 12, as: UInt64.self), cacheType: cacheTypes[u32(20)],
                      layers: u32(24), kvHeads: u32(28), headDim: u32(32), tokenCount: u32(36), logitCount: u32(40),
                      conversationBytes: u32(44))
    }
}

extension SessionFile {
    /// The conversation stored in a file whose header was checked, if any.
    static func conversation(of file: MappedFile, header h: Header) -> Data? {
        let at = headerBytes + 4 * h.tokenCount + 4 * h.logitCount
        guard h.conversationBytes > 0, at + h.conversationBytes <= file.size - 8 else { return nil }
        return Data(bytes: file.base + at, count: h.conversationBytes)
    }
}

extension Session {
    /// Writes this session's state to `path` (see `SessionFile`), with `conversation` (any bytes:
    /// a chat's messages) if given. Atomic: a reader sees the old file or the new one, never a mix.
    public func save(to path: String, conversation: Data? = nil) throws {
        let c = model.config, cache = kvCache
        var out = Data()
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { out.append(contentsOf: $0) } }
        out.append(contentsOf: SessionFile.magic)
        u32(Int(SessionFile.version))
        withUnsafeBytes(of: model.identity.littleEndian) { out.append(contentsOf: $0) }
        u32(SessionFile.cacheTypes.firstIndex(of: cacheType)!)
        u32(c.layerCount); u32(c.kvHeadCount); u32(c.headDim)
        u32(tokens.count)
        let logitCount = tokens.isEmpty ? 0 : c.vocabularySize
        u32(logitCount)
        u32(conversation?.count ?? 0)
        for t in tokens { u32(t) }
        out.append(UnsafeBufferPointer(start: logits.baseAddress, count: logitCount))
        if let conversation { out.append(conversation) }
        for l in 0..<c.layerCount {
            let first = cache.firstHeld(layer: l, count: tokens.count)
            u32(first)
            for head in 0..<c.kvHeadCount {
                for part in [\infer_cache_layer.keys, \infer_cache_layer.values] {
                    for p in first..<tokens.count {
                        out.append(contentsOf: cache.rowBytes(layer: l, head: head, position: p, part: part))
                    }
                }
            }
        }
        let checksum = out.withUnsafeBytes { infer_hash64($0.baseAddress, $0.count, 0) }
        withUnsafeBytes(of: checksum.littleEndian) { out.append(contentsOf: $0) }
        try AtomicFile.write(out, to: path)
    }

    /// Replaces this session's state with the one saved at `path`, returning the conversation
    /// stored with it. Refuses (with the file and the problem named, the session unchanged) a file
    /// of another model, another cache type, more tokens than the context holds, or that is
    /// truncated or corrupt.
    @discardableResult
    public func restore(from path: String) throws -> Data? {
        let file = try MappedFile(path: path)
        let h = try SessionFile.header(of: file)
        let c = model.config
        guard h.identity == model.identity else {
            throw SessionFile.invalid(path, "it was made with another model (identity \(hex64(h.identity)), this model's is \(hex64(model.identity)))")
        }
        guard h.cacheType == cacheType else {
            throw SessionFile.invalid(path, "its KV cache is \(h.cacheType.rawValue), this session's is \(cacheType.rawValue)")
        }
        guard h.layers == c.layerCount, h.kvHeads == c.kvHeadCount, h.headDim == c.headDim,
              h.logitCount == 0 || h.logitCount == c.vocabularySize else {
            throw SessionFile.invalid(path, "its shape does not match the model")
        }
        guard h.tokenCount <= contextLength else {
            throw SessionFile.invalid(path, "it holds \(h.tokenCount) tokens, more than this session's context of \(contextLength)")
        }
        let cache = kvCache
        let rowBytes = cache.layers.first.map { $0.row_bytes } ?? 0
        var at = SessionFile.headerBytes
        let body = file.size - 8
        func need(_ n: Int) throws {
            guard n >= 0, at + n <= body else { throw SessionFile.invalid(path, "the file ends before its contents") }
        }
        try need(4 * h.tokenCount + 4 * h.logitCount + h.conversationBytes)
        let restored = (0..<h.tokenCount).map { Int(file.base.loadUnaligned(fromByteOffset: at + 4 * $0, as: UInt32.self)) }
        guard restored.allSatisfy({ $0 < c.vocabularySize }) else { throw SessionFile.invalid(path, "a token is outside the vocabulary") }
        at += 4 * h.tokenCount
        let logitsAt = at
        at += 4 * h.logitCount
        let conversation = h.conversationBytes > 0 ? Data(bytes: file.base + at, count: h.conversationBytes) : nil
        at += h.conversationBytes
        // Every layer's rows: checked whole before any is written.
        var layers: [(first: Int, offset: Int)] = []
        for l in 0..<c.layerCount {
            try need(4)
            let first = Int(file.base.loadUnaligned(fromByteOffset: at, as: UInt32.self))
            at += 4
            guard first <= h.tokenCount, cache.canHold(layer: l, first: first, count: h.tokenCount) else {
                throw SessionFile.invalid(path, "layer \(l) holds positions from \(first), which this session's cache cannot take")
            }
            let count = h.tokenCount - first
            try need(2 * c.kvHeadCount * count * rowBytes)
            layers.append((first, at))
            at += 2 * c.kvHeadCount * count * rowBytes
        }
        guard at == body else { throw SessionFile.invalid(path, "\(body - at) bytes after its contents") }
        reset()
        for (l, layer) in layers.enumerated() {
            let count = h.tokenCount - layer.first
            var offset = layer.offset
            for head in 0..<c.kvHeadCount {
                for part in [\infer_cache_layer.keys, \infer_cache_layer.values] {
                    for p in layer.first..<h.tokenCount {
                        cache.setRow(layer: l, head: head, position: p, part: part, from: file.base + offset)
                        offset += rowBytes
                    }
                }
            }
            _ = count
        }
        cache.didRestore(count: h.tokenCount, firsts: layers.map(\.first))
        restoreTokens(restored, logits: h.logitCount > 0 ? file.base + logitsAt : nil)
        return conversation
    }

    /// A session over `model` with the state saved at `path` (see `restore(from:)`), its cache of
    /// the file's type, of at least `contextLength` positions (default: the model's, at most 4096,
    /// or the file's tokens if more).
    public convenience init(restoring path: String, model: Model, contextLength: Int? = nil, threads: Int? = nil) throws {
        let header = try SessionFile.header(of: try MappedFile(path: path))
        let length = max(contextLength ?? min(model.config.contextLength, 4096), header.tokenCount)
        try self.init(model: model, contextLength: length, threads: threads, cacheType: header.cacheType)
        try restore(from: path)
    }
}

func hex64(_ v: UInt64) -> String { String(format: "%016llx", v) }

/// Writing a file so that a crash at any moment leaves either the old file or the new one.
enum AtomicFile {
    /// Writes `data` to a temporary file beside `path`, syncs it, renames it over `path`, and
    /// syncs the directory.
    static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/." + url.lastPathComponent + ".\(getpid()).tmp"
        func fail(_ what: String) -> InferError {
            .invalidFile(path: path, problem: "cannot \(what): \(String(cString: strerror(errno)))")
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw fail("create \(temporary)") }
        var ok = true
        data.withUnsafeBytes { bytes in
            var done = 0
            while done < bytes.count {
                let n = Foundation.write(fd, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 { if errno == EINTR { continue }; ok = false; return }
                done += n
            }
        }
        guard ok, fsync(fd) == 0 else {
            let error = fail("write \(temporary)")
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let error = fail("rename \(temporary)")
            unlink(temporary)
            throw error
        }
        let directoryFD = open(directory, O_RDONLY)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }
}
