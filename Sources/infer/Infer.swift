import ArgumentParser
import InferKit

@main
struct Infer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Run open-weight language models on this machine's CPU.",
        subcommands: [Chat.self, Generate.self, Serve.self, Bench.self, Perplexity.self, Info.self, Tokenize.self,
                      Template.self])
}
