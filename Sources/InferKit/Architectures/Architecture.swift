/// A model family: how its GGUF files name their hyperparameters and tensors, and what its blocks
/// compute (`BlockDescription`). A family reads a file into a configuration and weights; the
/// execution paths then run any family alike. Adding a Llama-like family is one file and a line in
/// `Architectures.all`.
protocol Architecture: SendableMetatype {
    /// The `general.architecture` value of the family's files.
    static var name: String { get }
    /// The family's hyperparameters, block description and weights, every tensor checked.
    static func load(_ file: GGUFModelReader) throws -> (ModelConfig, ModelWeights)
}

/// A family as the registry keeps it: its name and how it reads a file.
struct Family: Sendable {
    let name: String
    let load: @Sendable (GGUFModelReader) throws -> (ModelConfig, ModelWeights)

    init<A: Architecture>(_ family: A.Type) {
        name = A.name
        load = { try A.load($0) }
    }
}

/// The families infer runs, by `general.architecture`.
enum Architectures {
    static let all = [Family(Llama.self), Family(Qwen2.self), Family(Qwen3.self), Family(Gemma2.self),
                      Family(Gemma3.self), Family(Phi3.self)]

    /// The configuration and weights of a GGUF model, read by its family; an unknown family is
    /// refused with the list of those infer runs.
    static func load(_ gguf: GGUFFile) throws -> (ModelConfig, ModelWeights) {
        let path = gguf.file.path
        guard let name = gguf.string("general.architecture") else {
            throw InferError.invalidFile(path: path, problem: "general.architecture is missing")
        }
        guard let family = all.first(where: { $0.name == name }) else {
            throw InferError.unsupported(path: path, what: "architecture '\(name)' (supported: \(all.map(\.name).joined(separator: ", ")))")
        }
        let reader = GGUFModelReader(gguf, architecture: name)
        let (config, weights) = try family.load(reader)
        try config.validate(path: path)
        try reader.checkEveryTensorRead()
        return (config, weights)
    }
}
