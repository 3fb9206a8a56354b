import ArgumentParser
import Foundation
import InferKit

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Continue a prompt and stream the text to stdout.")

    @Argument(help: "Model file: GGUF, or a llama2.c model.bin (which needs --tokenizer).")
    var model: String

    @Option(name: [.customShort("z"), .long], help: "Tokenizer file (llama2.c tokenizer.bin or GGUF).")
    var tokenizer: String?

    @Option(name: [.short, .long], help: "Prompt text; without it generation starts from BOS.")
    var prompt: String = ""

    @Option(name: [.customShort("n"), .long], help: "Maximum number of tokens to generate.")
    var maxTokens: Int = 256

    @Option(name: [.short, .long], help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0.8

    @Option(name: [.short, .long], help: "Random seed (default: time-based).")
    var seed: UInt64?

    @Option(name: [.customShort("c"), .long], help: "Context length (default: the model's, at most 4096).")
    var ctx: Int?

    func validate() throws {
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be at least 0") }
        guard temperature >= 0 else { throw ValidationError("--temperature must be at least 0") }
    }

    func run() throws {
        try Terminal.reportingErrors {
            let model = try Model(path: model, tokenizerPath: tokenizer)
            let session = try Session(model: model, contextLength: ctx)
            var tokens = model.tokenizer.encode(prompt, options: EncodeOptions(addBOS: true))
            if tokens.isEmpty, let bos = model.tokenizer.special.bos { tokens = [bos] }
            guard !tokens.isEmpty else { throw InferError.invalidArgument("the model has no BOS token: give a prompt") }
            guard tokens.count < session.contextLength else {
                throw InferError.contextFull(needed: tokens.count, capacity: session.contextLength)
            }
            let seed = self.seed ?? UInt64.random(in: 0...UInt64.max)
            var generator = TextGenerator(session: session, sampler: Sampler(temperature: temperature, seed: seed))
            Terminal.write(prompt)
            let (_, stats) = try generator.generate(prompt: tokens, maxTokens: maxTokens) { Terminal.write($0) }
            Terminal.write("\n")
            Terminal.note(String(format: "prompt: %d tokens, %.1f tokens/s; generated: %d tokens, %.1f tokens/s",
                                 stats.promptTokens, stats.promptTokensPerSecond,
                                 stats.generatedTokens, stats.generationTokensPerSecond))
        }
    }
}
