import Foundation
import InferKit

/// `infer generate --prompts FILE`: several prompts from a JSON Lines file, generated together
/// (`BatchGenerator`: up to --parallel at a time, their tokens computed in one pass), each answer
/// printed as one JSON line, in the file's order.
///
/// Each line is a prompt: a JSON string, or an object with "prompt" and any of the sampling
/// fields below, which override the command line's for that prompt. Blank lines are skipped.
enum PromptBatch {
    /// One prompt of the file and how to generate it.
    struct Entry {
        let line: Int
        let prompt: String
        let parameters: GenerateParameters
    }

    /// The fields a line may hold besides "prompt", and what each sets.
    static let fields: [String: @Sendable (inout GenerateParameters, JSONValue) -> Bool] = [
        "max_tokens": { p, v in v.int.map { p.maxTokens = $0 } != nil },
        "temperature": { p, v in number(v).map { p.temperature = Float($0) } != nil },
        "top_k": { p, v in v.int.map { p.topK = $0 } != nil },
        "top_p": { p, v in number(v).map { p.topP = Float($0) } != nil },
        "min_p": { p, v in number(v).map { p.minP = Float($0) } != nil },
        "repeat_penalty": { p, v in number(v).map { p.repeatPenalty = Float($0) } != nil },
        "frequency_penalty": { p, v in number(v).map { p.frequencyPenalty = Float($0) } != nil },
        "presence_penalty": { p, v in number(v).map { p.presencePenalty = Float($0) } != nil },
        "seed": { p, v in v.int.flatMap { $0 >= 0 ? UInt64($0) : nil }.map { p.seed = $0 } != nil },
        "stop": { p, v in
            if let s = v.string { p.stop = [s]; return true }
            guard let strings = v.array?.compactMap(\.string), strings.count == v.array?.count else { return false }
            p.stop = strings
            return true
        },
    ]

    static func number(_ v: JSONValue) -> Double? {
        switch v {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    /// The prompts of the file at `path`, each with `defaults` overridden by its fields.
    /// - Throws: `InferError.invalidFile` naming the line and the problem (not JSON, no prompt,
    ///   an unknown field, a value of the wrong type or out of range).
    static func read(_ path: String, defaults: GenerateParameters) throws -> [Entry] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw InferError.cannotOpen(path: path, reason: error.localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw InferError.invalidFile(path: path, problem: "not UTF-8 text")
        }
        var entries: [Entry] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            func fail(_ problem: String) -> InferError { .invalidFile(path: path, problem: "line \(number): \(problem)") }
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            let value: JSONValue
            do {
                value = try JSONValue(parsing: String(line))
            } catch {
                throw fail("not JSON (\(error))")
            }
            if let prompt = value.string {
                entries.append(Entry(line: number, prompt: prompt, parameters: defaults))
                continue
            }
            guard let object = value.object else { throw fail("a line is a prompt string or an object with \"prompt\"") }
            guard let prompt = object["prompt"]?.string else { throw fail("no \"prompt\" string") }
            var parameters = defaults
            for (key, field) in object where key != "prompt" {
                guard let set = fields[key] else {
                    throw fail("unknown field \"\(key)\" (known: prompt, \(fields.keys.sorted().joined(separator: ", ")))")
                }
                guard set(&parameters, field) else { throw fail("\"\(key)\" has the wrong type") }
            }
            do {
                try parameters.validate()
            } catch {
                throw fail("\(error)")
            }
            entries.append(Entry(line: number, prompt: prompt, parameters: parameters))
        }
        guard !entries.isEmpty else { throw InferError.invalidFile(path: path, problem: "no prompts") }
        return entries
    }

    /// Generates every entry, `parallel` at a time, each in its own session (`contextLength`
    /// positions, as `Session` takes it); prints each answer's JSON line when it and all before it
    /// are done, and a summary on stderr.
    static func run(_ entries: [Entry], model: Model, parallel: Int, contextLength: Int?, threads: Int?,
                    cacheType: KVCacheType) throws {
        let batch = try BatchGenerator(model: model, threads: threads)
        var idle = try (0..<min(parallel, entries.count)).map { _ in
            try Session(model: model, contextLength: contextLength, threads: threads, cacheType: cacheType)
        }
        let bos = model.tokenizer.special.bos
        var next = 0
        var running: [Int: (entry: Int, session: Session)] = [:]
        var results: [Int: String] = [:]
        var texts: [Int: String] = [:]
        var printed = 0, generated = 0
        let start = ContinuousClock.now
        while printed < entries.count {
            while next < entries.count, let session = idle.popLast() {
                var tokens = model.tokenizer.encode(entries[next].prompt, options: EncodeOptions(parseSpecial: true))
                if tokens.isEmpty, let bos { tokens = [bos] }
                do {
                    let id = try batch.add(session: session, prompt: tokens, parameters: entries[next].parameters)
                    running[id] = (next, session)
                } catch {
                    idle.append(session)
                    results[next] = try line(next, entries[next], failure: error)
                }
                next += 1
            }
            for update in batch.step() {
                guard let (entry, session) = running[update.id] else { continue }
                switch update.result {
                case .success(.text(let piece, _)):
                    texts[entry, default: ""] += piece
                case .success(.finished(let reason, let stats)):
                    generated += stats.generatedTokens
                    results[entry] = try line(entry, entries[entry], text: texts.removeValue(forKey: entry) ?? "",
                                              reason: reason, stats: stats)
                    running[update.id] = nil
                    idle.append(session)
                case .failure(let error):
                    results[entry] = try line(entry, entries[entry], failure: error)
                    running[update.id] = nil
                    idle.append(session)
                }
            }
            while let result = results.removeValue(forKey: printed) {
                Terminal.write(result + "\n")
                printed += 1
            }
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        Terminal.note(String(format: "%d prompts, %d tokens generated in %.1f s: %.1f tokens/s in all (%d at a time)",
                             entries.count, generated, seconds, Double(generated) / max(seconds, 1e-9), min(parallel, entries.count)))
    }

    /// The JSON line of a finished answer: generate --json-report's fields, with the line it came from.
    static func line(_ index: Int, _ entry: Entry, text: String, reason: FinishReason, stats: GenerationStats) throws -> String {
        try BatchReport(line: entry.line, report: GenerateReport(text: text, reason: reason, stats: stats), error: nil).json()
    }

    /// The JSON line of a prompt that could not be generated.
    static func line(_ index: Int, _ entry: Entry, failure: any Error) throws -> String {
        try BatchReport(line: entry.line, report: nil, error: "\(failure)").json()
    }
}

/// One answer of `infer generate --prompts`.
struct BatchReport: Encodable {
    /// The line of the prompts file it answers.
    let line: Int
    let report: GenerateReport?
    let error: String?

    func encode(to encoder: any Encoder) throws {
        try report?.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(line, forKey: .line)
        if let error { try container.encode(error, forKey: .error) }
    }

    enum Key: String, CodingKey { case line, error }

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
