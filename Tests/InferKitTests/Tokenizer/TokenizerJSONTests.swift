import Foundation
import Testing
@testable import InferKit

/// Hugging Face tokenizer.json loading: added tokens and their attributes, BOS/EOS from the
/// post-processor and tokenizer_config.json, and clear errors for broken or unsupported files.
struct TokenizerJSONTests {
    let tiny = TinyTokenizerJSON()

    @Test func mergesByRankWithinWords() throws {
        let tokenizer = try tiny.load()
        let ids = tokenizer.encode("hello world", options: EncodeOptions(addBOS: false))
        #expect(ids == [tiny.id("hell"), tiny.id("o"), tiny.id("Ġwor"), tiny.id("l"), tiny.id("d")])
        #expect(tokenizer.decode(ids) == "hello world")
        #expect(tokenizer.piece(of: tiny.id("Ġwor")) == "Ġwor")
    }

    @Test func templateAddsBOSOnceAndConfigOverridesIt() throws {
        let tokenizer = try tiny.load()
        let bos = tiny.id("<|bos|>")
        #expect(tokenizer.addsBOSByDefault && tokenizer.special.bos == bos)
        #expect(tokenizer.encode("he") == [bos, tiny.id("he")])
        // Text that already starts with BOS does not get a second one.
        #expect(tokenizer.encode("<|bos|>he", options: EncodeOptions(parseSpecial: true)) == [bos, tiny.id("he")])
        #expect(tokenizer.encode("he", options: EncodeOptions(addBOS: false)) == [tiny.id("he")])

        let configured = try tiny.load(config: #"{"add_bos_token": false, "eos_token": {"content": "<|end|>"}, "add_eos_token": true}"#)
        #expect(!configured.addsBOSByDefault)
        #expect(configured.special.eos == tiny.id("<|end|>"))
        #expect(configured.encode("he") == [tiny.id("he"), tiny.id("<|end|>")])
        #expect(configured.special.eot == tiny.id("<|end|>"))
    }

    @Test func specialTokensAreTextUnlessParsed() throws {
        let tokenizer = try tiny.load()
        let plain = tokenizer.encode("<|end|>", options: EncodeOptions(addBOS: false))
        #expect(!plain.contains(tiny.id("<|end|>")))
        #expect(tokenizer.decode(plain) == "<|end|>")
        #expect(tokenizer.encode("<|end|>", options: EncodeOptions(addBOS: false, parseSpecial: true)) == [tiny.id("<|end|>")])
        // A non-special added token is always one token, and decodes to its text.
        let tool = tokenizer.encode("he<tool>he", options: EncodeOptions(addBOS: false))
        #expect(tool == [tiny.id("he"), tiny.id("<tool>"), tiny.id("he")])
        #expect(tokenizer.decode(tool) == "he<tool>he")
        // Control tokens decode to nothing.
        #expect(tokenizer.bytes(of: tiny.id("<|end|>")).isEmpty)
    }

    @Test func addedTokenAttributes() throws {
        let tokenizer = try tiny.load()
        let options = EncodeOptions(addBOS: false, parseSpecial: true)
        // rstrip swallows the whitespace after the token, lstrip the whitespace before it.
        #expect(tokenizer.encode("<|end|>  \n he", options: options) == [tiny.id("<|end|>"), tiny.id("he")])
        #expect(tokenizer.encode("he \t<left>", options: options) == [tiny.id("he"), tiny.id("<left>")])
        // single_word: only where it is not part of a longer word.
        #expect(tokenizer.encode("word", options: options) == [tiny.id("word")])
        #expect(!tokenizer.encode("swords", options: options).contains(tiny.id("word")))
    }

    @Test func loadsFromDirectoryOrFile() throws {
        let directory = try tiny.writeDirectory()
        let fromFile = try TokenizerLoader.load(path: directory + "/tokenizer.json")
        let fromDirectory = try TokenizerLoader.load(path: directory)
        #expect(fromFile.encode("hello") == fromDirectory.encode("hello"))
        #expect(fromFile.vocabularySize == tiny.vocabulary.count + tiny.addedTokens.count)
    }

    @Test func prefixSpaceWhenAsked() throws {
        var prefixed = tiny
        prefixed.preTokenizer = #"{"type": "ByteLevel", "add_prefix_space": true, "use_regex": true}"#
        let tokenizer = try prefixed.load()
        #expect(tokenizer.encode("hello", options: EncodeOptions(addBOS: false)) == [tiny.id("Ġ"), tiny.id("hell"), tiny.id("o")])
        #expect(tokenizer.encode(" wor", options: EncodeOptions(addBOS: false)) == [tiny.id("Ġwor")])
    }

    @Test func normalizesWhenAsked() throws {
        var nfc = tiny
        nfc.normalizer = #"{"type": "NFC"}"#
        let decomposed = "e\u{301}"
        let composed = try nfc.load().encode(decomposed, options: EncodeOptions(addBOS: false))
        #expect(composed == Array("\u{E9}".utf8).map { tiny.id(TinyTokenizerJSON.byteTokens[Int($0)]) })
        let raw = try tiny.load().encode(decomposed, options: EncodeOptions(addBOS: false))
        #expect(raw.count == 3)
    }

    // MARK: broken and unsupported files

    func loadError(_ file: TinyTokenizerJSON) -> String {
        ModelLoadingTests.errorMessage { _ = try file.load() }
    }

    func loadError(json: String) -> String {
        ModelLoadingTests.errorMessage { _ = try TokenizerLoader.load(path: try TemporaryFile.write(Array(json.utf8), name: "tokenizer.json")) }
    }

    @Test func refusesMissingOrBrokenMerges() {
        let json = tiny.json()
        let noMerges = json.replacingOccurrences(of: #""merges": ["#, with: #""unused": ["#)
        #expect(loadError(json: noMerges).contains("model.merges is missing"))
        var unknown = tiny
        unknown.merges.append("x zz")
        #expect(loadError(unknown).contains("model.merges[6] 'x zz' needs 'zz', which is not in the vocabulary"))
        var noSpace = tiny
        noSpace.merges[0] = "he"
        #expect(loadError(noSpace).contains("model.merges[0] is not two tokens separated by a space"))
    }

    @Test func refusesIdsOutOfRange() {
        let json = tiny.json()
        #expect(loadError(json: json.replacingOccurrences(of: #""or": 260"#, with: #""or": 9999"#))
            .contains(#"model.vocab["or"] = 9999 is out of range (the vocabulary has 267 tokens)"#))
        #expect(loadError(json: json.replacingOccurrences(of: #""or": 260"#, with: #""or": 259"#))
            .contains("token id 259 appears twice in model.vocab"))
        #expect(loadError(json: json.replacingOccurrences(of: #"{"id": 266,"#, with: #"{"id": -3,"#))
            .contains("added_tokens[4] id -3 is out of range"))
        #expect(loadError(json: json.replacingOccurrences(of: #""or": 260"#, with: #""or": "x""#))
            .contains(#"model.vocab["or"] is not a token id"#))
    }

    @Test func refusesInvalidJSONWithoutCrashing() throws {
        let json = Array(tiny.json().utf8)
        for length in stride(from: 0, to: json.count, by: 97) {
            let message = ModelLoadingTests.errorMessage {
                _ = try json.prefix(length).withUnsafeBytes { try HFTokenizerJSON.load(json: $0, config: nil, path: "t.json") }
            }
            #expect(message.contains("t.json"))
        }
        #expect(loadError(json: "{\"model\": ").contains("not valid JSON: unexpected end of JSON at byte 10"))
        #expect(loadError(json: "{\"a\": \"\u{1}\"}").contains("control character in a string"))
        #expect(loadError(json: #"{"a": "\ud800"}"#).contains("unpaired surrogate escape"))
        let invalidUTF8 = Array(#"{"a": ""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        #expect(ModelLoadingTests.errorMessage { _ = try TokenizerLoader.load(path: try TemporaryFile.write(invalidUTF8, name: "tokenizer.json")) }
            .contains("string is not valid UTF-8"))
        let deep = String(repeating: "[", count: 10_000)
        #expect(loadError(json: "{\"a\": \(deep)").contains("nested deeper than 256"))
    }

    @Test func namesWhatIsUnsupported() {
        var unigram = tiny
        unigram.modelType = "Unigram"
        #expect(loadError(unigram).contains("unsupported: tokenizer model 'Unigram'"))
        var regex = tiny
        regex.preTokenizer = #"{"type": "Split", "pattern": {"Regex": "\\w+|\\d"}, "behavior": "Isolated", "invert": false}"#
        #expect(loadError(regex).contains(#"unsupported: pre-tokenizer regex \w+|\d"#))
        var metaspace = tiny
        metaspace.preTokenizer = #"{"type": "Metaspace", "replacement": "▁"}"#
        #expect(loadError(metaspace).contains("unsupported: pre-tokenizer 'Metaspace'"))
        var normalizer = tiny
        normalizer.normalizer = #"{"type": "Precompiled", "precompiled_charsmap": ""}"#
        #expect(loadError(normalizer).contains("unsupported: normalizer 'Precompiled'"))
        var noByteLevel = tiny
        noByteLevel.preTokenizer = #"{"type": "Digits", "individual_digits": true}"#
        #expect(loadError(noByteLevel).contains("without a ByteLevel pre-tokenizer"))
    }
}
