/// Loads a tokenizer from a file whose format is recognized by its contents:
/// a GGUF (its `tokenizer.ggml.*` vocabulary) or a llama2.c `tokenizer.bin`.
public enum TokenizerLoader {
    public static func load(path: String) throws -> any Tokenizer {
        let file = try MappedFile(path: path)
        let magic = file.bytes(at: 0, count: 4).map { $0.loadUnaligned(as: UInt32.self) }
        if magic == GGUFFile.magic {
            return try GGUFTokenizer.load(from: GGUFFile(file: file))
        }
        return try Llama2CTokenizerFile.load(path: path)
    }
}
