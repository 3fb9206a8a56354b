import Foundation
@testable import InferKit

/// Random sentences of a grammar: a walk through its automaton that picks each next byte
/// among those the grammar allows, favouring the ones that close strings and structures so
/// that walks end. Used to check that everything a grammar allows is what its source (a
/// JSON Schema, a regular expression) allows.
enum RandomSentences {
    static func draw(_ grammar: Grammar, seed: UInt64, count: Int, maxBytes: Int = 6000) -> [String] {
        var random = SplitMix64(seed: seed)
        let automaton = GrammarAutomaton(grammar.compiled)
        var sentences: [String] = []
        var attempts = 0
        while sentences.count < count && attempts < count * 5 {
            attempts += 1
            if let sentence = walk(automaton, &random, maxBytes: maxBytes) { sentences.append(sentence) }
        }
        return sentences
    }

    private static func walk(_ automaton: GrammarAutomaton, _ random: inout SplitMix64, maxBytes: Int) -> String? {
        var state = automaton.start
        var bytes: [UInt8] = []
        while bytes.count < maxBytes {
            if automaton.isFinished(state) { break }
            if automaton.isAccepting(state) && random.next() % 3 == 0 { break }
            var options: [(byte: UInt8, weight: Double)] = []
            for byte in 0...255 where automaton.step(state, UInt8(byte)) != GrammarAutomaton.dead {
                options.append((UInt8(byte), weight(UInt8(byte))))
            }
            guard !options.isEmpty else { return nil }
            var target = random.nextUnitDouble() * options.reduce(0) { $0 + $1.weight }
            var chosen = options[options.count - 1].byte
            for option in options {
                target -= option.weight
                if target < 0 {
                    chosen = option.byte
                    break
                }
            }
            bytes.append(chosen)
            state = automaton.step(state, chosen)
        }
        guard automaton.isAccepting(state) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func weight(_ byte: UInt8) -> Double {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: ","): return 8
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return 1
        case UInt8(ascii: " "): return 0.5
        case UInt8(ascii: "\\"), UInt8(ascii: "\n"), UInt8(ascii: "\t"): return 0.2
        case 0x80...: return 0.3
        default: return 0.5
        }
    }
}

/// Python's `jsonschema`, as an independent judge of JSON documents (format checks on).
enum PythonJSONSchema {
    static let available: Bool = run(["-c", "import jsonschema"], input: nil).status == 0

    static let missingMessage = "python3 with the jsonschema package not found"

    /// For each (schema, document): nil when it parses and validates, else the reason.
    static func validate(_ cases: [(schema: String, document: String)]) throws -> [String?] {
        let script = """
            import json, sys, jsonschema
            results = []
            for case in json.load(sys.stdin):
                try:
                    schema = json.loads(case["schema"])
                    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
                    validator.validate(json.loads(case["document"]))
                    results.append(None)
                except Exception as error:
                    results.append(type(error).__name__ + ": " + str(error).split("\\n")[0])
            json.dump(results, sys.stdout)
            """
        let input = JSONValue.array(cases.map { .object(JSONObject([("schema", .string($0.schema)), ("document", .string($0.document))])) }).jsonText
        let (status, output) = run(["-c", script], input: input)
        guard status == 0, let results = try JSONValue(parsing: output).array else {
            throw InferError.invalidArgument("python3 failed: \(output)")
        }
        return results.map(\.string)
    }

    private static func run(_ arguments: [String], input: String?) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        do { try process.run() } catch { return (-1, "\(error)") }
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try? stdin.fileHandleForWriting.close()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
