import ArgumentParser
import Foundation
import InferKit

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Continue a prompt and stream the text to stdout.")

    @OptionGroup var modelFile: ModelOptions<Generate>

    @Option(name: [.short, .long], help: "Prompt text; without it generation starts from BOS.")
    var prompt: String = ""

    @OptionGroup var context: ContextOption<Generate>

    @Flag(name: .customLong("json-report"), help: "Print one JSON object (text, token counts, timings) instead of streaming.")
    var jsonReport = false

    @OptionGroup var threading: ThreadsOption<Generate>

    @OptionGroup var sampling: SamplingOptions

    @OptionGroup var cache: CacheTypeOption

    @Option(help: "Tokens after BOS that a context shift keeps at the start.")
    var keep = 0

    @Flag(help: "When the context fills, stop instead of dropping half of the tokens after the kept ones.")
    var noContextShift = false

    @Option(help: ArgumentHelp("Start from the prompt state saved in FILE where the prompt shares a prefix with it, and save this prompt's state there.", valueName: "file"))
    var promptCache: String?

    @Option(help: ArgumentHelp("Generate every prompt of a JSON Lines file (a string, or an object with \"prompt\" and sampling fields) together; print one JSON line per prompt.", valueName: "file"))
    var prompts: String?

    @Option(help: "With --prompts: prompts generated at once, their tokens computed together.")
    var parallel = 4

    @OptionGroup(title: "Output format") var format: OutputFormatOptions

    func validate() throws {
        if let threads = threading.threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if keep < 0 { throw ValidationError("--keep must be at least 0") }
        if parallel < 1 { throw ValidationError("--parallel must be at least 1") }
        if prompts != nil {
            if !prompt.isEmpty { throw ValidationError("--prompt and --prompts cannot be used together") }
            if promptCache != nil { throw ValidationError("--prompt-cache is not supported with --prompts") }
        }
    }

    func run() throws {
        try Terminal.reportingErrors {
            let model = try modelFile.load(threads: threading.threads)
            if let prompts {
                var parameters = sampling.parameters(defaultMaxTokens: 256)
                parameters.contextShift = !noContextShift
                parameters.keep = keep
                parameters.grammar = try format.load()
                let entries = try PromptBatch.read(prompts, defaults: parameters)
                return try PromptBatch.run(entries, model: model, parallel: parallel, contextLength: context.ctx, threads: threading.threads,
                                           cacheType: cache.cacheType)
            }
            let session = try Session(model: model, contextLength: context.ctx, threads: threading.threads, cacheType: cache.cacheType)
            var tokens = model.tokenizer.encode(prompt, options: EncodeOptions(parseSpecial: true))
            if tokens.isEmpty, let bos = model.tokenizer.special.bos { tokens = [bos] }
            guard !tokens.isEmpty else { throw InferError.invalidArgument("the model has no BOS token: give a prompt") }
            guard tokens.count < session.contextLength else {
                throw InferError.contextFull(needed: tokens.count, capacity: session.contextLength)
            }
            var parameters = sampling.parameters(defaultMaxTokens: 256)
            parameters.contextShift = !noContextShift
            parameters.keep = keep
            parameters.grammar = try format.load()
            if let promptCache { PromptCache.restore(session, from: promptCache) }
            var generator = try Generator(session: session, prompt: tokens, parameters: parameters)
            if let promptCache { try session.save(to: promptCache) }
            let json = jsonReport
            if !json { Terminal.write(prompt) }
            var text = ""
            while let event = try generator.next() {
                switch event {
                case .text(let piece, _):
                    if json { text += piece } else { Terminal.write(piece) }
                case .finished(let reason, let stats):
                    if json {
                        Terminal.write(try GenerateReport(text: text, reason: reason, stats: stats).json() + "\n")
                    } else {
                        Terminal.write("\n")
                        Terminal.note(String(format: "prompt: %d tokens, %.1f tokens/s; generated: %d tokens, %.1f tokens/s",
                                             stats.promptTokens, stats.promptTokensPerSecond,
                                             stats.generatedTokens, stats.generationTokensPerSecond))
                    }
                }
            }
        }
    }
}

/// `infer generate --json-report` output.
struct GenerateReport: Encodable {
    let text: String
    let finish_reason: String
    let prompt_tokens: Int
    let generated_tokens: Int
    let prompt_seconds: Double
    let generation_seconds: Double
    let prompt_tokens_per_second: Double
    let generation_tokens_per_second: Double
    /// Of generation_seconds, the time the grammar took (0 without one).
    let grammar_seconds: Double

    init(text: String, reason: FinishReason, stats: GenerationStats) {
        self.text = text
        finish_reason = reason.rawValue
        prompt_tokens = stats.promptTokens
        generated_tokens = stats.generatedTokens
        prompt_seconds = stats.promptSeconds
        generation_seconds = stats.generationSeconds
        prompt_tokens_per_second = stats.promptTokensPerSecond
        generation_tokens_per_second = stats.generationTokensPerSecond
        grammar_seconds = stats.grammarSeconds
    }

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

extension Generate: SharedOptionsHelp {
    static var tokenizerHelp: ArgumentHelp { "Tokenizer file (llama2.c tokenizer.bin, GGUF, or Hugging Face tokenizer.json)." }
}
