import Foundation
import Testing

/// `infer chat` with no model uses the default model linked into the binary.
struct DefaultModelCommandTests {
    static let modelFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Models/horatio-q8_0.gguf").path

    @Test func chatWithoutAModelUsesTheBuiltInOne() throws {
        let input = "What news, my friend?\nWho is there?\n"
        let builtIn = try InferBinary.run(["chat", "-t", "0", "-n", "40"], stdin: input)
        #expect(builtIn.status == 0, "\(builtIn.stderr)")
        let answers = builtIn.stdout.split(separator: "\n")
        #expect(answers.count == 2 && answers.allSatisfy { !$0.isEmpty })
        // The linked bytes are the committed file: same answers.
        let fromFile = try InferBinary.run(["chat", Self.modelFile, "-t", "0", "-n", "40"], stdin: input)
        #expect(fromFile.status == 0 && fromFile.stdout == builtIn.stdout)
        // It has its own chat template, so no fallback note.
        #expect(!builtIn.stderr.contains("no chat template"))
    }

    @Test func tokenizerWithoutAModelIsAnError() throws {
        let result = try InferBinary.run(["chat", "-z", "tokenizer.bin"], stdin: "Hi\n")
        #expect(result.status == 1 && result.stderr.contains("--tokenizer needs a model file"))
    }
}
