import ArgumentParser
import Foundation
import InferKit

/// `infer bench`: llama-bench's two tests with its semantics, so the numbers compare.
/// - pp<n>: a prompt of n random tokens (BOS first) processed in batches of --batch-size;
///   tokens/s = n / time.
/// - tg<n>: from an empty context, BOS and then n - 1 random tokens, each decoded alone as
///   in generation (no prompt); tokens/s = n / time.
/// - with --n-depth d (`tg128 @ d1024`): each repetition first fills the context with a prompt
///   of d random tokens, unmeasured, so the test shows the speed deep into a conversation.
/// - with --sequences s (`tg128 x4`, llama-batched-bench's parallel sequences): tg runs s
///   sequences, each with its own KV cache, decoded together (one pass over the weights for the
///   s tokens of a step); tokens/s = s * n / time, the aggregate. pp tests take one sequence.
/// Each test runs once unmeasured (warm-up), then --repetitions times from an empty context
/// (or one of d tokens); the table shows the mean ± sample standard deviation of the repetitions' tokens/s.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure prompt processing (pp) and generation (tg) speed, as llama-bench does.")

    @OptionGroup var modelFile: ModelOptions<Bench>

    @Option(name: [.customShort("p"), .customLong("n-prompt")], help: "Prompt lengths to test, comma-separated; 0 skips.")
    var prompt = IntList([512])

    @Option(name: [.customShort("n"), .customLong("n-gen")], help: "Generation lengths to test, comma-separated; 0 skips.")
    var gen = IntList([128])

    @Option(name: [.customShort("d"), .customLong("n-depth")],
            help: "Context depths to test at, comma-separated: tokens already in the context when a test starts.")
    var depth = IntList([0])

    @Option(name: [.customShort("t"), .long], help: "Thread counts to test, comma-separated. (default: the cores this process may use)")
    var threads: IntList?

    @Option(name: [.customShort("r"), .long], help: "Repetitions of each test.")
    var repetitions = 5

    @OptionGroup var cache: CacheTypeOption

    @Option(name: [.customShort("s"), .long], help: "Sequences decoded together in tg tests, comma-separated (aggregate tokens/s).")
    var sequences = IntList([1])

    @Option(name: [.customShort("b"), .long], help: "Prompt tokens per batched pass.")
    var batchSize = Session.defaultBatchSize

    @Flag(help: "Skip the unmeasured warm-up run of each test.")
    var noWarmup = false

    @Flag(help: "Print a JSON array with llama-bench's field names, one object per test.")
    var json = false

    func validate() throws {
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be at least 1") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard threadCounts.allSatisfy({ $0 >= 1 }) else { throw ValidationError("thread counts must be at least 1") }
        guard sequences.values.allSatisfy({ $0 >= 1 }) else { throw ValidationError("sequence counts must be at least 1") }
        guard (prompt.values + gen.values + depth.values).allSatisfy({ $0 >= 0 }) else {
            throw ValidationError("prompt, generation and depth lengths cannot be negative")
        }
    }

    func run() throws {
        try Terminal.reportingErrors {
            let model = try modelFile.load()
            let tests = threadCounts.flatMap { t in
                depth.values.flatMap { d in
                    prompt.values.filter { $0 > 0 }.map { (t, $0, 0, d, 1) }
                        + gen.values.filter { $0 > 0 }.flatMap { n in sequences.values.map { (t, 0, n, d, $0) } }
                }
            }
            if !json { print(BenchResult.tableHeader) }
            var results: [BenchResult] = []
            for (threadCount, promptLength, genLength, depthLength, sequenceCount) in tests {
                let samples = sequenceCount > 1
                    ? try measureSequences(model, threads: threadCount, gen: genLength, depth: depthLength, sequences: sequenceCount)
                    : try measure(model, threads: threadCount, prompt: promptLength, gen: genLength, depth: depthLength)
                let result = BenchResult(model: model, batchSize: batchSize, threads: threadCount, cacheType: cache.cacheType,
                                         prompt: promptLength, gen: genLength, depth: depthLength, sequences: sequenceCount,
                                         samples: samples)
                if !json { print(result.tableRow) }
                results.append(result)
            }
            if json { print(try BenchResult.json(results)) }
        }
    }

    private var threadCounts: [Int] { threads?.values ?? [ProcessInfo.processInfo.activeProcessorCount] }

    /// Nanoseconds of each repetition of one test.
    private func measure(_ model: Model, threads: Int, prompt: Int, gen: Int, depth: Int) throws -> [UInt64] {
        let session = try Session(model: model, contextLength: depth + prompt + gen, threads: threads, cacheType: cache.cacheType)
        session.batchSize = batchSize
        let vocabulary = model.config.vocabularySize
        let bos = model.tokenizer.special.bos
        func randomToken() -> Int { Int.random(in: 0..<vocabulary) }
        /// `count` tokens: `first`, then random ones.
        func tokens(_ count: Int, first: Int) -> [Int] { [first] + (1..<count).map { _ in randomToken() } }
        /// The context a repetition starts from: empty, or `depth` random tokens (BOS first).
        func fill() throws {
            session.reset()
            if depth > 0 { try session.append(tokens(depth, first: bos ?? randomToken())) }
        }
        func run(prompt: Int, gen: Int) throws {
            let first = depth == 0 ? bos ?? randomToken() : randomToken()
            if prompt > 0 { try session.append(tokens(prompt, first: first)) }
            var token = first
            for _ in 0..<gen {
                try session.append([token])
                token = randomToken()
            }
        }
        if !noWarmup {
            try fill()
            if prompt > 0 { try run(prompt: prompt, gen: 0) }
            if gen > 0 { try run(prompt: 0, gen: 1) }
        }
        return try (0..<repetitions).map { _ in
            try fill()
            let start = DispatchTime.now().uptimeNanoseconds
            try run(prompt: prompt, gen: gen)
            return DispatchTime.now().uptimeNanoseconds - start
        }
    }
}

