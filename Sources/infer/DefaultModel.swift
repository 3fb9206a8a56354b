import CDefaultModel
import InferKit

/// The project's own small model, linked into the executable (Models/README.md): what
/// `infer chat` and `infer serve` use when no model file is given.
enum DefaultModel {
    static var name: String { String(cString: infer_default_model_name()) }

    static func load(threads: Int? = nil) throws -> Model {
        let bytes = UnsafeRawBufferPointer(start: infer_default_model_bytes(), count: infer_default_model_size())
        return try Model(staticBytes: bytes, name: "\(name) (built in)", threads: threads)
    }

    /// The model at `path`, or the built-in one when there is none; `loading` (if any) is told
    /// the fraction of the file read into memory.
    static func load(path: String?, tokenizerPath: String?, threads: Int? = nil,
                     loading: ((Double) -> Void)? = nil) throws -> Model {
        guard let path else {
            if let tokenizerPath {
                throw InferError.invalidArgument("\(tokenizerPath): --tokenizer needs a model file")
            }
            let model = try load(threads: threads)
            if let loading { model.prefetch(progress: loading) }
            return model
        }
        if let loading { return try Model(path: path, tokenizerPath: tokenizerPath, threads: threads, loading: loading) }
        return try Model(path: path, tokenizerPath: tokenizerPath, threads: threads)
    }
}
