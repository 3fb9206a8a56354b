import Foundation
import Testing

/// `infer bench` and `infer perplexity` run as a user runs them.
@Suite(.enabled(if: InferBinary.sharedAvailable, "shared test data not found: set INFER_SHARED (default ../shared)"))
struct BenchPerplexityCommandTests {
    static let model = InferBinary.shared("models/stories260K.gguf")
    static let story = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("InferKitTests/Fixtures/perplexity-story.txt").path

    @Test func benchPrintsLlamaBenchTable() throws {
        let result = try InferBinary.run(["bench", Self.model, "-p", "16", "-n", "4", "-t", "1,2", "-r", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 6)
        #expect(lines.first?.hasPrefix("| model ") == true && lines.first?.contains("| threads |") == true)
        let rows = lines.dropFirst(2).map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }
        #expect(rows.map { [$0[4], $0[5]] } == [["1", "pp16"], ["1", "tg4"], ["2", "pp16"], ["2", "tg4"]])
        for row in rows {
            #expect(row[0] == "llama 293K F32")
            #expect(row[6].contains(" ± "))
        }
    }

    @Test func benchJSONHasLlamaBenchFields() throws {
        let result = try InferBinary.run(["bench", Self.model, "-p", "8", "-n", "3", "-t", "1", "-r", "3", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let tests = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(tests.count == 2)
        #expect(tests.map { $0["n_prompt"] as? Int } == [8, 0])
        #expect(tests.map { $0["n_gen"] as? Int } == [0, 3])
        for test in tests {
            #expect(test["model_type"] as? String == "llama 293K F32")
            #expect(test["n_threads"] as? Int == 1)
            #expect((test["model_size"] as? Int ?? 0) > 1_000_000)
            #expect((test["avg_ts"] as? Double ?? 0) > 0)
            #expect(test["stddev_ts"] is Double)
            #expect((test["samples_ns"] as? [Int])?.count == 3)
        }
    }

    @Test func benchRefusesBadArguments() throws {
        let result = try InferBinary.run(["bench", Self.model, "-r", "0"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--repetitions must be at least 1"))
        let depth = try InferBinary.run(["bench", Self.model, "-d", "2,-1"])
        #expect(depth.status != 0)
        #expect(depth.stderr.contains("cannot be negative"))
    }

    /// -d as llama-bench's: every test again with that many tokens already in the context.
    @Test func benchRunsTestsAtADepth() throws {
        let table = try InferBinary.run(["bench", Self.model, "-p", "4", "-n", "3", "-d", "0,100", "-t", "1", "-r", "1"])
        #expect(table.status == 0, "\(table.stderr)")
        let names = table.stdout.split(separator: "\n").dropFirst(2).map { $0.split(separator: "|")[5].trimmingCharacters(in: .whitespaces) }
        #expect(names == ["pp4", "tg3", "pp4 @ d100", "tg3 @ d100"])
        let json = try InferBinary.run(["bench", Self.model, "-p", "0", "-n", "3", "-d", "100", "-t", "1", "-r", "2", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let tests = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(tests.map { $0["n_depth"] as? Int } == [100])
        #expect(tests.map { $0["n_gen"] as? Int } == [3])
        #expect((tests.first?["samples_ns"] as? [Int])?.count == 2)
    }

    @Test func perplexityPrintsRunningValuesAndFinalEstimate() throws {
        let result = try InferBinary.run(["perplexity", Self.model, "-f", Self.story, "-c", "128"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("[1]") == true && lines.first?.contains(",[17]4.78") == true)
        // llama-perplexity's line; the value is checked against llama.cpp's in InferKitTests.
        let final = try #require(lines.last?.wholeMatch(of: /Final estimate: PPL = (\d+\.\d{4}) \+\/- (\d+\.\d{5})/))
        #expect(abs(Double(final.1)! - 4.7813) < 0.001 && abs(Double(final.2)! - 0.26336) < 0.001)
    }

    @Test func perplexityNeedsTwoContextsOfText() throws {
        let result = try InferBinary.run(["perplexity", Self.model, "--file", Self.story, "--ctx", "2048"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("a context of 2048 needs at least 4096"))
    }
}