extension Bench {
    /// Nanoseconds of each repetition of tg with `sequences` sequences decoded together.
    private func measureSequences(_ model: Model, threads: Int, gen: Int, depth: Int, sequences: Int) throws -> [UInt64] {
        let sessions = try (0..<sequences).map { _ in
            try Session(model: model, contextLength: depth + gen, threads: threads, cacheType: cache.cacheType)
        }
        let decoder = try BatchDecoder(model: model, threads: threads)
        let vocabulary = model.config.vocabularySize
        let first = model.tokenizer.special.bos ?? 0
        func randomTokens() -> [Int] { (0..<sequences).map { _ in Int.random(in: 0..<vocabulary) } }
        func fill() throws {
            for session in sessions {
                session.reset()
                if depth > 0 { try session.append([first] + (1..<depth).map { _ in Int.random(in: 0..<vocabulary) }) }
            }
        }
        func run(gen: Int) throws {
            var tokens = depth == 0 ? Array(repeating: first, count: sequences) : randomTokens()
            for _ in 0..<gen {
                try decoder.append(tokens, to: sessions)
                tokens = randomTokens()
            }
        }
        if !noWarmup {
            try fill()
            try run(gen: 1)
        }
        return try (0..<repetitions).map { _ in
            try fill()
            let start = DispatchTime.now().uptimeNanoseconds
            try run(gen: gen)
            return DispatchTime.now().uptimeNanoseconds - start
        }
    }
}

/// A comma-separated list of integers (`-p 128,512`), as llama-bench takes them.
struct IntList: ExpressibleByArgument {
    let values: [Int]
    init(_ values: [Int]) { self.values = values }
    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
        guard !parts.isEmpty, !parts.contains(nil) else { return nil }
        values = parts.map { $0! }
    }
    var defaultValueDescription: String { values.map(String.init).joined(separator: ",") }
}

