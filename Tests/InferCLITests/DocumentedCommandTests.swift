import Foundation
import Testing

/// Every `infer <command>` the docs show still exists: llms.txt, README.md and docs/*.md are
/// read as people and agents read them, and each subcommand named in their code (fenced blocks
/// and inline code) must parse (`infer <command> --help` exits 0 with that command's usage).
struct DocumentedCommandTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static var documents: [URL] {
        let docs = repository.appendingPathComponent("docs")
        let pages = ((try? FileManager.default.contentsOfDirectory(at: docs, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension == "md" }
            .sorted { $0.path < $1.path }
        return [repository.appendingPathComponent("llms.txt"), repository.appendingPathComponent("README.md")] + pages
    }

    /// The code of a Markdown text: its fenced blocks and its inline code spans.
    static func code(of markdown: String) -> [String] {
        var spans: [String] = []
        var prose: [Substring] = []
        var fenced: [Substring]?
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") {
                if let block = fenced {
                    spans.append(block.joined(separator: "\n"))
                    fenced = nil
                } else {
                    fenced = []
                }
            } else if fenced != nil {
                fenced!.append(line)
            } else {
                prose.append(line)
            }
        }
        // Inline code may run over a line break: the spans are read from the prose as a whole.
        let parts = prose.joined(separator: "\n").split(separator: "`", omittingEmptySubsequences: false)
        spans += stride(from: 1, to: parts.count - 1, by: 2).map { String(parts[$0]) }
        return spans
    }

    /// The subcommands named in `code`: the word after `infer` (or a path ending in `/infer`).
    static func subcommands(in code: String) -> Set<String> {
        let pattern = /(?:^|[\s\/$(|])infer[ \t]+([a-z][a-z-]*)/
        return Set(code.matches(of: pattern.anchorsMatchLineEndings()).map { String($0.output.1) })
    }

    @Test func codeAndSubcommandsAreFound() {
        let markdown = "Run `infer info MODEL` or\n```sh\n$ .build/release/infer generate m.gguf | infer tokenize x\n```\ninfer loads files; `infer-example`"
        let found = Self.code(of: markdown).map(Self.subcommands).reduce(Set<String>()) { $0.union($1) }
        #expect(found == ["info", "generate", "tokenize"])
    }

    @Test func everyDocumentedSubcommandParses() throws {
        var named: [String: [String]] = [:]
        for document in Self.documents {
            let text = try String(contentsOf: document, encoding: .utf8)
            for command in Self.code(of: text).map(Self.subcommands).reduce(Set<String>(), { $0.union($1) }) {
                named[command, default: []].append(document.lastPathComponent)
            }
        }
        #expect(named.keys.contains("chat") && named.keys.contains("serve"), "\(named)")
        for (command, documents) in named.sorted(by: { $0.key < $1.key }) {
            let result = try InferBinary.run([command, "--help"], timeout: 60)
            // An unknown subcommand with --help prints the top-level help and exits 0 too: the
            // usage line tells them apart.
            let place = "infer \(command) --help (named in \(documents.joined(separator: ", ")))"
            #expect(result.status == 0, "\(place): \(result.stderr)")
            #expect(result.stdout.contains("USAGE: infer \(command) "), "\(place) is not a subcommand: \(result.stdout)")
        }
    }
}
