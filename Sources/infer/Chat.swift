#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Foundation
import InferKit
import Synchronization

struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Chat with a model in the terminal (or, with stdin not a terminal, one message per line).",
        discussion: """
            In the chat: /help, /reset, /system TEXT, /params, /quit (or end of input). \
            Ctrl-C stops the current answer without leaving the chat.
            """)

    @OptionGroup var modelFile: DefaultableModelOptions<Chat>

    @Option(name: .long, help: "System prompt.")
    var system: String?

    @OptionGroup var context: ContextOption<Chat>

    @OptionGroup var threading: ThreadsOption<Chat>

    @Option(name: .long, help: "Use a built-in chat template instead of the model's: \(ChatTemplate.builtinNames.joined(separator: ", ")).")
    var chatTemplate: String?

    @Flag(name: .long, help: "When the context is full, stop with a message instead of dropping the oldest turns.")
    var noContextShift = false

    @Flag(name: [.short, .long], help: "After each answer, print token counts and speed on stderr.")
    var verbose = false

    @OptionGroup var sampling: SamplingOptions

    @OptionGroup var cache: CacheTypeOption

    @Option(help: ArgumentHelp("Continue the conversation saved in FILE (its messages and KV cache), and save it there after every answer.", valueName: "file"))
    var promptCache: String?

    @OptionGroup(title: "Output format") var format: OutputFormatOptions

    /// Set by SIGINT while an answer is being generated.
    static let interrupted = Atomic<Bool>(false)

    func validate() throws {
        if let threads = threading.threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        try Terminal.reportingErrors {
            let interactive = isatty(STDIN_FILENO) == 1
            let loaded = try modelFile.load(
                threads: threading.threads, loading: interactive ? Terminal.loadingProgress(of: modelFile.model ?? DefaultModel.name) : nil)
            let template = try chatTemplate.map { try ChatTemplate.builtin(named: $0) }
            var parameters = sampling.parameters(defaultMaxTokens: nil)
            parameters.grammar = try format.load()
            let chat = try ChatSession(model: loaded, template: template, systemPrompt: system,
                                       parameters: parameters,
                                       contextLength: context.ctx, threads: threading.threads, cacheType: cache.cacheType,
                                       contextShift: !noContextShift)
            if template == nil && loaded.chatTemplate == nil {
                Terminal.note("note: \(loaded.path) has no chat template; using a plain User:/Assistant: transcript")
            }
            if let promptCache { PromptCache.restore(chat, from: promptCache) }
            if interactive { Terminal.note("ready: type a message, /help for commands, Ctrl-D to quit") }
            try loop(chat, interactive: interactive)
        }
    }

    private func loop(_ chat: ChatSession, interactive: Bool) throws {
        while true {
            if interactive { Terminal.write("> ") }
            guard let line = readLine(strippingNewline: true) else {
                if interactive { Terminal.write("\n") }
                return
            }
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if text.hasPrefix("/") {
                if try command(text, chat) == .quit { return }
                continue
            }
            do {
                try answer(text, chat, interactive: interactive)
            } catch let error as InferError {
                Terminal.note("error: \(error)")  // the chat goes on
            } catch let error as ChatTemplateError {
                Terminal.note("error: the chat template failed: \(error)")
            } catch let error as GrammarError {
                Terminal.note("error: the grammar: \(error)")
            }
        }
    }

    private func answer(_ text: String, _ chat: ChatSession, interactive: Bool) throws {
        var generator = try chat.beginTurn(.user(text))
        Chat.interrupted.store(false, ordering: .relaxed)
        signal(SIGINT) { _ in Chat.interrupted.store(true, ordering: .relaxed) }
        defer { signal(SIGINT, SIG_DFL) }
        var answer = ""
        while let event = try generator.next() {
            if Chat.interrupted.load(ordering: .relaxed) { generator.cancel() }
            switch event {
            case .text(let piece, _):
                answer += piece
                Terminal.write(piece)
            case .finished(let reason, let stats):
                chat.endTurn(answer: answer, stats: stats, reason: reason)
                if let promptCache { try chat.save(to: promptCache) }
                Terminal.write(interactive ? "\n\n" : "\n")
                if reason == .cancelled { Terminal.note("(stopped)") }
                if reason == .contextFull { Terminal.note("(the context is full: the next message drops the oldest turns)") }
                if verbose {
                    Terminal.note(String(format: "[%d prompt tokens computed, %d reused, %.1f tokens/s; %d tokens generated, %.1f tokens/s; context %d/%d; %@]",
                                         stats.promptTokens, stats.reusedTokens, stats.promptTokensPerSecond,
                                         stats.generatedTokens, stats.generationTokensPerSecond,
                                         chat.contextUsed, chat.contextLength, reason.rawValue))
                }
            }
        }
    }

    private enum CommandResult { case proceed, quit }

    private func command(_ text: String, _ chat: ChatSession) throws -> CommandResult {
        let name = text.split(separator: " ", maxSplits: 1).first.map(String.init) ?? text
        let argument = text.dropFirst(name.count).trimmingCharacters(in: .whitespaces)
        switch name {
        case "/quit", "/exit":
            return .quit
        case "/reset":
            chat.reset()
            Terminal.note("(conversation cleared)")
        case "/system":
            chat.setSystemPrompt(argument.isEmpty ? nil : argument)
            Terminal.note(argument.isEmpty ? "(system prompt removed)" : "(system prompt set)")
        case "/params":
            let p = chat.parameters
            Terminal.note("""
                temperature \(p.temperature), top-k \(p.topK), top-p \(p.topP), min-p \(p.minP), \
                repeat penalty \(p.repeatPenalty) over \(p.penaltyWindow), frequency \(p.frequencyPenalty), \
                presence \(p.presencePenalty), max tokens \(p.maxTokens.map(String.init) ?? "unlimited"), \
                seed \(p.seed.map(String.init) ?? "random"), stop \(p.stop), \
                output \(p.grammar == nil ? "free text" : "constrained by a grammar"), \
                context \(chat.contextUsed)/\(chat.contextLength), template: \(chat.templateOrigin)
                """)
        case "/help":
            Terminal.note("""
                /reset          forget the conversation (keeps the system prompt)
                /system TEXT    set the system prompt (empty: remove it)
                /params         show the generation settings
                /quit           leave (so does Ctrl-D)
                Ctrl-C stops the answer being written.
                """)
        default:
            Terminal.note("unknown command \(name): /help lists them")
        }
        return .proceed
    }
}

extension Chat: SharedOptionsHelp {
    static var modelHelp: ArgumentHelp {
        "Model file (GGUF, or llama2.c model.bin with --tokenizer); default: the built-in \(DefaultModel.name)."
    }
}