/// One test's result, with llama-bench's field names.
struct BenchResult: Encodable {
    let model_filename: String
    let model_type: String
    let model_size: Int
    let model_n_params: Int
    let backends = "CPU"
    let n_batch: Int
    let n_threads: Int
    let type_k: String
    let type_v: String
    let n_prompt: Int
    let n_gen: Int
    let n_depth: Int
    /// Sequences decoded together (tg); tokens/s counts every sequence's tokens.
    let n_sequences: Int
    let test_time: String
    let avg_ns: UInt64
    let stddev_ns: UInt64
    let avg_ts: Double
    let stddev_ts: Double
    let samples_ns: [UInt64]
    let samples_ts: [Double]

    init(model: Model, batchSize: Int, threads: Int, cacheType: KVCacheType, prompt: Int, gen: Int, depth: Int,
         sequences: Int = 1, samples: [UInt64]) {
        model_filename = model.path
        model_type = model.typeDescription
        model_size = model.weightByteCount
        model_n_params = model.parameterCount
        n_batch = batchSize
        n_threads = threads
        type_k = cacheType.rawValue
        type_v = cacheType.rawValue
        n_prompt = prompt
        n_gen = gen
        n_depth = depth
        n_sequences = sequences
        let formatter = ISO8601DateFormatter()
        test_time = formatter.string(from: Date())
        samples_ns = samples
        samples_ts = samples.map { 1e9 * Double(prompt + gen * sequences) / Double($0) }
        avg_ns = UInt64(Self.mean(samples.map { Double($0) }))
        stddev_ns = UInt64(Self.standardDeviation(samples.map { Double($0) }))
        avg_ts = Self.mean(samples_ts)
        stddev_ts = Self.standardDeviation(samples_ts)
    }

    static func mean(_ v: [Double]) -> Double { v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count) }

    /// The sample standard deviation (n - 1), 0 for fewer than two samples, as llama-bench.
    static func standardDeviation(_ v: [Double]) -> Double {
        guard v.count > 1 else { return 0 }
        let m = mean(v)
        return (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot()
    }

    var testName: String {
        var test = n_gen == 0 ? "pp\(n_prompt)" : n_prompt == 0 ? "tg\(n_gen)" : "pp\(n_prompt)+tg\(n_gen)"
        if n_sequences > 1 { test += " x\(n_sequences)" }
        return n_depth == 0 ? test : "\(test) @ d\(n_depth)"
    }

    /// llama-bench's markdown columns and widths (negative: left-aligned).
    static let columns: [(String, Int)] = [("model", -30), ("size", 10), ("params", 10), ("backend", -10),
                                           ("threads", 7), ("test", 15), ("t/s", 20)]

    static func row(_ cells: [String]) -> String {
        "| " + zip(cells, columns).map { cell, column in
            let pad = String(repeating: " ", count: max(0, abs(column.1) - cell.count))
            return column.1 < 0 ? cell + pad : pad + cell
        }.joined(separator: " | ") + " |"
    }

    static var tableHeader: String {
        row(columns.map(\.0)) + "\n|" + columns.map { " " + String(repeating: "-", count: abs($0.1) - 1) + ($0.1 < 0 ? "-" : ":") + " |" }.joined()
    }

    var tableRow: String {
        let gib = Double(model_size) / 1024 / 1024 / 1024
        let size = gib < 1 ? String(format: "%.2f MiB", gib * 1024) : String(format: "%.2f GiB", gib)
        let params = model_n_params < 1_000_000_000 ? String(format: "%.2f M", Double(model_n_params) / 1e6)
            : String(format: "%.2f B", Double(model_n_params) / 1e9)
        return Self.row([model_type, size, params, backends, String(n_threads), testName,
                         String(format: "%.2f ± %.2f", avg_ts, stddev_ts)])
    }

    static func json(_ results: [BenchResult]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(results), as: UTF8.self)
    }
}

extension Bench: SharedOptionsHelp {}
