/// Errors raised while loading models and tokenizers. Every message names the file and
/// the problem, so a command-line user sees one clear line.
public enum InferError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened or mapped.
    case cannotOpen(path: String, reason: String)
    /// The file's contents are not what its format requires.
    case invalidFile(path: String, problem: String)
    /// The file is valid but uses something infer does not implement.
    case unsupported(path: String, what: String)
    /// A model needs a tokenizer and none was found or given.
    case missingTokenizer(path: String, hint: String)
    /// A session cannot hold the tokens it was given.
    case contextFull(needed: Int, capacity: Int)
    /// Input given to the library or CLI is not usable (e.g. an empty prompt where one is required).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): return "\(path): cannot open: \(reason)"
        case .invalidFile(let path, let problem): return "\(path): \(problem)"
        case .unsupported(let path, let what): return "\(path): unsupported: \(what)"
        case .missingTokenizer(let path, let hint): return "\(path): no tokenizer: \(hint)"
        case .contextFull(let needed, let capacity):
            return "the context is full: \(needed) tokens do not fit in a context of \(capacity)"
        case .invalidArgument(let message): return message
        }
    }
}
