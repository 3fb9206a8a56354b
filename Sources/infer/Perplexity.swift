import ArgumentParser
import Foundation
import InferKit

/// `infer perplexity`: the quality check of a (quantized) model file over a text, computed
/// as llama-perplexity does (see `PerplexityEvaluation`), with its output: the running
/// perplexity after each chunk as `[1]5.1234,[2]5.2345,...` and then
/// `Final estimate: PPL = <value> +/- <error>`.
struct Perplexity: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure a model's perplexity over a text file, as llama-perplexity does.")

    @OptionGroup var modelFile: ModelOptions<Perplexity>

    @Option(name: [.customShort("f"), .long], help: "The text file to score.")
    var file: String

    @Option(name: [.customShort("c"), .long], help: "Tokens per chunk; each chunk scores its second half.")
    var ctx = 512

    @Option(name: .long, help: "Score at most this many chunks (default: all).")
    var chunks: Int?

    @Option(name: [.customShort("b"), .long], help: "Prompt tokens per batched pass.")
    var batchSize = Session.defaultBatchSize

    @Option(name: [.customShort("t"), .long], help: "Threads for the matrix products. (default: the cores this process may use)")
    var threads: Int?

    @OptionGroup var cache: CacheTypeOption

    func validate() throws {
        guard ctx >= 4 else { throw ValidationError("--ctx must be at least 4") }
        guard batchSize >= 1, (threads ?? 1) >= 1 else { throw ValidationError("--batch-size and --threads must be at least 1") }
        if let chunks, chunks < 1 { throw ValidationError("--chunks must be at least 1") }
    }

    func run() throws {
        try Terminal.reportingErrors {
            let model = try modelFile.load(threads: threads)
            guard let data = FileManager.default.contents(atPath: file) else {
                throw InferError.cannotOpen(path: file, reason: "cannot read the file")
            }
            let tokens = model.tokenizer.encode(String(decoding: data, as: UTF8.self))
            guard tokens.count >= 2 * ctx else {
                throw InferError.invalidArgument("\(file): \(tokens.count) tokens; a context of \(ctx) needs at least \(2 * ctx)")
            }
            let session = try Session(model: model, contextLength: ctx, threads: threads, cacheType: cache.cacheType)
            session.batchSize = batchSize
            let chunkCount = min(chunks ?? .max, PerplexityEvaluation.chunkCount(tokens: tokens.count, context: ctx))
            Terminal.note("perplexity: \(tokens.count) tokens, \(chunkCount) chunks of \(ctx), batch size \(batchSize)")
            var evaluation = PerplexityEvaluation(context: ctx)
            for i in 0..<chunkCount {
                try evaluation.evaluate(chunk: i, of: tokens, session: session)
                Terminal.write(String(format: "[%d]%.4f,", i + 1, evaluation.perplexity))
            }
            Terminal.write("\n")
            guard let error = evaluation.error else {
                throw InferError.invalidArgument("the scores have no spread: the perplexity has no error estimate")
            }
            Terminal.write(String(format: "Final estimate: PPL = %.4f +/- %.5f\n", evaluation.perplexity, error))
        }
    }
}

extension Perplexity: SharedOptionsHelp {}
