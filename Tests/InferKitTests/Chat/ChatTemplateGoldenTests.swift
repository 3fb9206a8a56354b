import Foundation
import Testing
@testable import InferKit

/// Every shared chat template rendered for every conversation of
/// Fixtures/template-goldens.json, compared byte for byte with what Jinja2 (configured as
/// transformers configures it) produced; where Jinja2 raised, infer must raise too.
/// Regenerate the goldens with `python3 Tests/InferKitTests/Fixtures/make_template_goldens.py`.
@Suite(.enabled(if: SharedData.available, SharedData.missingMessage))
struct ChatTemplateGoldenTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let template: String
        let name: String
        var testDescription: String { "\(template) / \(name)" }
    }

    static let goldens: JSONValue? = {
        let path = TestPaths.target
            .appendingPathComponent("Fixtures/template-goldens.json").path
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONValue(parsing: String(decoding: data, as: UTF8.self))
    }()

    static var templates: [JSONValue] { goldens?["templates"]?.array ?? [] }

    static let cases: [Case] = templates.flatMap { template -> [Case] in
        guard let path = template["path"]?.string, let renders = template["renders"]?.object else { return [] }
        return renders.keys.map { Case(template: path, name: $0) }
    }

    /// The golden's fixed `strftime_now` time, as a local time like Python's naive datetime.
    static func fixedNow() throws -> Date {
        let text = try #require(goldens?["strftime_now"]?.string)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone.current
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return try #require(formatter.date(from: text))
    }

    /// FNV-1a 64 of the UTF-8 bytes, as the generator computes it.
    static func fnv1a64(_ text: String) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    static func templateEntry(_ path: String) throws -> JSONValue {
        try #require(templates.first { $0["path"]?.string == path })
    }

    @Test func goldensAreLoaded() throws {
        #expect(Self.cases.count >= 200, "Fixtures/template-goldens.json is missing or unreadable")
    }

    @Test func everySharedTemplateHasGoldens() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: SharedData.path("templates"))
            .filter { $0.hasSuffix(".jinja") }
        let covered = Set(Self.templates.compactMap { $0["path"]?.string })
        for file in files {
            #expect(covered.contains("templates/\(file)"), "no goldens for templates/\(file): rerun make_template_goldens.py")
        }
    }

    @Test(arguments: cases)
    func rendersLikeJinja2(_ c: Case) throws {
        let entry = try Self.templateEntry(c.template)
        let file = try ChatTemplateFile.load(path: SharedData.path(c.template))
        let source = try #require(file.template)
        #expect(Self.fnv1a64(source) == entry["fnv1a64"]?.string,
                "\(c.template) changed since the goldens were made: rerun make_template_goldens.py")
        let golden = try #require(entry["renders"]?[c.name])
        let conversation = try #require(Self.goldens?["cases"]?.array?.first { $0["name"]?.string == c.name })
        let messages = try (conversation["messages"]?.array ?? []).map(ChatMessage.init(json:))
        let extra = Dictionary(uniqueKeysWithValues: (conversation["extra"]?.object ?? JSONObject()).map { ($0.key, $0.value) })
        let render = {
            try ChatTemplate(source: source).render(
                messages: messages,
                addGenerationPrompt: conversation["add_generation_prompt"] == .bool(true),
                bosToken: entry["bos_token"]?.string ?? "", eosToken: entry["eos_token"]?.string ?? "",
                tools: conversation["tools"]?.array, extra: extra, now: try Self.fixedNow())
        }
        if let expected = golden["output"]?.string {
            let output = try render()
            #expect(output == expected)
        } else {
            let error = try #require(golden["error"])
            let thrown = #expect(throws: ChatTemplateError.self, "Jinja2 raised \(error["type"]?.string ?? "") \(error["message"]?.string ?? "")") {
                try render()
            }
            // raise_exception's message is the template's own: it must come through intact.
            if error["type"]?.string == "TemplateError" {
                #expect(thrown?.kind == .raised)
                #expect(thrown?.message == error["message"]?.string)
            }
        }
    }

    @Test func configWithoutChatTemplateHasNone() throws {
        let entry = try Self.templateEntry("tokenizers/llama3/tokenizer_config.json")
        #expect(entry["chat_template"] == .null)
        let file = try ChatTemplateFile.load(path: SharedData.path("tokenizers/llama3/tokenizer_config.json"))
        #expect(file.template == nil)
        #expect(file.bosToken == entry["bos_token"]?.string)
        #expect(file.eosToken == entry["eos_token"]?.string)
    }
}
