#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loads a tokenizer from a file whose format is recognized by its contents: a GGUF (its
/// `tokenizer.ggml.*` vocabulary), a Hugging Face `tokenizer.json` (or a directory holding
/// one), or a llama2.c `tokenizer.bin`.
public enum TokenizerLoader {
    public static func load(path: String) throws -> any Tokenizer {
        var path = path
        var info = stat()
        if stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            path = (path.hasSuffix("/") ? path : path + "/") + "tokenizer.json"
        }
        let file = try MappedFile(path: path)
        let magic = file.bytes(at: 0, count: 4).map { $0.loadUnaligned(as: UInt32.self) }
        if magic == GGUFFile.magic {
            return try GGUFTokenizer.load(from: GGUFFile(file: file))
        }
        let head = UnsafeRawBufferPointer(start: file.base, count: min(file.size, 64))
        if head.first(where: { ![0x20, 0x0A, 0x0D, 0x09].contains($0) }) == UInt8(ascii: "{") {
            return try HFTokenizerJSON.load(path: path)
        }
        return try Llama2CTokenizerFile.load(path: path)
    }
}
