import ArgumentParser
import InferKit

/// The generation flags shared by `generate` and `chat` (llama.cpp's defaults).
struct SamplingOptions: ParsableArguments {
    @Option(name: [.customShort("n"), .long], help: "Maximum tokens to generate (per answer in chat). (default: generate 256, chat unlimited)")
    var maxTokens: Int?

    @Option(name: [.short, .long], help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0.8

    @Option(name: .long, help: "Keep the k most likely tokens; 0 keeps all.")
    var topK: Int = 40

    @Option(name: .long, help: "Keep the most likely tokens up to this total probability; 1 keeps all.")
    var topP: Float = 0.95

    @Option(name: .long, help: "Drop tokens less likely than this times the most likely; 0 keeps all.")
    var minP: Float = 0.05

    @Option(name: .long, help: "Penalty for repeating recent tokens; 1 is off.")
    var repeatPenalty: Float = 1.0

    @Option(name: .long, help: "How many recent tokens the penalties consider.")
    var repeatLastN: Int = 64

    @Option(name: .long, help: "Penalty per repetition of a recent token.")
    var frequencyPenalty: Float = 0

    @Option(name: .long, help: "Penalty for any recent token.")
    var presencePenalty: Float = 0

    @Option(name: [.short, .long], help: "Random seed (default: random).")
    var seed: UInt64?

    @Option(name: .long, help: "Stop when this text is produced (repeatable).")
    var stop: [String] = []

    func parameters(defaultMaxTokens: Int?) -> GenerateParameters {
        GenerateParameters(maxTokens: maxTokens ?? defaultMaxTokens, temperature: temperature, topK: topK,
                           topP: topP, minP: minP, repeatPenalty: repeatPenalty,
                           frequencyPenalty: frequencyPenalty, presencePenalty: presencePenalty,
                           penaltyWindow: repeatLastN, seed: seed, stop: stop)
    }

    func validate() throws {
        do {
            try parameters(defaultMaxTokens: nil).validate()
        } catch let error as InferError {
            throw ValidationError(error.description)
        }
    }
}
