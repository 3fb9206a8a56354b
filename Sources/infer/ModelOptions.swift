import ArgumentParser
import InferKit

/// The help of the options several subcommands share. The flags and the values they hold are
/// the same in every subcommand; the words say what this subcommand does with them (chat and
/// serve fall back to the built-in model, serve's context is per slot, ...). A subcommand
/// conforms, overrides the words that differ, and names itself as the groups' `Help`:
/// `@OptionGroup var context: ContextOption<Serve>`.
protocol SharedOptionsHelp {
    static var modelHelp: ArgumentHelp { get }
    static var tokenizerHelp: ArgumentHelp { get }
    static var contextHelp: ArgumentHelp { get }
    static var threadsHelp: ArgumentHelp { get }
}

extension SharedOptionsHelp {
    static var modelHelp: ArgumentHelp { "Model file: GGUF, or a llama2.c model.bin (which needs --tokenizer)." }
    static var tokenizerHelp: ArgumentHelp { "Tokenizer file for a llama2.c model.bin." }
    static var contextHelp: ArgumentHelp { "Context length (default: the model's, at most 4096)." }
    static var threadsHelp: ArgumentHelp { "Threads for the matrix products (default: the number of cores)." }
}

/// `MODEL [-z TOKENIZER]`: the model file a subcommand loads, and the tokenizer file a llama2.c
/// model.bin needs (a GGUF carries its own vocabulary).
struct ModelOptions<Help: SharedOptionsHelp>: ParsableArguments {
    @Argument(help: Help.modelHelp)
    var model: String

    @Option(name: [.customShort("z"), .long], help: Help.tokenizerHelp)
    var tokenizer: String?

    /// - Parameter threads: the sessions' thread count, which the weights are laid out for.
    /// - Throws: `InferError` naming the file and the problem.
    func load(threads: Int? = nil) throws -> Model {
        try Model(path: model, tokenizerPath: tokenizer, threads: threads)
    }
}

/// `[MODEL] [-z TOKENIZER]`: as `ModelOptions`, with the built-in model (`DefaultModel`) when
/// MODEL is left out.
struct DefaultableModelOptions<Help: SharedOptionsHelp>: ParsableArguments {
    @Argument(help: Help.modelHelp)
    var model: String?

    @Option(name: [.customShort("z"), .long], help: Help.tokenizerHelp)
    var tokenizer: String?

    /// The model at `model`, or the built-in one, its weights laid out for sessions of
    /// `threads` threads; `loading` (if any) is told the fraction of the file read into memory.
    /// - Throws: `InferError` naming the file and the problem.
    func load(threads: Int? = nil, loading: ((Double) -> Void)? = nil) throws -> Model {
        try DefaultModel.load(path: model, tokenizerPath: tokenizer, threads: threads, loading: loading)
    }
}

/// `-c/--ctx N`: the positions a session's KV cache holds (default: the model's trained
/// context, at most 4096).
struct ContextOption<Help: SharedOptionsHelp>: ParsableArguments {
    @Option(name: [.customShort("c"), .long], help: Help.contextHelp)
    var ctx: Int?
}

/// `--threads N`: the threads a session computes with (default: the cores). Only the long name,
/// because -t is the temperature where the subcommand samples (llama.cpp's -t).
struct ThreadsOption<Help: SharedOptionsHelp>: ParsableArguments {
    @Option(name: .long, help: Help.threadsHelp)
    var threads: Int?
}
