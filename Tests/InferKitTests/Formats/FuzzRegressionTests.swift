import Foundation
import Testing
@testable import InferKit

/// The inputs the fuzz harnesses found that crashed infer, hung it or ran it out of memory,
/// kept in Tests/Fuzz/Regressions/<harness>/ (see Tests/Fuzz/README.md). Each is read here the
/// way its harness reads it, without the fuzzer: every one must end in a clear error, quickly.
/// `make fuzz-smoke` also replays them through the harnesses themselves, under the sanitizers.
struct FuzzRegressionTests {
    static let directory = TestPaths.tests.appendingPathComponent("Fuzz/Regressions").path

    /// The committed inputs of one harness.
    static func inputs(_ harness: String) -> [String] {
        let folder = directory + "/" + harness
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.sorted().map { folder + "/" + $0 }
    }

    /// How long "quickly" is: a second, or ten under a sanitizer (`make sanitize`), which slows
    /// everything several times over.
    static let quickLimit: Duration = ProcessInfo.processInfo.environment["INFER_SANITIZER"] == nil ? .seconds(1) : .seconds(10)

    /// Runs `body` and checks it took less than `quickLimit` (a hang was the finding for some).
    static func quickly<T>(_ input: String, _ body: () throws -> T) rethrows -> T {
        let start = ContinuousClock.now
        defer {
            let elapsed = ContinuousClock.now - start
            #expect(elapsed < quickLimit, "\(input) took \(elapsed)")
        }
        return try body()
    }

    @Test func llama2CModelHeadersAreCheckedAgainstTheFileBeforeAnythingIsSizedByThem() throws {
        let inputs = Self.inputs("fuzz-llama2c-model")
        #expect(!inputs.isEmpty)
        for input in inputs {
            let error = Self.quickly(input) { #expect(throws: InferError.self) { try Model(path: input) } }
            #expect(error.map { "\($0)".contains(input) } ?? false, "\(String(describing: error))")
        }
    }

    @Test func aGGUFBlockCountIsCheckedAgainstTheFileBeforeAnythingIsSizedByIt() throws {
        // The finding: a 23 KB file whose block_count made the reader reserve 5.3 GB of layers
        // before it looked for their tensors.
        let input = Self.directory + "/fuzz-gguf/block-count-sizes-5-gb-of-layers.gguf"
        let error = Self.quickly(input) { #expect(throws: InferError.self) { try Model(path: input) } }
        #expect("\(String(describing: error))".contains("block_count"), "\(String(describing: error))")
    }

    @Test func aGGUFTensorsRowsAreCountedWhenItsFirstDimensionIsZero() throws {
        // The finding (through fuzz-llama2c-model, which loads any model file): a tensor of shape
        // [0, 2^31-1, 2^31-1, …] has no elements, so it passed the element count's bound, and
        // multiplying its other dimensions into a row count trapped on overflow.
        let input = Self.directory + "/fuzz-llama2c-model/gguf-rows-overflow-after-a-zero-dimension.gguf"
        let error = Self.quickly(input) { #expect(throws: InferError.self) { try Model(path: input) } }
        #expect("\(String(describing: error))".contains("has an absurd row count"), "\(String(describing: error))")
    }

    @Test func aHeaderClaimingMillionsOfLayersIsCorrupt() throws {
        // The finding (v2-header-claims-16m-layers.bin) claimed ~16 million layers, and the loader
        // listed 113 million matrices before it compared the weights with the file's 64 bytes.
        // Headers whose sizes do not even fit in an Int, in each version:
        let huge: [Int32] = [1 << 24, 1 << 24, 1 << 24, 1, 1, 1 << 24, 1 << 24]
        let versions: [[UInt8]] = [
            [],  // version 0: the header alone
            Array("24ka".utf8) + le(1),
            Array("24ka".utf8) + le(2),
        ]
        for (version, prefix) in versions.enumerated() {
            var bytes = prefix + huge.flatMap(le)
            if version > 0 { bytes += [0] + (version == 2 ? le(64) : []) }
            bytes += [UInt8](repeating: 0, count: 256)
            let path = try TemporaryFile.write(bytes, name: "huge-v\(version).bin")
            let error = Self.quickly(path) { #expect(throws: InferError.self) { try Model(path: path) } }
            #expect("\(String(describing: error))".contains("its header describes more weights than any file can hold"),
                    "version \(version): \(String(describing: error))")
        }
    }
}

extension FuzzRegressionTests {
    /// A fuzz-tokenizer-json input as the files it stands for: the tokenizer.json, then after
    /// a 0xFF byte the tokenizer_config.json, in a directory of their own.
    static func tokenizerDirectory(_ input: String) throws -> String {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: input)))
        let directory = TemporaryFile.directory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let cut = bytes.firstIndex(of: 0xFF)
        try Data(bytes[..<(cut ?? bytes.endIndex)]).write(to: directory.appendingPathComponent("tokenizer.json"))
        if let cut {
            try Data(bytes[(cut + 1)...]).write(to: directory.appendingPathComponent("tokenizer_config.json"))
        }
        return directory.path
    }

    @Test func tokenizerJSONFilesLoadWithIdsInsideTheirVocabularyOrFail() throws {
        let inputs = Self.inputs("fuzz-tokenizer-json")
        #expect(!inputs.isEmpty)
        for input in inputs {
            let directory = try Self.tokenizerDirectory(input)
            Self.quickly(input) {
                do {
                    let tokenizer = try TokenizerLoader.load(path: directory)
                    for text in ["", "Hello world", "<|bos|><|end|>"] {
                        let ids = tokenizer.encode(text, options: EncodeOptions(parseSpecial: true))
                        #expect(ids.allSatisfy { (0..<tokenizer.vocabularySize).contains($0) }, "\(input): \(ids)")
                    }
                } catch {
                    #expect(error is InferError, "\(input): \(error)")
                }
            }
        }
    }

    @Test func postProcessorIdsOutsideTheVocabularyAreRefused() throws {
        // The finding: a BertProcessing post-processor naming ids 262 and 263 in a vocabulary of
        // 262 (its added_tokens key misspelt), so every encoding began with id 262, which the
        // model's embedding lookup would read past its end.
        let input = Self.directory + "/fuzz-tokenizer-json/bert-post-processor-ids-outside-the-vocabulary.json"
        #expect {
            try TokenizerLoader.load(path: try Self.tokenizerDirectory(input))
        } throws: { error in
            "\(error)".contains("post_processor's first special token has id 262, outside the vocabulary of 262 tokens")
        }
        // The same with each kind of post-processor, and a template naming an id directly.
        var tokenizer = TinyTokenizerJSON()
        for processor in [
            #"{"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 99999]}"#,
            #"{"type": "BertProcessing", "sep": ["[SEP]", -1], "cls": ["[CLS]", 0]}"#,
            #"{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|bos|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "pair": [], "special_tokens": {"<|bos|>": {"id": "<|bos|>", "ids": [128000], "tokens": ["<|bos|>"]}}}"#,
        ] {
            tokenizer.postProcessor = processor
            #expect(throws: InferError.self, "\(processor)") { try tokenizer.load() }
        }
    }
}

/// The little-endian bytes of `value`.
private func le(_ value: Int32) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian, Array.init)
}

extension FuzzRegressionTests {
    @Test func committedTemplatesRenderOrFailQuickly() throws {
        // Rendered as fuzz-jinja renders them: the harness's step limit, the other limits as
        // `infer` runs; an error is a fine outcome, seconds are not.
        let inputs = Self.inputs("fuzz-jinja")
        #expect(!inputs.isEmpty)
        for input in inputs {
            let source = String(decoding: try Data(contentsOf: URL(fileURLWithPath: input)), as: UTF8.self)
            Self.quickly(input) {
                do {
                    let template = try ChatTemplate(source: source, limits: ChatTemplate.Limits(maxSteps: 200_000))
                    _ = try template.render(messages: [.system("Be terse."), .user("Hi"), .assistant("Hello.")],
                                            addGenerationPrompt: true)
                } catch {
                    #expect(error is ChatTemplateError, "\(input): \(error)")
                }
            }
        }
    }
}
